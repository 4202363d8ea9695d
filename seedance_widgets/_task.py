"""`Task`: one generation task as the API reports it, normalised.

The contract puts the video URL in several places (`video_url`, `video.url`,
`content.video_url`, `videos[]`, `data[]`) and the error as a string or an object; a Task reads
all of them so nothing downstream has to.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ._request import VideoRequest

log = logging.getLogger("seedance_widgets")

PENDING, PROCESSING, COMPLETED, FAILED = "pending", "processing", "completed", "failed"
TERMINAL_STATES = frozenset({COMPLETED, FAILED})
KNOWN_STATES = frozenset({PENDING, PROCESSING, COMPLETED, FAILED})
# Other Seedance front doors (BytePlus, fal, Replicate-style wrappers) spell states their own
# way. Each is mapped to the contract's four explicitly; `cancelled` also sets Task.cancelled.
# Anything else is kept as reported and treated as still running until the wait's deadline.
STATUS_ALIASES: dict[str, str] = {
    "queued": PENDING, "submitted": PENDING, "created": PENDING, "in_queue": PENDING,
    "running": PROCESSING, "in_progress": PROCESSING, "starting": PROCESSING,
    "succeeded": COMPLETED, "success": COMPLETED, "done": COMPLETED,
    "cancelled": FAILED, "canceled": FAILED, "expired": FAILED, "error": FAILED,
}
CANCELLED_ALIASES = frozenset({"cancelled", "canceled"})
_warned_states: set[str] = set()


def normalize_status(reported: str) -> tuple[str, bool]:
    """(contract status, cancelled) for a status string as a server reported it."""
    status = reported.strip().lower()
    return STATUS_ALIASES.get(status, status), status in CANCELLED_ALIASES


def display_status(status: str, cancelled: bool) -> str:
    """The one word a person sees for a task's state; the front end shows it as given."""
    return "cancelled" if cancelled else status


class TaskErrorInfo(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: str | None = None
    message: str = ""


class Task(BaseModel):
    """A snapshot of a task. New snapshots replace old ones; a Task is never mutated."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: str = PENDING
    progress: int | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    model: str | None = None
    error: TaskErrorInfo | None = None
    cancelled: bool = False
    video_url: str | None = None
    last_frame_url: str | None = None
    video_duration: float | None = None
    width: int | None = None
    height: int | None = None
    cost_usd: float | None = None
    eta_seconds: float | None = None
    poll_url: str | None = None
    request: VideoRequest | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATES

    @property
    def display_status(self) -> str:
        return display_status(self.status, self.cancelled)

    @property
    def succeeded(self) -> bool:
        return self.status == COMPLETED

    @classmethod
    def from_response(cls, body: dict[str, Any], request: VideoRequest | None = None,
                      previous: Task | None = None) -> Task:
        task_id = str(body.get("task_id") or body.get("id") or (previous.id if previous else ""))
        if not task_id:
            raise ValueError("task body has neither id nor task_id")
        status, cancelled_alias = normalize_status(
            str(body.get("status") or (previous.status if previous else PENDING)))
        if status not in KNOWN_STATES and status not in _warned_states:
            # Unknown states are treated as "still running": safer than assuming an end.
            _warned_states.add(status)
            log.warning("task %s reports unknown status %r; treating it as running",
                        task_id, status)
        video = body.get("video") if isinstance(body.get("video"), dict) else {}
        progress = body.get("progress")
        if status == COMPLETED and progress is None and previous and previous.progress:
            progress = 100
        return cls(
            id=task_id,
            status=status,
            progress=int(progress) if isinstance(progress, int | float) else None,
            created_at=_time(body.get("created")) or (previous.created_at if previous else None),
            updated_at=_time(body.get("updated")),
            model=body.get("model") or (previous.model if previous else None),
            error=_error(body.get("error")),
            cancelled=bool(body.get("cancelled") or body.get("cancellation_status")
                           or cancelled_alias),
            video_url=find_video_url(body),
            last_frame_url=find_last_frame_url(body),
            video_duration=_num(video.get("duration")),
            width=_int(video.get("width")),
            height=_int(video.get("height")),
            cost_usd=_cost(body),
            poll_url=body.get("poll_url") or (previous.poll_url if previous else None),
            request=request or (previous.request if previous else None),
            raw=body,
        )

    def summary(self) -> str:
        bits = [self.id, self.status]
        if self.progress is not None and not self.is_terminal:
            bits.append(f"{self.progress}%")
        if self.error:
            bits.append(self.error.message)
        return " · ".join(bits)


def _entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key in ("videos", "data"):
        items = body.get(key)
        if isinstance(items, list):
            out += [i for i in items if isinstance(i, dict)]
    return out


def find_video_url(body: dict[str, Any]) -> str | None:
    video = body.get("video")
    content = body.get("content")
    candidates: list[Any] = [
        body.get("video_url"),
        video.get("url") if isinstance(video, dict) else None,
        content.get("video_url") if isinstance(content, dict) else None,
        content.get("file_url") if isinstance(content, dict) else None,
    ]
    for entry in _entries(body):
        candidates += [entry.get("url"), entry.get("video_url")]
    return next((c for c in candidates if isinstance(c, str) and c), None)


def find_last_frame_url(body: dict[str, Any]) -> str | None:
    content = body.get("content")
    candidates: list[Any] = [
        body.get("last_frame_url"),
        content.get("last_frame_url") if isinstance(content, dict) else None,
    ]
    candidates += [e.get("last_frame_url") for e in _entries(body)]
    return next((c for c in candidates if isinstance(c, str) and c), None)


def _error(value: Any) -> TaskErrorInfo | None:
    if not value:
        return None
    if isinstance(value, str):
        return TaskErrorInfo(message=value)
    if isinstance(value, dict):
        return TaskErrorInfo(code=value.get("code") or value.get("type"),
                             message=str(value.get("message") or value.get("code") or value))
    return TaskErrorInfo(message=str(value))


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float) and value > 0:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _cost(body: dict[str, Any]) -> float | None:
    for key in ("billing", "usage"):
        part = body.get(key)
        if isinstance(part, dict):
            for name in ("cost_usd", "total_cost_usd", "amount_usd"):
                if isinstance(part.get(name), int | float):
                    return float(part[name])
    return _num(body.get("cost_usd"))
