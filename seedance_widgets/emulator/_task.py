"""One emulator task: what was asked, what will be rendered, and where its clock stands."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field

from .._request import VideoRequest
from ._render import RenderInputs

VIDEO_SUFFIX = ".mp4"
LAST_FRAME_SUFFIX = "-last.png"
# Task fields written to the state dir; the rest are derived or are bytes kept beside. Input
# media are not kept: a task restarted before its render is drawn without them.
PERSISTED = ("id", "key_index", "operation", "created_at", "queue_s", "run_s", "will_fail",
             "prompt", "seed", "duration_s", "resolution", "aspect_ratio", "width", "height",
             "tokens", "cost_usd", "audio", "cancelled_at", "rendered_at", "render_error")


@dataclass
class Task:
    id: str
    key_index: int
    request: VideoRequest
    operation: str
    created_at: float
    queue_s: float
    run_s: float
    will_fail: bool
    # What is rendered and reported; resolved from the request (and its source, for extensions).
    prompt: str
    seed: int
    duration_s: int
    resolution: str
    aspect_ratio: str
    width: int
    height: int
    tokens: int
    cost_usd: float | None
    audio: bool = False  # output_audio: the file carries a sound track
    inputs: RenderInputs | None = field(default=None, repr=False)
    cancelled_at: float | None = None
    render: Future[None] | None = field(default=None, repr=False)
    rendered_at: float | None = None
    render_error: str | None = None
    video: bytes | None = field(default=None, repr=False)
    last_frame: bytes | None = field(default=None, repr=False)

    @property
    def model(self) -> str:
        return self.request.model

    @property
    def wants_last_frame(self) -> bool:
        return bool(self.request.return_last_frame)

    @property
    def running_at(self) -> float:
        return self.created_at + self.queue_s

    @property
    def finished_at(self) -> float:
        """When the clock says the task is done (the render may still be behind)."""
        return self.running_at + self.run_s

    def phase(self, now: float) -> tuple[str, int | None, float]:
        """(status, progress or None, time of the last change) at `now`."""
        if self.cancelled_at is not None:
            return "failed", None, self.cancelled_at
        if now < self.running_at:
            return "pending", None, self.created_at
        if now < self.finished_at:
            done = (now - self.running_at) / self.run_s if self.run_s else 1.0
            return "processing", min(99, int(done * 100)), self.running_at
        if self.will_fail:
            return "failed", None, self.finished_at
        if self.rendered_at is None:
            return "processing", 99, self.running_at
        finished = max(self.finished_at, self.rendered_at)
        if self.render_error:
            return "failed", None, finished
        return "completed", 100, finished
