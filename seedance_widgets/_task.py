"""`Task`: one generation task as the API reports it, normalised.

The contract puts the video URL in several places (`video_url`, `video.url`,
`content.video_url`, `videos[]`, `data[]`) and the error as a string or an object; a Task reads
all of them so nothing downstream has to.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import InvalidResponseError
from ._inputs import HTTP_URL
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
EXPIRED_ALIASES = frozenset({"expired"})
# Control, format, surrogate, private-use and unassigned characters, and line/paragraph
# separators: nothing a task id or a label should carry.
_UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# The only ones ASCII has (control characters): an ASCII string, the usual answer, is checked
# with one regex scan instead of a category lookup per character.
_ASCII_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_UNPRINTABLE_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_warned_states: set[str] = set()


def normalize_status(reported: str) -> tuple[str, bool]:
    """(contract status, cancelled) for a status string as a server reported it."""
    status = reported.strip().lower()
    return STATUS_ALIASES.get(status, status), status in CANCELLED_ALIASES


def display_status(status: str, cancelled: bool) -> str:
    """The one word a person sees for a task's state; the front end shows it as given."""
    return "cancelled" if cancelled else status


class TaskErrorInfo(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    code: str | None = None
    message: str = ""


class Task(BaseModel):
    """A snapshot of a task. New snapshots replace old ones; a Task is never mutated.

    `from_response` builds one from whatever a server answered: every field is read leniently
    (junk becomes None) except the id, which must be readable (`readable_id`).
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

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
    billing_transaction_id: str | None = None
    eta_seconds: float | None = None
    poll_url: str | None = None
    request: VideoRequest | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATES

    @property
    def terminal(self) -> bool:
        """Same as `is_terminal`: the one answer to "has it ended?" (the front end reads it)."""
        return self.is_terminal

    @property
    def display_status(self) -> str:
        return display_status(self.status, self.cancelled)

    @property
    def succeeded(self) -> bool:
        return self.status == COMPLETED

    @classmethod
    def from_response(cls, body: Any, request: VideoRequest | None = None,
                      previous: Task | None = None,
                      headers: Mapping[str, str] | None = None) -> Task:
        """The task an answer describes. Raises `InvalidResponseError` (and nothing else) when
        it names no readable task; every other junk field is read as "not given".

        `body` and `headers` must come through `_answer` (bounded, scrubbed of the key).
        When `previous` is given, its id wins: the task is the one we asked about.
        """
        body = body if isinstance(body, dict) else {}
        head = {k.lower(): v for k, v in (headers or {}).items()}
        header_id = readable_id(head.get("x-task-id"))
        task_id = previous.id if previous else (
            readable_id(body.get("task_id")) or readable_id(body.get("id")) or header_id)
        if not task_id:
            raise InvalidResponseError("the answer names no readable task id")
        if header_id and header_id != task_id:
            log.warning("task %s: the X-Task-ID header names %s; keeping %s", task_id,
                        header_id, task_id)
        reported = _text(body.get("status"), 64)
        status, cancelled_alias = normalize_status(
            reported or (previous.status if previous else PENDING))
        if status not in KNOWN_STATES and status not in _warned_states:
            # Unknown states are treated as "still running": safer than assuming an end.
            if len(_warned_states) < 100:  # a server inventing states cannot grow it forever
                _warned_states.add(status)
            log.warning("task %s reports unknown status %r; treating it as running",
                        task_id, status)
        video = body.get("video") if isinstance(body.get("video"), dict) else {}
        progress = _progress(body.get("progress"))
        if status == COMPLETED and progress is None and previous and previous.progress:
            progress = 100
        error = _error(body.get("error"))
        if error is None and reported and reported.strip().lower() in EXPIRED_ALIASES:
            error = TaskErrorInfo(code="expired", message="the task expired before it finished")
        try:
            return cls(
                id=task_id,
                status=status,
                progress=progress,
                created_at=_time(body.get("created"))
                or (previous.created_at if previous else None),
                updated_at=_time(body.get("updated")),
                model=_text(body.get("model"), 100) or (previous.model if previous else None),
                error=error,
                cancelled=(body.get("cancelled") is True or cancelled_alias
                           or body.get("cancellation_status") == "cancelled"),
                video_url=find_video_url(body),
                last_frame_url=find_last_frame_url(body),
                video_duration=_bounded(video.get("duration"), 0, 86400),
                width=_int(video.get("width")),
                height=_int(video.get("height")),
                cost_usd=_cost(body),
                billing_transaction_id=(_text(body.get("billing_transaction_id"), 200)
                                        or _text(head.get("x-billing-transaction-id"), 200)
                                        or (previous.billing_transaction_id if previous
                                            else None)),
                poll_url=_poll_path(body.get("poll_url"))
                or (previous.poll_url if previous else None),
                request=request or (previous.request if previous else None),
                raw=body,
            )
        except ValidationError as exc:  # a last guard: the coercions above should make it moot
            raise InvalidResponseError(f"task {task_id}: the answer has unreadable fields "
                                       f"({exc.error_count()})") from None

    def summary(self) -> str:
        bits = [self.id, self.display_status]
        if self.progress is not None and not self.is_terminal:
            bits.append(f"{self.progress}%")
        if self.error:
            bits.append(self.error.message)
        return " · ".join(bits)


def readable_id(value: Any) -> str | None:
    """A task id we can keep, poll and show: a string (or an integer) of 1-512 printable
    characters with no surrounding space. Anything else is "no readable id"."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**30:
        value = str(value)
    if not isinstance(value, str) or not 0 < len(value) <= 512 or value != value.strip():
        return None
    return None if _has_unprintable(value) else value


def _has_unprintable(text: str, *, or_space: bool = False) -> bool:
    if text.isascii():
        pattern = _ASCII_UNPRINTABLE_OR_SPACE if or_space else _ASCII_UNPRINTABLE
        return pattern.search(text) is not None
    return any(unicodedata.category(c) in _UNPRINTABLE or (or_space and c.isspace())
               for c in text)


def _entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key in ("videos", "data"):
        items = body.get(key)
        if isinstance(items, list):
            out += [i for i in items[:20] if isinstance(i, dict)]
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
    return next((u for u in map(_result_url, candidates) if u), None)


def find_last_frame_url(body: dict[str, Any]) -> str | None:
    content = body.get("content")
    candidates: list[Any] = [
        body.get("last_frame_url"),
        content.get("last_frame_url") if isinstance(content, dict) else None,
    ]
    candidates += [e.get("last_frame_url") for e in _entries(body)]
    return next((u for u in map(_result_url, candidates) if u), None)


def _result_url(value: Any) -> str | None:
    """An http(s) URL fit to fetch or to put in a page; anything else (javascript:, file:,
    spaces, control characters, absurd lengths) is no URL at all."""
    if not isinstance(value, str) or not 0 < len(value) <= 8192:
        return None
    return value if HTTP_URL.fullmatch(value) else None


def _poll_path(value: Any) -> str | None:
    """A poll_url we may follow: a path on the API (absolute URLs are judged by the client)."""
    if not isinstance(value, str) or not 0 < len(value) <= 2048:
        return None
    return None if _has_unprintable(value, or_space=True) else value


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    value = value[:limit]
    if value.isascii():
        value = _ASCII_UNPRINTABLE.sub("", value)
    else:
        value = "".join(c for c in value if unicodedata.category(c) not in _UNPRINTABLE)
    return value or None


def _error(value: Any) -> TaskErrorInfo | None:
    if not value:
        return None
    if isinstance(value, str):
        return TaskErrorInfo(message=_cap(value))
    if isinstance(value, dict):
        code = _text(value.get("code"), 100) or _text(value.get("type"), 100)
        message = value.get("message")
        return TaskErrorInfo(code=code, message=_cap(
            message if isinstance(message, str) and message else code or "the task failed"))
    return TaskErrorInfo(message="the task failed (the server's reason is unreadable)")


def _cap(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# Unix times between these are plausible for a task (2001-09 .. 2100-01): a value read as
# seconds above the range is taken as milliseconds, then microseconds.
_MIN_TS, _MAX_TS = 1e9, 4.1e9


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        for scale in (1, 1e3, 1e6):
            seconds = value / scale
            if _MIN_TS <= seconds <= _MAX_TS:
                return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        return None
    if isinstance(value, str) and len(value) <= 64:
        try:
            stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
        return stamp if _MIN_TS <= stamp.timestamp() <= _MAX_TS else None
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _progress(value: Any) -> int | None:
    if isinstance(value, str) and len(value) <= 8:
        try:
            value = float(value.strip().rstrip("%"))
        except ValueError:
            return None
    number = _number(value)
    return None if number is None else int(min(100.0, max(0.0, number)))


def _bounded(value: Any, low: float, high: float) -> float | None:
    number = _number(value)
    return number if number is not None and low <= number <= high else None


def _int(value: Any) -> int | None:
    number = _bounded(value, 1, 100_000)
    return None if number is None else int(number)


def _cost(body: dict[str, Any]) -> float | None:
    for key in ("billing", "usage"):
        part = body.get(key)
        if isinstance(part, dict):
            for name in ("cost_usd", "total_cost_usd", "amount_usd"):
                cost = _bounded(part.get(name), 0, 1e6)
                if cost is not None:
                    return cost
    return _bounded(body.get("cost_usd"), 0, 1e6)
