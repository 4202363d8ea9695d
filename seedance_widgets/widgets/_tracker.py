"""`TaskTracker`: follows one task on the kernel's main loop (polling only).

Widgets never poll themselves; each task has one tracker, shared by every widget that shows it,
so two views of a task cost one poll loop. What a view shows of it is built in `_card`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._client import AsyncSeedanceClient
from .._errors import SeedanceError, TaskTimeoutError
from .._pricing import estimate_price
from .._task import Task

log = logging.getLogger("seedance_widgets")


class TaskTracker:
    """Owns the polling of one task; notifies listeners with each new snapshot."""

    def __init__(self, client: AsyncSeedanceClient, task: Task, *, save_videos: bool = True,
                 wait_timeout: float | None = None,
                 input_video_seconds: float | None = None) -> None:
        self.client = client
        self.task = task
        self.save_videos = save_videos
        self.wait_timeout = wait_timeout
        self.saved_path: Path | None = None
        self.cancel_message = ""
        self.note = ""  # a background error, shown on the card
        self.finished_ms: int | None = None
        self.followable = True  # False for a recorded task of another server
        self.eta_at_ms: int | None = None
        self._listeners: list[Callable[[TaskTracker], None]] = []
        self._task: asyncio.Task[Any] | None = None
        self._video: bytes | None = None
        req = task.request
        self.estimate_label = estimate_price(
            req, catalog=client.catalog, input_video_seconds=input_video_seconds
        ).label() if req else ""
        if client.demo and self.estimate_label:
            # The emulator reports a bill, but nobody pays for demo videos.
            self.estimate_label = "demo · no charge"

    @property
    def id(self) -> str:
        return self.task.id

    @property
    def video_seconds(self) -> float | None:
        """The length of this task's video, when known: what an extension of it is priced on."""
        if self.task.video_duration:
            return self.task.video_duration
        duration = self.task.request.duration if self.task.request else None
        return float(duration) if duration and duration > 0 else None

    @property
    def request_body(self) -> dict[str, Any] | None:
        return self.task.request.to_body() if self.task.request else None

    def subscribe(self, fn: Callable[[TaskTracker], None]) -> None:
        if fn not in self._listeners:
            self._listeners.append(fn)

    def unsubscribe(self, fn: Callable[[TaskTracker], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _notify(self) -> None:
        for fn in list(self._listeners):
            try:
                fn(self)
            except Exception:
                log.exception("task listener failed")

    @property
    def following(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, spawn: Callable[[Any], Any]) -> None:
        """Begin following (via the owner's loop bridge) unless already following or done."""
        finished = self.task.is_terminal and (self.saved_path or not self.save_videos)
        if not self.followable or self.following or finished:
            return
        self._task = spawn(self._follow())

    def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _follow(self) -> None:
        try:
            async for snap in self.client.watch(self.task, timeout=self.wait_timeout):
                self._update(snap)
            if self.task.succeeded and self.save_videos and self.saved_path is None:
                self.saved_path = await self.client.download(self.task)
                self._notify()
        except asyncio.CancelledError:
            raise
        except TaskTimeoutError as exc:
            self.note = str(exc)
            self._notify()
        except SeedanceError as exc:
            self.note = str(exc)
            log.warning("task %s: %s", self.id, exc)
            self._notify()
        except Exception as exc:
            self.note = f"unexpected error: {exc}"
            log.exception("following task %s failed", self.id)
            self._notify()

    def _update(self, snap: Task) -> None:
        if snap.is_terminal and self.finished_ms is None:
            self.finished_ms = int(time.time() * 1000)
        if snap.eta_seconds is not None:
            self.eta_at_ms = int(time.time() * 1000)
        self.task = snap
        self._notify()

    async def cancel(self) -> None:
        result = await self.client.cancel(self.task)
        if result.task is not None and result.cancelled:
            self._update(result.task)
        self.cancel_message = result.message if not result.cancelled else "cancelled"
        self._notify()

    async def video_bytes(self) -> bytes:
        """The video for the browser when it cannot fetch the URL itself."""
        if self._video is None:
            if self.saved_path and self.saved_path.exists():
                self._video = self.saved_path.read_bytes()
            elif self.task.video_url:
                self._video = await self.client.fetch_bytes(self.task.video_url)
            else:
                raise SeedanceError("no video yet")
        return self._video

    async def frame_bytes(self) -> bytes:
        if not self.task.last_frame_url:
            raise SeedanceError("no last frame")
        return await self.client.fetch_bytes(self.task.last_frame_url, limit=50 * 1024 * 1024)
