"""Tasks of the emulator: creation rules, lifecycle, cancellation, result files.

Status is derived from timestamps on every read rather than advanced by a ticking thread, so a
task is always exactly as far along as its clock says and a stopped emulator leaves nothing
running. Videos are rendered on a small pool as soon as a task is created, so they are normally
ready by the time the clock says "completed"; when they are not, the task holds at
`processing`/99 until the file exists, as a real service would never hand out a missing file.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .._catalog import Catalog
from .._pricing import estimate_price
from .._request import VideoRequest
from .._sizes import ADAPTIVE_ASSUMED, nominal_size
from . import _render
from ._config import Timings
from ._errors import bad_request, fail
from ._persist import load_tasks, load_url_key, read_file, save_task
from ._render import Picture, RenderInputs
from ._task import LAST_FRAME_SUFFIX, VIDEO_SUFFIX, Task

logger = logging.getLogger("seedance_widgets.emulator")

DEFAULT_DURATION_S = 5
DEFAULT_RESOLUTION = "720p"
CHOSEN_DURATIONS = range(4, 16)  # what duration -1 ("model chooses") may come out as
CANCELLED_MESSAGE = "Task cancelled before execution"
RENDER_CACHE_SIZE = 32


class TaskStore:
    """Every task of one emulator, behind one lock; also signs and serves result files."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        timings: Timings,
        result_ttl_s: float,
        balance_usd: float | None,
        state_dir: Path | None = None,
    ) -> None:
        self.catalog = catalog
        self.timings = timings
        self.result_ttl_s = result_ttl_s
        self.balance_usd = balance_usd
        self._lock = threading.Lock()
        self._tasks: dict[str, Task] = {}
        # Identical renders (same prompt, seed, size, length) are common in tests and sweeps.
        self._renders: OrderedDict[tuple[Any, ...], tuple[bytes, bytes | None]] = OrderedDict()
        self._state_dir = Path(state_dir) if state_dir else None
        # Per-emulator secret: URLs from one run never open files of another. With a state
        # dir the secret is kept there, so URLs outlive a restart like a CDN's would.
        self._url_key = load_url_key(self._state_dir)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="seedance-emu-render")
        if self._state_dir is not None:
            self._load()

    # ------------------------------------------------------------------ create
    def create(self, request: VideoRequest, key_index: int, *, seed: int,
               will_fail: bool, inputs: RenderInputs | None = None) -> Task:
        """Make a task for a validated request; `seed` is used when the request has none.

        `inputs` are what the request's media add to the picture; an extension adds its
        source's last frame here."""
        now = time.time()
        with self._lock:
            self._drop_expired(now)
            source = self._extension_source(request, key_index)
            if request.seed is not None and request.seed >= 0:
                seed = request.seed
            if request.duration is None:
                duration = DEFAULT_DURATION_S
            elif request.duration == -1:
                duration = CHOSEN_DURATIONS[seed % len(CHOSEN_DURATIONS)]
            else:
                duration = request.duration
            resolution = request.resolution or (source.resolution if source else None)
            resolution = resolution or DEFAULT_RESOLUTION
            ratio = request.aspect_ratio or (source.aspect_ratio if source else None)
            ratio = ADAPTIVE_ASSUMED if ratio in (None, "adaptive") else ratio
            width, height = nominal_size(resolution, ratio)
            self._check_balance(request, key_index, source)
            # Bill what is really produced: the resolved selectors and the source's length.
            produced = {"duration": duration, "resolution": resolution, "aspect_ratio": ratio}
            billed = estimate_price(
                request.model_copy(update=produced),
                input_video_seconds=source.duration_s if source else None,
                catalog=self.catalog,
            )
            task = Task(
                id="ldtask_" + secrets.token_hex(16),
                key_index=key_index,
                request=request,
                operation=request.operation or "text-to-video",
                created_at=now,
                queue_s=self.timings.queue_s,
                run_s=self.timings.run_s,
                will_fail=will_fail,
                prompt=request.prompt or (source.prompt if source else ""),
                seed=seed,
                duration_s=duration,
                resolution=resolution,
                aspect_ratio=ratio,
                width=width,
                height=height,
                tokens=billed.tokens,
                cost_usd=billed.usd,
                audio=request.output_audio is not False,  # Seedance's default is sound on
                inputs=self._continuing(source) if source is not None else inputs,
            )
            self._tasks[task.id] = task
            if not will_fail:
                task.render = self._pool.submit(self._render, task)
            self._persist(task)
        return task

    def _extension_source(self, request: VideoRequest, key_index: int) -> Task | None:
        if request.operation != "video-extension":
            return None
        source = self._tasks.get(request.task_id or "")
        if (source is None or source.key_index != key_index
                or source.phase(time.time())[0] != "completed"):
            raise bad_request(
                f"task_id: {request.task_id!r} is not a completed task of this API key; "
                "video-extension continues an earlier completed task",
                param="task_id", code="invalid_task_id", model=request.model,
            )
        return source

    def _check_balance(self, request: VideoRequest, key_index: int,
                       source: Task | None) -> None:
        if self.balance_usd is None:
            return
        estimate = estimate_price(request, catalog=self.catalog,
                                  input_video_seconds=source.duration_s if source else None)
        if estimate.usd is None:
            return  # no price to hold against the balance (mini): let it run
        # Tasks that will not succeed are never charged, so they hold nothing.
        held = sum(t.cost_usd or 0.0 for t in self._tasks.values()
                   if t.key_index == key_index and t.cancelled_at is None and not t.will_fail)
        left = max(0.0, self.balance_usd - held)
        if estimate.usd > left:
            raise fail(
                402, "insufficient_balance",
                f"Insufficient balance: this request is estimated at ${estimate.usd:.4f} and "
                f"the balance is ${left:.4f}. Please top up your account.",
                code="insufficient_balance", model=request.model,
                estimated_cost_usd=round(estimate.usd, 6), balance_usd=round(left, 6),
            )

    def _continuing(self, source: Task) -> RenderInputs | None:
        """An extension starts on its source's last frame."""
        frame = source.last_frame or read_file(self._state_dir, source.id + LAST_FRAME_SUFFIX)
        return RenderInputs(start=Picture(frame, "source")) if frame else None

    def _render(self, task: Task) -> None:
        if task.cancelled_at is not None:
            return
        video = frame = None
        error = None
        inputs = task.inputs or RenderInputs()
        key = (task.prompt, task.seed, task.duration_s, task.aspect_ratio, task.resolution,
               task.audio, inputs.digest())
        with self._lock:
            cached = self._renders.get(key)
        try:
            if cached is not None:
                video, frame = cached
            else:
                clip = _render.render_clip(
                    prompt=task.prompt, seed=task.seed, duration_s=task.duration_s,
                    aspect_ratio=task.aspect_ratio, resolution=task.resolution,
                    inputs=inputs, audio=task.audio)
                video, frame = clip.video, clip.last_frame_png
        except Exception as exc:  # a broken render must fail the task, not hang it
            logger.exception("render of %s failed", task.id)
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            task.video, task.last_frame, task.render_error = video, frame, error
            task.rendered_at = time.time()
            task.inputs = None  # drawn: the input media are no longer needed
            if video is not None:
                self._renders[key] = (video, frame)
                self._renders.move_to_end(key)
                while len(self._renders) > RENDER_CACHE_SIZE:
                    self._renders.popitem(last=False)
            self._persist(task, files=True)

    def _drop_expired(self, now: float) -> None:
        # Results are only reachable through URLs that have expired: free the bytes.
        for t in self._tasks.values():
            if t.video is not None and t.rendered_at is not None and self._expired(t, now):
                t.video = t.last_frame = None

    # ------------------------------------------------------------------ read, cancel
    def find(self, task_id: str, key_index: int, *, foreign_status: int = 403) -> Task:
        """The task, or 404 when unknown; another key's task is `foreign_status` (403, or 404
        on routes whose contract has no 403)."""
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None or (task.key_index != key_index and foreign_status == 404):
            raise fail(404, "async_task_not_found", f"Task {task_id} not found",
                       code="task_not_found")
        if task.key_index != key_index:
            raise fail(403, "permission_error", "Task not available to the current API key",
                       code="task_forbidden")
        return task

    def cancel(self, task_id: str, key_index: int) -> Task:
        task = self.find(task_id, key_index)
        spec = self.catalog.get(task.model)
        if spec is not None and not spec.cancellable:
            raise fail(400, "invalid_request_error",
                       f"Cancellation is not supported for model {task.model}",
                       code="cancellation_not_supported", model=task.model)
        with self._lock:
            status = task.phase(time.time())[0]
            if status != "pending":
                raise fail(409, "invalid_request_error",
                           f"Task is {status} and can no longer be cancelled; only queued "
                           "tasks can be cancelled",
                           code="task_not_cancellable", task_status=status)
            task.cancelled_at = time.time()
            if task.render is not None:
                task.render.cancel()  # if it already started, its output is simply discarded
            self._persist(task)
        return task

    def body(self, task: Task, base_url: str, now: float | None = None) -> dict[str, Any]:
        """The `VideoTaskResponse` for a task as it stands now."""
        with self._lock:
            return self._body(task, base_url, time.time() if now is None else now)

    def _body(self, task: Task, base_url: str, now: float) -> dict[str, Any]:
        status, progress, updated = task.phase(now)
        out: dict[str, Any] = {
            "id": task.id, "task_id": task.id, "poll_url": "/v1/tasks/" + task.id,
            "status": status,
        }
        if progress is not None and self.timings.report_progress:
            out["progress"] = progress
        out.update(created=int(task.created_at), updated=int(updated), model=task.model)
        if task.cancelled_at is not None:
            out.update(cancelled=True, cancellation_status="cancelled", error=CANCELLED_MESSAGE)
        elif status == "failed":
            detail = ("the emulator could not render the video: " + task.render_error
                      if task.render_error else "Video generation failed (emulated failure)")
            out["error"] = {"code": "generation_failed", "message": detail}
        elif status == "completed":
            video_url = self._signed_url(base_url, task, VIDEO_SUFFIX)
            out["video_url"] = video_url
            out["video"] = {"url": video_url, "duration": task.duration_s,
                            "width": task.width, "height": task.height}
            out["content"] = {"video_url": video_url}
            if task.wants_last_frame:
                frame_url = self._signed_url(base_url, task, LAST_FRAME_SUFFIX)
                out["last_frame_url"] = frame_url
                out["content"]["last_frame_url"] = frame_url
            out["seed"] = task.seed
            out["billing"] = {"tokens": task.tokens, "cost_usd": (
                None if task.cost_usd is None else round(task.cost_usd, 6))}
        return out

    # ------------------------------------------------------------------ result files
    def _expires_at(self, task: Task) -> float:
        return max(task.finished_at, task.rendered_at or 0.0) + self.result_ttl_s

    def _expired(self, task: Task, now: float) -> bool:
        return now >= self._expires_at(task)

    def _sign(self, name: str, exp: int) -> str:
        mac = hmac.new(self._url_key, f"{name}:{exp}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def _signed_url(self, base_url: str, task: Task, suffix: str) -> str:
        # exp is rounded up to whole seconds; the store still enforces the exact expiry.
        exp = int(self._expires_at(task)) + 1
        name = task.id + suffix
        return f"{base_url}/files/{name}?exp={exp}&sig={self._sign(name, exp)}"

    def file(self, name: str, exp: str | None, sig: str | None) -> tuple[bytes, str]:
        """(bytes, content type) behind a signed URL, or the 403/404 it deserves."""
        try:
            exp_s = int(exp or "")
        except ValueError:
            exp_s = -1
        if exp_s < 0 or not sig or not hmac.compare_digest(self._sign(name, exp_s), sig):
            raise fail(403, "permission_error", "Invalid or missing URL signature",
                       code="invalid_signature")
        now = time.time()
        if name.endswith(VIDEO_SUFFIX):
            task_id, ctype = name.removesuffix(VIDEO_SUFFIX), "video/mp4"
        elif name.endswith(LAST_FRAME_SUFFIX):
            task_id, ctype = name.removesuffix(LAST_FRAME_SUFFIX), "image/png"
        else:
            raise fail(404, "not_found_error", "File not found")
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                raise fail(404, "not_found_error", "File not found")
            if now >= exp_s or self._expired(task, now):
                raise fail(403, "permission_error", "URL expired", code="url_expired")
            if ctype != "video/mp4" and not task.wants_last_frame:
                raise fail(404, "not_found_error", "File not found")
            data = task.video if ctype == "video/mp4" else task.last_frame
        if data is None:
            data = read_file(self._state_dir, name)
        if data is None:
            raise fail(404, "not_found_error", "File not found")
        return data, ctype

    # ------------------------------------------------------------------ introspection
    def count(self) -> int:
        with self._lock:
            return len(self._tasks)

    def snapshot(self) -> list[dict[str, Any]]:
        now = time.time()
        with self._lock:
            return [
                {"id": t.id, "key_index": t.key_index, "model": t.model,
                 "operation": t.operation, "status": t.phase(now)[0],
                 "cancelled": t.cancelled_at is not None, "created": t.created_at,
                 "duration_s": t.duration_s, "resolution": t.resolution,
                 "aspect_ratio": t.aspect_ratio, "seed": t.seed,
                 "request": t.request.to_body()}
                for t in self._tasks.values()
            ]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ persistence
    def _persist(self, task: Task, *, files: bool = False) -> None:
        if self._state_dir is not None:
            save_task(self._state_dir, task, files=files)

    def _load(self) -> None:
        assert self._state_dir is not None
        for task in load_tasks(self._state_dir, self.catalog):
            self._tasks[task.id] = task
            if task.rendered_at is None and not task.will_fail and task.cancelled_at is None:
                task.render = self._pool.submit(self._render, task)
