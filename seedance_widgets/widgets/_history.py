"""What the gallery reads from the task history (`seedance_widgets.history`): pages, counts,
the unfinished tasks of this server, stars and notes.

It never raises: a history that is off or cannot be read is reported as `problem`, the gallery
shows what this session made, and stars and notes then last for the session only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._client import AsyncSeedanceClient
from .._request import VideoRequest
from .._task import Task, TaskErrorInfo
from ._tracker import TaskTracker

log = logging.getLogger("seedance_widgets")
PAGE = 24


@dataclass
class Page:
    entries: list[Any] = field(default_factory=list)
    next_cursor: Any = None
    total: int = 0


class HistorySource:
    """`readable`: pages, counts and unfinished tasks can be read (a read-only data folder
    still reads); `available`: runs, stars and notes are also written. `problem` says why
    not, in one line."""

    def __init__(self, client: AsyncSeedanceClient, store: Any = None) -> None:
        self.client = client
        if store is False:
            self.store: Any = None
        else:
            self.store = store if store is not None else getattr(client, "history", None)
        self.problem: str | None = None
        if self.store is None:
            self.problem = "history is off for this client (history=False)"
        elif getattr(self.store, "available", True) is False:
            self.problem = str(getattr(self.store, "problem", "") or "history is off")

    @property
    def available(self) -> bool:
        return self.problem is None

    @property
    def readable(self) -> bool:
        if self.store is None or not hasattr(self.store, "page"):
            return False
        return bool(getattr(self.store, "readable", self.available))

    @property
    def sqlite(self) -> bool:  # kept for callers: a store we can page
        return self.readable

    def page(self, limit: int = PAGE, cursor: Any = None, **filters: Any) -> Page:
        filters = {k: v for k, v in filters.items() if v not in (None, "", "all", False)}
        if not self.readable:
            return Page()
        try:
            got = self.store.page(limit, cursor, **filters)
            return Page(list(got.entries), got.next_cursor, int(self.store.count(**filters)))
        except Exception as exc:  # a broken history must not break the gallery
            log.warning("reading the history failed: %s", exc)
            self.problem = f"reading the history failed: {exc}"
            return Page()

    def count(self, **filters: Any) -> int | None:
        """How many runs match, when the store can say so cheaply (SQLite), else None."""
        filters = {k: v for k, v in filters.items() if v not in (None, "", "all", False)}
        if not self.sqlite:
            return None
        try:
            return int(self.store.count(**filters))
        except Exception as exc:
            log.warning("counting the history failed: %s", exc)
            return None

    def unfinished(self) -> list[Any]:
        """Unfinished tasks of this client's server only: another server's are never polled."""
        if not self.readable:
            return []
        server = self.client.server_label
        try:
            return list(self.store.unfinished(server=server))
        except Exception as exc:
            log.warning("reading unfinished tasks failed: %s", exc)
            return []

    def star(self, task_id: str, starred: bool) -> bool:
        return self._write("star", task_id, starred)

    def set_note(self, task_id: str, note: str) -> bool:
        return self._write("set_note", task_id, note)

    def _write(self, name: str, task_id: str, value: Any) -> bool:
        fn = getattr(self.store, name, None) if self.available else None
        if fn is None:
            return False
        try:
            fn(task_id, value)
            return True
        except Exception as exc:
            log.warning("history %s of %s failed: %s", name, task_id, exc)
            return False


def tracker_from_entry(client: AsyncSeedanceClient, entry: Any, store: Any = None
                       ) -> TaskTracker:
    """A tracker of a history row; another server's task is shown, never polled with our key."""
    body = entry.request or {}
    full = getattr(store, "full_request", None)
    if full is not None:  # dropped images are kept beside the history: re-runs get them back
        with contextlib.suppress(Exception):
            body = full(entry) or body
    try:
        request = VideoRequest.model_validate(body, context={"catalog": client.catalog})
    except ValueError:
        request = None
    extra: dict[str, Any] = {}
    if getattr(entry, "cost_usd", None) is not None:
        extra["cost_usd"] = entry.cost_usd
    created = getattr(entry, "created_at", None)
    if isinstance(created, str | dt.datetime):
        extra["created_at"] = created
    task = Task(id=entry.id, status=entry.status, progress=entry.progress,
                video_url=entry.video_url, last_frame_url=entry.last_frame_url,
                cancelled=bool(entry.cancelled), request=request,
                error=TaskErrorInfo(message=entry.error) if entry.error else None,
                model=getattr(entry, "model", None) or (entry.request or {}).get("model"),
                **extra)
    # Only unfinished tasks are followed (and saved when they end); a finished run is shown
    # as the history has it, never downloaded again by opening a gallery.
    tracker = TaskTracker(client, task, save_videos=not task.is_terminal)
    if entry.local_path:
        tracker.saved_path = Path(entry.local_path)
    if entry.server != client.server_label:
        tracker.followable = False
        terminal = getattr(entry, "is_terminal", entry.status in ("completed", "failed"))
        tracker.note = "" if terminal else f"on {entry.server}; not followed here"
    return tracker
