"""What the history hands out: one task (`HistoryEntry`), a page of them, one create attempt."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._task import TERMINAL_STATES, display_status

# The tasks columns an entry is built from, in this order (the query module selects them).
TASK_COLUMNS = ("id", "server", "created_at", "updated_at", "request", "fingerprint", "status",
                "progress", "video_url", "last_frame_url", "local_path", "sha256", "cost_usd",
                "billing_transaction_id", "error", "cancelled")
SUBMIT_COLUMNS = ("attempt", "server", "sent_at", "updated_at", "request", "fingerprint",
                  "outcome", "status_code", "cause", "task_id", "dismissed_at")


def parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_request(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class HistoryEntry:
    """Everything known about one task. `request` is the create body as sent, except that
    large inline images are references (`History.full_request(id)` gives them back)."""

    id: str
    server: str
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    request: dict[str, Any] = field(default_factory=dict)
    fingerprint: str | None = None
    status: str = "pending"
    progress: int | None = None
    video_url: str | None = None
    last_frame_url: str | None = None
    local_path: str | None = None
    sha256: str | None = None
    cost_usd: float | None = None
    billing_transaction_id: str | None = None
    error: str | None = None
    cancelled: bool = False
    starred: bool = False
    note: str = ""
    tags: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Sequence[Any], *, starred: Any = 0, note: Any = "",
                 tags: Sequence[str] = ()) -> HistoryEntry:
        v = dict(zip(TASK_COLUMNS, row, strict=True))
        return cls(
            id=v["id"], server=v["server"], created_at=parse_time(v["created_at"]),
            updated_at=parse_time(v["updated_at"]), request=parse_request(v["request"]),
            fingerprint=v["fingerprint"], status=v["status"], progress=v["progress"],
            video_url=v["video_url"], last_frame_url=v["last_frame_url"],
            local_path=v["local_path"], sha256=v["sha256"], cost_usd=v["cost_usd"],
            billing_transaction_id=v["billing_transaction_id"], error=v["error"],
            cancelled=bool(v["cancelled"]), starred=bool(starred), note=note or "",
            tags=tuple(tags))

    @property
    def model(self) -> str:
        return str(self.request.get("model") or "")

    @property
    def operation(self) -> str:
        return str(self.request.get("operation") or "")

    @property
    def prompt(self) -> str:
        return str(self.request.get("prompt") or "")

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATES

    @property
    def display_status(self) -> str:
        return display_status(self.status, self.cancelled)


@dataclass(frozen=True)
class HistoryPage:
    """Entries newest first; pass `next_cursor` to `History.page` for the next (older) page."""

    entries: tuple[HistoryEntry, ...]
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class SubmitRecord:
    """One create attempt. `outcome`: in_flight (sent, no answer yet, or the process died),
    created, refused (a 4xx answer), never_sent (no connection) or ambiguous. `dismissed_at`:
    when the user said they had looked for the task an unresolved attempt may have made."""

    attempt: str
    server: str
    sent_at: dt.datetime | None
    updated_at: dt.datetime | None
    request: dict[str, Any]
    fingerprint: str | None
    outcome: str
    status_code: int | None = None
    cause: str | None = None
    task_id: str | None = None
    dismissed_at: dt.datetime | None = None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> SubmitRecord:
        v = dict(zip(SUBMIT_COLUMNS, row, strict=True))
        return cls(attempt=v["attempt"], server=v["server"], sent_at=parse_time(v["sent_at"]),
                   updated_at=parse_time(v["updated_at"]), request=parse_request(v["request"]),
                   fingerprint=v["fingerprint"], outcome=v["outcome"],
                   status_code=v["status_code"], cause=v["cause"], task_id=v["task_id"],
                   dismissed_at=parse_time(v["dismissed_at"]))

    @property
    def prompt(self) -> str:
        return str(self.request.get("prompt") or "")
