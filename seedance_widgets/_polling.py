"""A task's state: `get` one snapshot, `watch` and `wait` to the end (by the deadline,
whatever the server does), `cancel` while queued. Every snapshot seen is recorded."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx

from ._core import DEFAULT_WAIT_TIMEOUT, ClientCore, TaskRef
from ._errors import (
    APIError,
    ConflictError,
    DeadlineExceeded,
    NotFoundError,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
)
from ._schedule import PollSchedule, pause
from ._task import Task

log = logging.getLogger("seedance_widgets")


@dataclass(frozen=True)
class CancelResult:
    """The outcome of a cancel: `cancelled`, `not_cancellable`, `unsupported` or `not_found`."""

    outcome: Literal["cancelled", "not_cancellable", "unsupported", "not_found"]
    task: Task | None
    message: str

    @property
    def cancelled(self) -> bool:
        return self.outcome == "cancelled"


class Polling(ClientCore):
    """`get`, `watch`, `wait` and `cancel`; every snapshot seen goes to the history."""

    def _status_url(self, task: Task) -> str:
        """The poll_url when it is a path on the API (or an absolute URL on its origin) under
        /v1/, else the fixed status route: a server never sends our token elsewhere."""
        fixed = task_path(task.id)
        if not task.poll_url or task.poll_url == fixed:  # the usual answer: nothing to parse
            return fixed
        try:
            url = httpx.URL(task.poll_url)
        except (httpx.InvalidURL, ValueError, TypeError):
            return fixed
        if url.is_absolute_url:
            same = (url.scheme, url.host, url.port) == (
                self._origin.scheme, self._origin.host, self._origin.port)
            if not same:
                log.warning("ignoring poll_url on another origin; polling %s instead", fixed)
                return fixed
        elif url.host or not task.poll_url.startswith("/"):
            return fixed  # "//host/path" and "host/path" are not paths on the API
        path = url.raw_path.decode("ascii", "replace")
        segments = path.split("?", 1)[0].split("/")
        climbs = any(seg.lower().replace("%2e", ".") in (".", "..") for seg in segments)
        return path if path.startswith("/v1/") and not climbs else fixed

    async def get(self, task: TaskRef, *, timeout: float | None = None,
                  deadline: float | None = None) -> Task:
        """A fresh snapshot of the task.

        `timeout` (seconds) bounds the whole call, retries included (APITimeoutError after
        it); without it, each attempt is bounded and the policy's attempt count applies.
        `deadline` is the same as a `time.monotonic()` value (what `watch` passes).
        """
        if timeout is not None:
            end = time.monotonic() + timeout
            deadline = end if deadline is None else min(deadline, end)
        current = task if isinstance(task, Task) else Task(id=str(task))
        url = self._status_url(current)
        fixed = task_path(current.id)
        try:
            answer = await self._answer("GET", url, deadline=deadline, poll=True)
        except NotFoundError:
            if url == fixed:
                raise
            answer = await self._answer("GET", fixed, deadline=deadline, poll=True)
        return Task.from_response(answer.body, previous=current, headers=answer.headers)

    async def cancel(self, task: TaskRef, *, timeout: float | None = 60.0) -> CancelResult:
        """Cancel a task that is still queued. The outcome says what happened.

        `timeout` bounds the whole call (APITimeoutError after it).
        """
        current = task if isinstance(task, Task) else Task(id=str(task))
        url = task_path(current.id)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            answer = await self._answer("DELETE", url, deadline=deadline)
        except NotFoundError as exc:
            return CancelResult("not_found", None, exc.message)
        except ConflictError as exc:
            # A retried DELETE whose first answer was lost also lands here: look before judging.
            latest = await self.get(current, deadline=deadline)
            if latest.cancelled:
                return CancelResult("cancelled", latest, "cancelled")
            return CancelResult("not_cancellable", latest,
                                f"not cancellable: the task is {latest.status}"
                                f" ({exc.message})")
        except APIError as exc:
            if exc.status_code == 400:
                return CancelResult("unsupported", current, f"not cancellable: {exc.message}")
            raise
        snapshot = Task.from_response(answer.body, previous=current, headers=answer.headers)
        await self._recorder.snapshot(snapshot)
        return CancelResult("cancelled" if snapshot.cancelled else "not_cancellable", snapshot,
                            "cancelled" if snapshot.cancelled else snapshot.status)

    async def watch(self, task: TaskRef, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT,
                    schedule: PollSchedule | None = None) -> AsyncIterator[Task]:
        """Snapshots of the task until it ends; raises TaskTimeoutError at the deadline.

        Each snapshot carries `eta_seconds` when progress allows a prediction. The deadline
        holds whatever the server does: a silent or trickling server, or 429s without end,
        end the watch at `timeout` (within a fraction of a second), not later.
        """
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        if isinstance(task, Task):
            current = task
        else:
            try:
                current = await self.get(task, deadline=deadline)
            except DeadlineExceeded:
                raise _timed_out(Task(id=str(task)), timeout) from None
        offset = _age(current)
        schedule = schedule or PollSchedule()
        await self._recorder.snapshot(current)  # a task that ended unwatched is recorded too
        # The schedule sees each snapshot as soon as it arrives, so the ETA it carries
        # already counts that snapshot's progress.
        delay = schedule.next_delay(offset, current.status, current.progress)
        yield current
        while not current.is_terminal:
            if not await pause(delay, deadline):
                raise _timed_out(current, timeout)
            try:
                current = await self.get(current, deadline=deadline)
            except DeadlineExceeded as exc:
                raise _timed_out(current, timeout, exc) from None
            elapsed = offset + time.monotonic() - start
            delay = schedule.next_delay(elapsed, current.status, current.progress)
            eta = schedule.eta(elapsed)
            if eta is not None and not current.is_terminal:
                current = current.model_copy(update={"eta_seconds": eta})
            await self._recorder.snapshot(current)
            yield current

    async def wait(self, task: TaskRef, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT,
                   on_update: Callable[[Task], Any] | None = None,
                   raise_on_failure: bool = True) -> Task:
        """Poll until the task ends; returns the final snapshot.

        A failed task raises TaskFailedError (TaskCancelledError when cancelled) unless
        `raise_on_failure=False`. At the deadline TaskTimeoutError is raised and the task keeps
        running on the server.
        """
        final: Task | None = None
        async for snapshot in self.watch(task, timeout=timeout):
            final = snapshot
            if on_update is not None:
                result = on_update(snapshot)
                if asyncio.iscoroutine(result):
                    await result
        assert final is not None
        if raise_on_failure and final.status == "failed":
            if final.cancelled:
                raise TaskCancelledError(f"task {final.id} was cancelled", final)
            reason = final.error.message if final.error else "no reason given"
            raise TaskFailedError(f"task {final.id} failed: {reason}", final)
        return final


def task_path(task_id: str) -> str:
    """`/v1/tasks/<id>` with the id as exactly one path segment, whatever it holds: escaped,
    and `.`/`..` spelt %2E so that URL normalisation cannot climb out of /v1/tasks/."""
    segment = quote(task_id, safe="")
    if set(segment) <= {"."}:
        segment = segment.replace(".", "%2E")
    return f"/v1/tasks/{segment}"


def _timed_out(task: Task, timeout: float | None, cause: BaseException | None = None
               ) -> TaskTimeoutError:
    last = cause.last if isinstance(cause, DeadlineExceeded) else None
    why = f" (last answer: {last})" if last is not None else ""
    return TaskTimeoutError(
        f"task {task.id} still {task.display_status} after {timeout or 0:g} s{why}; it keeps "
        f"running: resume with client.wait({task.id!r})", task)


def _age(task: Task) -> float:
    """Seconds since the task was created, by the server's clock when it is plausible."""
    if task.created_at is None:
        return 0.0
    age = (dt.datetime.now(dt.UTC) - task.created_at).total_seconds()
    return age if 0 <= age < 86400 else 0.0
