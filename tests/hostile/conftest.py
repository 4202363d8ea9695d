"""Fixtures of the hostile suite: a scripted server per test and clients pointed at it."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_widgets import AsyncSeedanceClient, History, RetryPolicy, Task, VideoRequest

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
def journal(tmp_path: Path) -> History:
    return History(tmp_path / "history" / "history.sqlite3")  # in its own folder


def client(server: HostileServer, journal: History | None = None, **kw: Any
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


# What the history recorded, read one way for the whole suite: these helpers are all that
# know the store's shape.
def recorded_ids(journal: History) -> list[str]:
    """Ids of the tasks recorded as created."""
    return [e.id for e in journal.entries()]


def ambiguous_prints(journal: History) -> list[str]:
    """Fingerprints of the creates recorded as ambiguous."""
    return [str(r.fingerprint) for r in journal.ambiguous_submits()]


def recorded_values(journal: History, key: str) -> list[Any]:
    """Every value of `key` the history holds for any task (None left out)."""
    return [v for e in journal.entries() if (v := getattr(e, key, None)) is not None]


def record_created(journal: History, tid: str, server: str, request: dict[str, Any]) -> None:
    """A task recorded as created earlier (by an older version, say)."""
    journal.created(Task(id=tid), attempt=None, server=server, request=request,
                    fingerprint="f" * 16)


def recorded_anything(journal: History) -> bool:
    return bool(journal.entries() or journal.submits())


def journal_text(journal: History) -> str:
    """Everything the history keeps (the database and its blobs), as text: for leak checks."""
    if not journal.path.exists():
        return ""
    with contextlib.closing(sqlite3.connect(journal.path)) as con:
        parts = list(con.iterdump())
    blobs = journal.path.parent / "blobs"
    parts += [f.read_bytes().decode("utf-8", "replace") for f in blobs.rglob("*") if f.is_file()]
    return "\n".join(parts)
