"""One exception tree for everything that can go wrong.

    SeedanceError
    ├── APIError                    an HTTP error answer from the API
    │   ├── BadRequestError         400 (validation_errors, allowed_* hints)
    │   ├── AuthenticationError     401
    │   ├── PaymentRequiredError    402 (balance_usd, estimated_cost_usd)
    │   ├── PermissionDeniedError   403
    │   ├── NotFoundError           404
    │   ├── ConflictError           409 (MaterialPreparingError: retry after the asset is ACTIVE)
    │   ├── RateLimitError          429
    │   └── ServerError             5xx
    ├── APIConnectionError          the network failed
    │   ├── APITimeoutError         it timed out, or a deadline passed
    │   └── InvalidResponseError    the answer could not be read (not JSON, too big, no id)
    ├── AmbiguousSubmitError        a create may or may not have reached the server; never resent
    ├── BudgetExceededError         a submit would cross the session budget
    ├── UsageError                  an argument or setting was refused before anything was sent
    ├── SaveError                   a result could not be written to disk
    ├── HistoryError                the task history cannot be read or written (`kind` says why)
    ├── TaskError                   about one task
    │   ├── TaskFailedError, TaskCancelledError
    │   ├── TaskTimeoutError        the wait's deadline passed; the task keeps running
    │   ├── TaskNotRecordedError    created on the server, but the history could not record it
    │   └── ResultExpiredError      the result URL no longer answers
    ├── AssetError                  about one material asset
    │   ├── AssetFailedError        it ended FAILED (error_message) or was deleted
    │   └── AssetTimeoutError       still PROCESSING at the wait's deadline
    └── MediaHostError              a local file could not be published on the media host

Messages come from the server or from us; `redact` strips the API key (and the forms it takes
in reprs, JSON and URLs) from both, because a server may echo a header back and exceptions end
up in notebooks and logs. `scrub` does the same to a whole JSON value: every answer passes
through it where it enters the client, so tasks, history, widgets and logs are clean too.
`UsageError` is also a `ValueError`, so code that checks arguments the usual way still works.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from ._assets import Asset
    from ._request import VideoRequest
    from ._task import Task

_SECRETS: dict[str, str] = {}  # a form the key takes -> what replaces it
_LONGEST_FIRST: list[str] = []  # the forms in the order `redact` tries them
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _forms(value: str) -> set[str]:
    """The spellings a key takes on its way back to us: as sent, in a Python repr or a JSON
    string (escapes), percent-encoded in a URL."""
    return {value, repr(value)[1:-1], json.dumps(value)[1:-1], quote(value, safe="")}


def register_secret(value: str | None) -> None:
    """Remember a key so that every message and answer handled later is scrubbed of it."""
    if not value or len(value.strip()) < 8:
        return
    for raw in {value, value.strip()}:
        for form in _forms(raw):
            _SECRETS[form] = raw.strip()[:3] + "…[redacted]"
    # Sorted here, once, not on each of the ~20 strings of every answer `redact` sees.
    _LONGEST_FIRST[:] = sorted(_SECRETS, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` without any registered key, in any of its forms (longest forms first)."""
    for form in _LONGEST_FIRST:
        if form in text:
            text = text.replace(form, _SECRETS[form])
    return text


def clean_text(text: str) -> str:
    """Server text made safe to keep and print: no key, no lone surrogates (which cannot be
    encoded, so they would crash a terminal, a log file or the history)."""
    text = redact(text)
    return text if text.isascii() else _LONE_SURROGATE.sub("\ufffd", text)


def scrub(value: Any) -> Any:
    """A JSON value with `clean_text` applied to every string in it, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


class _RedactingFilter(logging.Filter):
    """Scrubs log records of the HTTP stack and ours: httpcore logs response headers at DEBUG,
    and a server that echoes the Authorization header would put the key there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            text = record.getMessage()
            clean = clean_text(text)
            if clean != text:
                record.msg, record.args = clean, ()
            if record.exc_info and not record.exc_text:
                record.exc_text = clean_text(logging.Formatter().formatException(record.exc_info))
        return True


_LOGGERS = ("seedance_widgets", "httpx", "httpcore.connection", "httpcore.http11",
            "httpcore.http2", "httpcore.proxy", "httpcore.socks")
for _name in _LOGGERS:
    logging.getLogger(_name).addFilter(_RedactingFilter())


class SeedanceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(clean_text(message))

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


HINT_FIELDS = (
    "allowed_resolutions", "allowed_durations", "allowed_aspect_ratios", "supported_operations",
    "supported_parameters", "prompt_max_characters", "balance_usd", "estimated_cost_usd",
    "did_you_mean", "hint", "auto_material_asset_ids", "model",
)


