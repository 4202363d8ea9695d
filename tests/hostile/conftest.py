"""Fixtures of the hostile suite: a scripted server per test and clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_widgets import AsyncSeedanceClient, Journal, RetryPolicy, VideoRequest

from .server import HostileServer, Reply

KEY = "sk-hostile-0123456789abcdefghijklmnop"
FAST = RetryPolicy(max_attempts=3, base=0.01, cap=0.05)
REQ = VideoRequest(model="seedance-2.0-fast", prompt="a fox in the snow", duration=4)
CREATE = "/v1/videos/generations"
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"v" * 4000


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "history" / "journal.jsonl")  # its own folder


def client(server: HostileServer, journal: Journal | None = None, **kw: Any
           ) -> AsyncSeedanceClient:
    kw.setdefault("retry", FAST)
    return AsyncSeedanceClient(kw.pop("api_key", KEY), server.base_url,
                               journal=journal if journal is not None else False, **kw)


def task_body(tid: str = "t1", status: str = "pending", **extra: Any) -> dict[str, Any]:
    return {"id": tid, "task_id": tid, "status": status, **extra}


def done_body(server: HostileServer, tid: str = "t1", **extra: Any) -> dict[str, Any]:
    """A completed task whose video is served by the same scripted server under /cdn/."""
    return task_body(tid, "completed", progress=100,
                     video_url=f"{server.base_url}/cdn/{tid}.mp4", **extra)


def serve_video(server: HostileServer, body: bytes = VIDEO) -> None:
    server.route("GET", "/cdn/", Reply(body=body, headers={"Content-Type": "video/mp4"}))


# What the history recorded, read one way for the whole suite (the store behind `Journal` may
# change; these five helpers are all that know its shape).
def recorded_ids(journal: Journal) -> list[str]:
    """Ids of the tasks recorded as created, oldest first."""
    return [e.id for e in journal.entries()]


def ambiguous_prints(journal: Journal) -> list[str]:
    """Fingerprints of the creates recorded as ambiguous."""
    return [r["fingerprint"] for r in journal.ambiguous_submits()]


def recorded_values(journal: Journal, key: str) -> list[Any]:
    """Every value of `key` the history holds for any task."""
    return [r[key] for r in journal.records() if key in r]


def record_created(journal: Journal, tid: str, server: str, request: dict[str, Any]) -> None:
    """A task recorded as created earlier (by an older version, say)."""
    journal.created(task_id=tid, server=server, fingerprint="f" * 16, request=request)


def recorded_anything(journal: Journal) -> bool:
    return journal.path.exists() and bool(list(journal.records()))


def journal_text(journal: Journal) -> str:
    """Everything the history keeps, as text (for leak checks)."""
    return journal.path.read_text() if journal.path.exists() else ""
