"""What the widgets send and keep: comm bytes per update, and opening a large history.

- bytes over the comm when one task of a gallery of 0, 100 and 500 runs makes progress,
  beside the old design's figure measured in the same run (the whole card list resent);
- `Gallery.from_history()` on a 10,000-run history: seconds, and the initial widget state
  (gallery and its cards), beside reading every run of the same store.

All in process: widgets without a front end still serialize every message for their comm,
which is what is counted. No network: trackers here never poll.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._common import say

RUNS = (0, 100, 500)
HISTORY_RUNS = 10_000


def _size(data: Any, buffers: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), default=str)) + sum(
        len(memoryview(b).cast("B")) for b in buffers or ())


@contextlib.contextmanager
def _counting() -> Iterator[list[int]]:
    """Count the bytes every widget comm sends while the block runs."""
    from ipywidgets import Widget

    sent: list[int] = []
    original = Widget._send

    def counted(self: Any, msg: Any, buffers: Any = None) -> Any:
        sent.append(_size(msg, buffers))
        return original(self, msg, buffers)

    Widget._send = counted  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        Widget._send = original  # type: ignore[method-assign]


def _client() -> Any:
    from .._client import AsyncSeedanceClient

    # Never contacted: the trackers below are not followable, so nothing polls.
    return AsyncSeedanceClient("sk-bench-unused", "http://127.0.0.1:9", history=False)


def _task(i: int) -> Any:
    from .._request import VideoRequest
    from .._task import Task

    req = VideoRequest(model="seedance-2.0-fast", duration=5, seed=i, resolution="720p",
                       prompt=f"a paper boat drifting down a rainy street, neon, take {i}")
    return Task(id=f"ldtask_{i:032x}", status="completed", progress=100, request=req,
                created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                video_url=f"https://files.example/{i}.mp4?sig=abcdef", model=req.model)


def update_bytes() -> dict[str, Any]:
    from ..widgets import Gallery
    from ..widgets._tracker import TaskTracker

    client = _client()
    ours: dict[str, int] = {}
    old: dict[str, int] = {}
    add: dict[str, int] = {}
    for n in RUNS:
        gallery = Gallery(client=client, history=False)
        for i in range(n):
            tracker = TaskTracker(client, _task(i))
            tracker.followable = False
            gallery.add(tracker)
        moving = TaskTracker(client, _task(n).model_copy(update={"status": "processing",
                                                                  "progress": 10}))
        moving.followable = False
        with _counting() as sent:
            gallery.add(moving)
        add[str(n)] = sum(sent)
        with _counting() as sent:
            moving._update(moving.task.model_copy(update={"progress": 42, "eta_seconds": 7.0}))
        ours[str(n)] = sum(sent)
        # The old design: every card rebuilt and the whole list resent on every tick.
        old[str(n)] = len(json.dumps({"method": "update", "state": {"tasks": gallery.tasks}},
                                     separators=(",", ":"), default=str))
        for card in gallery.cards:
            card.close()
        gallery.close()
        say(f"update bytes at {n} runs: {ours[str(n)]} B (old design {old[str(n)]} B)")
    return {"update_bytes": ours, "update_bytes_old_design_baseline": old,
            "update_detail": {"adding_a_run_bytes": add,
                              "what": "one progress tick of one task; adding a run resends "
                                      "the gallery's list of card references"}}


def _fill(store: Any, n: int, server: str) -> None:
    for i in range(n):
        task = _task(i)
        store.created(task.model_copy(update={"status": "pending"}), attempt=None,
                      server=server, request=task.request.to_body(), fingerprint=f"{i:016x}")
        store.record(task)


def from_history(n: int = HISTORY_RUNS) -> dict[str, Any]:
    from ..widgets import Gallery

    with tempfile.TemporaryDirectory() as tmp:
        from ..history import History

        store = History(Path(tmp) / "history.sqlite3")
        client = _client()
        t0 = time.perf_counter()
        _fill(store, n, client.server_label)
        say(f"history of {n} runs written in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        gallery = Gallery.from_history(client, history=store)
        seconds = time.perf_counter() - t0
        state = len(json.dumps(gallery.get_state(), default=str)) - len(gallery._esm)
        state += sum(len(json.dumps(c.get_state(), default=str)) for c in gallery.cards)
        shown = len(gallery.cards)
        t0 = time.perf_counter()
        every = store.entries()
        read_all = time.perf_counter() - t0
        for card in gallery.cards:
            card.close()
        gallery.close()
    return {"from_history_s": round(seconds, 3), "from_history_state_bytes": state,
            "from_history_detail": {"runs": n, "cards_shown": shown,
                                    "baseline_read_every_run_s": round(read_all, 3),
                                    "baseline_runs_read": len(every)}}
