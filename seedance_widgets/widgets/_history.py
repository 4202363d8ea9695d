"""What the gallery reads from the task history (`seedance_widgets.history`): pages, counts,
the unfinished tasks of this server, stars and notes.

It never raises: a history that is off or cannot be read is reported as `problem`, the gallery
shows what this session made, and stars and notes then last for the session only.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._client import AsyncSeedanceClient
from .._request import VideoRequest
from .._task import Task, TaskErrorInfo
from ..history import History, HistoryEntry
from ._tracker import TaskTracker

log = logging.getLogger("seedance_widgets")
PAGE = 24


@dataclass
class Page:
    entries: list[HistoryEntry] = field(default_factory=list)
    next_cursor: str | None = None
    total: int = 0


class HistorySource:
    """`readable`: pages, counts and unfinished tasks can be read (a read-only data folder
    still reads); `available`: runs, stars and notes are also written. `problem` says why
    not, in one line."""

    def __init__(self, client: AsyncSeedanceClient,
                 store: History | Literal[False] | None = None) -> None:
        self.client = client
        self.store: History | None = (None if store is False else
                                      store if store is not None else client.history)
        self.problem: str | None = None
        if self.store is None:
            self.problem = "history is off for this client (history=False)"
        elif not self.store.available:
            self.problem = self.store.problem or "history is off"

    @property
    def available(self) -> bool:
        return self.problem is None

    @property
    def readable(self) -> bool:
        return self.store is not None and self.store.readable

    def page(self, limit: int = PAGE, cursor: str | None = None, **filters: Any) -> Page:
        filters = {k: v for k, v in filters.items() if v not in (None, "", "all", False)}
        if self.store is None or not self.readable:
            return Page()
        try:
            got = self.store.page(limit, cursor, **filters)
            return Page(list(got.entries), got.next_cursor, self.store.count(**filters))
        except Exception as exc:  # a broken history must not break the gallery
            log.warning("reading the history failed: %s", exc)
            self.problem = f"reading the history failed: {exc}"
            return Page()

    def count(self, **filters: Any) -> int | None:
        """How many runs match, or None when the history cannot be read."""
        filters = {k: v for k, v in filters.items() if v not in (None, "", "all", False)}
        if self.store is None or not self.readable:
            return None
        try:
            return self.store.count(**filters)
        except Exception as exc:
            log.warning("counting the history failed: %s", exc)
            return None

    def unfinished(self) -> list[HistoryEntry]:
        """Unfinished tasks of this client's server only: another server's are never polled."""
        if self.store is None or not self.readable:
            return []
        try:
            return self.store.unfinished(server=self.client.server_label)
        except Exception as exc:
            log.warning("reading unfinished tasks failed: %s", exc)
            return []

    def star(self, task_id: str, starred: bool) -> bool:
        return self._write("star", task_id, lambda h: h.star(task_id, starred))

    def set_note(self, task_id: str, note: str) -> bool:
        return self._write("set_note", task_id, lambda h: h.set_note(task_id, note))

    def _write(self, name: str, task_id: str, write: Callable[[History], None]) -> bool:
        if self.store is None or not self.available:
            return False
        try:
            write(self.store)
            return True
        except Exception as exc:
            log.warning("history %s of %s failed: %s", name, task_id, exc)
            return False


def tracker_from_entry(client: AsyncSeedanceClient, entry: HistoryEntry,
                       store: History | None = None) -> TaskTracker:
    """A tracker of a history row; another server's task is shown, never polled with our key."""
    body = entry.request
    if store is not None:  # dropped images are kept beside the history: re-runs get them back
        with contextlib.suppress(Exception):
            body = store.full_request(entry) or body
    try:
        request = VideoRequest.model_validate(body, context={"catalog": client.catalog})
    except ValueError:
        request = None
    task = Task(id=entry.id, status=entry.status, progress=entry.progress,
                video_url=entry.video_url, last_frame_url=entry.last_frame_url,
                cancelled=entry.cancelled, request=request,
                error=TaskErrorInfo(message=entry.error) if entry.error else None,
                model=entry.model or None, cost_usd=entry.cost_usd,
                created_at=entry.created_at)
    # Only unfinished tasks are followed (and saved when they end); a finished run is shown
    # as the history has it, never downloaded again by opening a gallery.
    tracker = TaskTracker(client, task, save_videos=not task.is_terminal)
    if entry.local_path:
        tracker.saved_path = Path(entry.local_path)
    if entry.server != client.server_label:
        tracker.followable = False
        tracker.note = "" if entry.is_terminal else f"on {entry.server}; not followed here"
    return tracker
