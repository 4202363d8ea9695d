"""What the client writes to the history on each step of a task, and what a failed write means.

- The submit intent must be recorded before the POST: if it cannot be, the create is not sent
  (nothing is charged) and HistoryError says why.
- The create's answer must be recorded before `create` returns: if it cannot be, the task
  exists and may be charged, so TaskNotRecordedError carries it, and its next snapshot tries
  to record it again.
- Everything else (outcomes, snapshots, saved files) costs only a note when it fails: it is
  logged once, and the poll goes on.
When the history is off (`available` False) nothing is written and creates go ahead.
Every write runs in a worker thread and is awaited: the kernel's event loop never waits on an
fsync, or on another process holding the write lock (up to the busy timeout), yet a snapshot
is recorded before the caller sees it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import HistoryError, TaskNotRecordedError

if TYPE_CHECKING:
    from .._task import Task
    from ._store import History

log = logging.getLogger("seedance_widgets")
_warned: set[str] = set()


def warn_once(message: str) -> None:
    """History trouble is said once per process, not once per poll."""
    if message not in _warned:
        _warned.add(message)
        log.warning("%s", message)


def _state(task: Task) -> tuple[Any, ...]:
    return (task.status, task.progress, task.video_url, task.cancelled, task.cost_usd,
            task.billing_transaction_id)


class Recorder:
    """One client's writes to one history, for tasks of one server."""

    def __init__(self, history: History | None, server: str) -> None:
        self.history = history
        self.server = server
        self._written: dict[str, tuple[Any, ...]] = {}
        # Created tasks whose answer could not be recorded: retried with their next snapshot.
        self._unrecorded: dict[str, tuple[str, dict[str, Any], str]] = {}
        if history is not None and not history.available:
            warn_once(history.problem or "history is off")

    @property
    def store(self) -> History | None:
        """The history when it records; None when there is none or it is off."""
        h = self.history
        return h if h is not None and h.available else None

    async def intent(self, attempt: str, request: dict[str, Any], fingerprint: str) -> None:
        store = self.store
        if store is None:
            return
        try:
            # In a worker thread: the fsync must not stall the kernel's event loop.
            await asyncio.to_thread(store.submitting, attempt=attempt, server=self.server,
                                    request=request, fingerprint=fingerprint)
        except HistoryError as exc:
            raise HistoryError(
                f"the create was NOT sent (nothing was charged): the history could not record "
                f"it first: {exc.message}. Pass history=False to run without a history",
                kind=exc.kind, path=exc.path) from None

    async def created(self, task: Task, attempt: str, request: dict[str, Any],
                      fingerprint: str) -> None:
        store = self.store
        if store is None:
            return
        try:
            await asyncio.to_thread(store.created, task, attempt=attempt, server=self.server,
                                    request=request, fingerprint=fingerprint)
        except HistoryError as exc:
            self._unrecorded[task.id] = (attempt, request, fingerprint)
            raise TaskNotRecordedError(task, exc.message) from None
        self._written[task.id] = _state(task)

    async def refused(self, attempt: str, status_code: int) -> None:
        """A 4xx answer made no task: recorded so it is never listed as unresolved."""
        if 400 <= status_code < 500:
            await self._quietly("how a create ended", lambda h: h.refused(attempt, status_code))

    async def never_sent(self, attempt: str) -> None:
        """No connection was made, so no task can exist."""
        await self._quietly("how a create ended", lambda h: h.never_sent(attempt))

    async def ambiguous(self, attempt: str, request: dict[str, Any], fingerprint: str,
                        sent_at: dt.datetime, cause: str) -> None:
        await self._quietly("an ambiguous create", lambda h: h.ambiguous(
            server=self.server, request=request, fingerprint=fingerprint, sent_at=sent_at,
            cause=cause, attempt=attempt))

    async def snapshot(self, task: Task) -> None:
        """Merge the task's state when it changed since we last wrote it."""
        store = self.store
        state = _state(task)
        if store is None or self._written.get(task.id) == state:
            return
        unrecorded = self._unrecorded.get(task.id)
        try:
            await asyncio.to_thread(self._write_snapshot, store, task, unrecorded)
        except HistoryError as exc:
            warn_once(f"could not record task {task.id}'s state: {exc}")
            return
        if unrecorded is not None:
            self._unrecorded.pop(task.id, None)
        self._written[task.id] = state

    def _write_snapshot(self, store: History, task: Task,
                        unrecorded: tuple[str, dict[str, Any], str] | None) -> None:
        # In a worker thread; recording the create again is harmless (it never changes).
        if unrecorded is not None:
            attempt, request, fingerprint = unrecorded
            store.created(task, attempt=attempt, server=self.server, request=request,
                          fingerprint=fingerprint)
        store.record(task, server=self.server)

    async def saved(self, task_id: str, path: os.PathLike[str], sha256: str) -> None:
        await self._quietly(f"the saved file of task {task_id}",
                            lambda h: h.set_local_path(task_id, path, sha256=sha256))

    async def _quietly(self, what: str, write: Callable[[History], None]) -> None:
        store = self.store
        if store is None:
            return
        try:
            await asyncio.to_thread(write, store)
        except HistoryError as exc:
            warn_once(f"could not record {what}: {exc}")
