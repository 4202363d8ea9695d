"""`TaskTracker`: follows one task on the main loop and describes it as a card for the views.

Widgets never poll themselves; each task has one tracker, shared by every widget that shows it,
so two views of a task cost one poll loop.
"""

from __future__ import annotations

import asyncio
import html
import json
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
PARAM_FIELDS = ("resolution", "duration", "aspect_ratio", "seed", "output_audio",
                "return_last_frame")


def _ms(task_time: Any) -> int | None:
    return int(task_time.timestamp() * 1000) if task_time else None


def _no_inline_data(value: Any) -> Any:
    # Card fields are synced traits and land in saved notebooks: never carry image bytes.
    if isinstance(value, list):
        return [_no_inline_data(v) for v in value]
    if isinstance(value, str) and value.startswith("data:") and len(value) > 120:
        head = value.split(",", 1)[0]
        return f"{head},<{len(value) * 3 // 4 // 1024} KB inline image: paste your own>"
    return value


def request_code(body: dict[str, Any] | None) -> str:
    """A Python snippet that reproduces the request with the sync client."""
    if not body:
        return ""
    args = ",\n    ".join(f"{k}={_no_inline_data(v)!r}" for k, v in body.items())
    return ("from seedance_widgets import SeedanceClient, VideoRequest\n\n"
            f"request = VideoRequest(\n    {args},\n)\n"
            "with SeedanceClient() as client:  # reads TOKENLAB_API_KEY\n"
            "    task = client.wait(client.create(request))\n"
            "    print(client.download(task, '.'))\n")


def request_diff(body: dict[str, Any] | None, previous: dict[str, Any] | None) -> list[str]:
    """What changed from the previous run, one line per field."""
    if not body or not previous:
        return []
    lines = []
    for key in dict.fromkeys([*previous, *body]):
        a, b = previous.get(key), body.get(key)
        if a != b:
            lines.append(f"{key}: {_brief(a)} → {_brief(b)}")
    return lines


def _brief(value: Any) -> str:
    if value is None:
        return "—"
    value = _no_inline_data(value)
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


class TaskTracker:
    """Owns the polling of one task; notifies listeners with each new snapshot."""

    def __init__(self, client: AsyncSeedanceClient, task: Task, *, save_videos: bool = True,
                 wait_timeout: float | None = None) -> None:
        self.client = client
        self.task = task
        self.save_videos = save_videos
        self.wait_timeout = wait_timeout
        self.saved_path: Path | None = None
        self.cancel_message = ""
        self.note = ""  # a background error, shown on the card
        self.finished_ms: int | None = None
        self.followable = True  # False for a journaled task of another server
        self.eta_at_ms: int | None = None
        self._listeners: list[Callable[[TaskTracker], None]] = []
        self._task: asyncio.Task[Any] | None = None
        self._video: bytes | None = None
        req = task.request
        self.estimate_label = estimate_price(req).label() if req else ""
        if client.demo and self.estimate_label:
            # The emulator reports a bill, but nobody pays for demo videos.
            self.estimate_label += " · demo: no charge"

    @property
    def id(self) -> str:
        return self.task.id

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

    def card(self, *, actions: tuple[str, ...] = (), previous: dict[str, Any] | None = None,
             video_src: str = "url") -> dict[str, Any]:
        t, body = self.task, self.request_body or {}
        error = t.error.message if t.error else (self.note or None)
        acts = [a for a in actions if t.succeeded and (a != "use_last_frame" or
                                                        t.last_frame_url)]
        return {
            "id": t.id, "status": t.status, "progress": t.progress,
            "created_ms": _ms(t.created_at), "finished_ms": self.finished_ms,
            "eta_s": t.eta_seconds, "eta_at_ms": self.eta_at_ms,
            "model": t.model or body.get("model"), "operation": body.get("operation"),
            "prompt": body.get("prompt") or "",
            "params": {k: body[k] for k in PARAM_FIELDS if k in body},
            "error": error, "cancelled": t.cancelled,
            "cost_usd": None if self.client.demo else t.cost_usd,
            "estimate_label": self.estimate_label,
            "video_url": t.video_url or "", "last_frame_url": t.last_frame_url or "",
            "video_src": video_src,
            "can_cancel": t.status == "pending",
            "cancel_message": self.cancel_message,
            "code": request_code(body), "diff": request_diff(body, previous),
            "actions": acts,
            "saved_path": str(self.saved_path) if self.saved_path else None,
        }

    def static_html(self) -> str:
        """Script-free HTML of the card, for nbconvert and VS Code."""
        t, body = self.task, self.request_body or {}
        e = html.escape
        parts = [f"<div style='border:1px solid #ccc;padding:6px;margin:4px;border-radius:4px'>"
                 f"<b>{e(t.status)}</b> · {e(str(body.get('model', '')))} · "
                 f"{e(str(body.get('operation', '')))}<br><i>{e(body.get('prompt') or '')}</i>"]
        url = t.video_url or ""
        if t.succeeded and url.lower().startswith(("http://", "https://")):
            poster = t.last_frame_url or ""
            poster_attr = (f" poster='{e(poster)}'" if poster.lower().startswith(("http://",
                           "https://")) else "")
            parts.append(f"<br><video src='{e(url)}' controls width='320'{poster_attr}></video>")
        if t.error:
            parts.append(f"<br><span style='color:#b00'>{e(t.error.message)}</span>")
        parts.append("</div>")
        return "".join(parts)

