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
    return Journal(tmp_path / "journal.jsonl")


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


def journal_text(journal: Journal) -> str:
    return journal.path.read_text() if journal.path.exists() else ""