class APIError(SeedanceError):
    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        err = body.get("error") if isinstance(body, dict) else None
        err = err if isinstance(err, dict) else {}
        self.status_code = status_code
        self.type: str | None = _word(err.get("type"))
        self.code: str | None = _word(err.get("code"))
        self.param: str | None = _word(err.get("param"))
        retryable = err.get("retryable")
        self.retryable: bool | None = retryable if isinstance(retryable, bool) else None
        self.retry_after = retry_after
        self.hints: dict[str, Any] = {k: err[k] for k in HINT_FIELDS if k in err}
        errors = body.get("validation_errors") if isinstance(body, dict) else None
        self.validation_errors: list[dict[str, Any]] = (
            [e for e in errors if isinstance(e, dict)][:50] if isinstance(errors, list) else [])
        self.body = body
        self.headers = headers or {}
        detail = f" [{self.type}{'/' + self.code if self.code else ''}]" if self.type else ""
        hint = "".join(f"; {k}: {_fmt(v)}" for k, v in self.hints.items() if k != "model")
        super().__init__(_cap(f"HTTP {status_code}{detail}: {message}{hint}"))

    def __getattr__(self, name: str) -> Any:
        # allowed_resolutions, balance_usd, ... read straight from the hints
        hints = self.__dict__.get("hints", {})
        if name in HINT_FIELDS:
            return hints.get(name)
        raise AttributeError(name)


def _fmt(value: Any) -> str:
    return _cap(", ".join(map(str, value)) if isinstance(value, list) else str(value), 300)


def _word(value: Any) -> str | None:
    """A short label from an error body (type, code, param), or None when it is not one."""
    return value[:100] if isinstance(value, str) and value else None


def _cap(text: str, limit: int = 2000) -> str:
    # A server can answer with megabytes of "message"; a person reads the start.
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more]"


class BadRequestError(APIError):
    status_code = 400


class AuthenticationError(APIError):
    status_code = 401


class PaymentRequiredError(APIError):
    status_code = 402


class PermissionDeniedError(APIError):
    status_code = 403


class NotFoundError(APIError):
    status_code = 404


class ConflictError(APIError):
    status_code = 409


class MaterialPreparingError(ConflictError):
    """409 seedance_material_preparing: retry once the material is ACTIVE."""


class RateLimitError(APIError):
    status_code = 429


class ServerError(APIError):
    status_code = 500


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError, 401: AuthenticationError, 402: PaymentRequiredError,
    403: PermissionDeniedError, 404: NotFoundError, 409: ConflictError, 429: RateLimitError,
}


def error_class(status: int, body: Any) -> type[APIError]:
    if status == 409 and isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("code") == "seedance_material_preparing":
            return MaterialPreparingError
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)


class APIConnectionError(SeedanceError):
    pass


class APITimeoutError(APIConnectionError):
    pass


class DeadlineExceeded(APITimeoutError):
    """The caller's deadline passed (or would pass before the next retry); `last` is the
    failure that was being retried, if any."""

    def __init__(self, message: str, last: BaseException | None = None) -> None:
        self.last = last
        super().__init__(message)


class InvalidResponseError(APIConnectionError):
    """The server answered, but not with anything we can read (retried like a network fault)."""


class AmbiguousSubmitError(SeedanceError):
    """The create request may have reached the server. It is not resent automatically.

    Look for the task with `fingerprint` and `sent_at` (`seedance_widgets.history()` lists the
    attempt) before trying again, or you may pay twice.
    """

    def __init__(self, request: VideoRequest, sent_at: dt.datetime, cause: str) -> None:
        self.request = request
        self.fingerprint = request.fingerprint()
        self.sent_at = sent_at
        super().__init__(
            f"the create request may have reached the server ({cause}); it was NOT resent. "
            f"Check your tasks for fingerprint {self.fingerprint} sent at "
            f"{sent_at.isoformat(timespec='seconds')} before submitting again"
        )


class BudgetExceededError(SeedanceError):
    pass


class UsageError(SeedanceError, ValueError):
    """An argument or setting was refused before anything was sent (a key, a URL, a figure)."""


class SaveError(SeedanceError):
    """A result could not be written to disk (the folder, the disk, the file system refused)."""


class HistoryError(SeedanceError):
    """The task history cannot be used. `kind` is one of `read-only`, `full`, `locked`,
    `corrupt`, `newer-schema`, `missing` or `io`; `path` is the file or folder concerned."""

    def __init__(self, message: str, *, kind: str = "io", path: str | None = None) -> None:
        self.kind = kind
        self.path = path
        super().__init__(message)


class TaskError(SeedanceError):
    def __init__(self, message: str, task: Task | None = None) -> None:
        self.task = task
        super().__init__(message)


class TaskFailedError(TaskError):
    pass


class TaskCancelledError(TaskError):
    pass


class TaskTimeoutError(TaskError):
    pass


class TaskNotRecordedError(TaskError):
    """The server created the task (it runs, and may be charged), but the history could not
    record it. `task` and `task_id` are how to follow it: `client.wait(err.task)`."""

    def __init__(self, task: Task, reason: str) -> None:
        self.task_id = task.id
        super().__init__(
            f"task {task.id} was created on the server (it runs and may be charged) but could "
            f"not be recorded in the history: {reason}. Keep this id; follow the task with "
            f"client.wait({task.id!r})", task)
        self.task: Task = task


class ResultExpiredError(TaskError):
    pass


class AssetError(SeedanceError):
    def __init__(self, message: str, asset: Asset | None = None) -> None:
        self.asset = asset
        super().__init__(message)


class AssetFailedError(AssetError):
    pass


class AssetTimeoutError(AssetError):
    pass


class MediaHostError(SeedanceError):
    pass
