"""`AsyncSeedanceClient`: the async core that the sync facade, the CLI and the widgets share.

Money rules, enforced here and nowhere else:
- A create is resent only when it provably never reached the server (no connection was made),
  or when the server explicitly said "not now" (429, 409 seedance_material_preparing).
  Anything ambiguous raises `AmbiguousSubmitError` and is journaled, never retried.
- Every created task is journaled (fsync'd) before `create` returns: a 2xx answer with a
  readable task id is a task, however junk its other fields; without one it is ambiguous.
- The bearer token goes only to the API origin: status URLs on another origin are ignored, and
  result downloads use a second HTTP client that has no Authorization header.

Deadline rules: every `wait`, `get(timeout=...)` and `download` ends by its deadline whatever
the server does (silence, trickled bodies, endless 429s): each attempt is bounded as a whole,
and retries inside a deadline are bounded by it rather than by an attempt count.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx

from ._catalog import Catalog, ModelSpec, default_catalog
from ._errors import (
    AmbiguousSubmitError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConflictError,
    DeadlineExceeded,
    InvalidResponseError,
    MaterialPreparingError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResultExpiredError,
    SaveError,
    SeedanceError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskTimeoutError,
    clean_text,
)
from ._files import destination, prepare_folder, write_text
from ._journal import Journal, data_dir
from ._request import VideoRequest
from ._retry import RETRYABLE_STATUS, Attempts, RetryPolicy
from ._schedule import PollSchedule
from ._task import Task
from ._transport import (
    Answer,
    PollSlots,
    TooLarge,
    api_error,
    checked_base_url,
    checked_key,
    exchange,
    read_capped,
)
from ._version import __version__

log = logging.getLogger("seedance_widgets")

DEFAULT_BASE_URL = "https://api.tokenlab.sh"
KEY_ENV, BASE_URL_ENV = "TOKENLAB_API_KEY", "TOKENLAB_BASE_URL"
DEFAULT_WAIT_TIMEOUT = 3600.0
DEFAULT_DOWNLOAD_TIMEOUT = 900.0
# The contract lets the server hold a create up to 60 s while it prepares an image as a
# material (then 409 seedance_material_preparing); a shorter read timeout would turn a
# legitimate slow create into an ambiguous one.
CREATE_TIMEOUT = 90.0
MAX_RESULT_BYTES = 4 * 1024**3
# A connection that was never made cannot have delivered a create: safe to resend.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
             httpx.UnsupportedProtocol)

TaskRef = Task | str


@dataclass(frozen=True)
class CancelResult:
    """The outcome of a cancel: `cancelled`, `not_cancellable`, `unsupported` or `not_found`."""

    outcome: Literal["cancelled", "not_cancellable", "unsupported", "not_found"]
    task: Task | None
    message: str

    @property
    def cancelled(self) -> bool:
        return self.outcome == "cancelled"


class AsyncSeedanceClient:
    """Async client of the TokenLab video API for Seedance 2.0.

    `AsyncSeedanceClient(api_key=None, base_url=None, *, transport=None, timeout=30)`: the key
    comes from the argument or `TOKENLAB_API_KEY`, the base URL from the argument,
    `TOKENLAB_BASE_URL` or `https://api.tokenlab.sh`; both are checked here (UsageError), before
    anything is sent. `timeout` is httpx's (connect, each read, ...), and twice it bounds a
    request as a whole, so a trickling answer cannot stretch it; creates get `create_timeout`
    (90 s: the contract's 60 s material preparation plus the network).
    Use it as an async context manager. For an offline client on the built-in emulator, use
    `seedance_widgets.connect()`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        download_transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        journal: Journal | Literal[False] | None = None,
        catalog: Catalog | None = None,
        server_label: str | None = None,
        rng: random.Random | None = None,
        poll_concurrency: int = 8,
        create_timeout: float = CREATE_TIMEOUT,
    ) -> None:
        raw_key = api_key or os.environ.get(KEY_ENV)
        if not raw_key:
            raise SeedanceError(
                f"no API key: pass api_key=..., set {KEY_ENV}, or call "
                "seedance_widgets.connect() for demo mode on the built-in emulator"
            )
        key = checked_key(raw_key, "api_key" if api_key else KEY_ENV)
        url_source = "base_url" if base_url else BASE_URL_ENV
        self.base_url = checked_base_url(
            base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL, url_source)
        self._origin = httpx.URL(self.base_url)
        self.server_label = server_label or self.base_url
        self.retry = retry or RetryPolicy()
        self.catalog = catalog or default_catalog()
        self.journal: Journal | None = (None if journal is False else journal or Journal())
        self._rng = rng or random.Random()
        self._timeout = timeout
        self._create_timeout = max(timeout, create_timeout)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout, pool=max(timeout, 60.0)),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
            headers={"Authorization": f"Bearer {key}", "Accept": "application/json",
                     "User-Agent": f"seedance-widgets/{__version__}"},
            follow_redirects=False,  # a redirect must never carry the bearer token elsewhere
        )
        self._download_transport = download_transport
        self._downloader: httpx.AsyncClient | None = None
        self._closed = False
        # Hundreds of watched tasks wake together; answering them all in one loop turn froze a
        # kernel for ~0.4 s (bench: 500 tasks). A cap on status GETs starting together spreads
        # it; a slot is lent for 1 s at most, so trickling answers cannot starve other polls.
        self._poll_slots = PollSlots(poll_concurrency, hold=1.0)
        self._journaled: dict[str, tuple[Any, ...]] = {}

    @property
    def demo(self) -> bool:
        return self.server_label == "demo"

    def __repr__(self) -> str:
        mode = "demo" if self.demo else "live"
        return f"AsyncSeedanceClient(base_url={self.base_url!r}, mode={mode}, key=<set>)"

    async def __aenter__(self) -> AsyncSeedanceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        await self._http.aclose()
        if self._downloader is not None:
            await self._downloader.aclose()

    # ------------------------------------------------------------------ transport + retries
    async def _call(self, method: str, url: str, *, deadline: float | None = None,
                    poll: bool = False) -> Answer:
        """GET/DELETE with retries on 408, 429, 5xx, transport errors and unreadable answers.

        With a `deadline` (monotonic) the retries run until it and it bounds each attempt;
        DeadlineExceeded says it passed. Without one, the policy's attempt count applies.
        """
        what = f"{method} {url}"
        attempts = Attempts(self.retry, self._rng, deadline=deadline, what=what)
        # httpx's timeouts restart with every byte; this bounds an attempt as a whole.
        whole = 2 * self._timeout
        loop_deadline = None if deadline is None else (
            asyncio.get_running_loop().time() + deadline - time.monotonic())
        async for _ in attempts:
            left = attempts.left()
            if left is not None and left <= 0:
                raise DeadlineExceeded(f"{what}: the deadline passed")
            try:
                answer = await exchange(self._http, method, url, limit_s=whole,
                                        deadline=loop_deadline,
                                        slots=self._poll_slots if poll else None)
            except TimeoutError:
                if deadline is not None and time.monotonic() >= deadline - 0.005:
                    raise DeadlineExceeded(f"{what}: no answer before the deadline") from None
                attempts.retry(APITimeoutError(f"{what}: no complete answer within {whole:g} s"))
                continue
            except httpx.TimeoutException as exc:
                attempts.retry(APITimeoutError(f"{what}: timed out ({type(exc).__name__})"))
                continue
            except httpx.TransportError as exc:
                attempts.retry(APIConnectionError(f"{what}: {type(exc).__name__}: {exc}"))
                continue
            if answer.ok and isinstance(answer.body, dict):
                return answer
            if answer.ok:
                attempts.retry(InvalidResponseError(f"{what}: the answer is not readable JSON"))
            elif answer.status in RETRYABLE_STATUS:
                error = api_error(answer)
                attempts.retry(error, error.retry_after)
            else:
                raise api_error(answer)
            log.debug("retrying %s after %s", what, attempts.error)
        raise APIConnectionError(f"{what}: no attempt was made")  # pragma: no cover

    # ------------------------------------------------------------------ create
    async def create(self, request: VideoRequest | Mapping[str, Any] | None = None, /,
                     **fields: Any) -> Task:
        """Submit one generation. Never resent if it may have reached the server."""
        req = self._coerce(request, fields)
        body = req.to_body()
        attempt_id = uuid.uuid4().hex
        if self.journal is not None:
            self.journal.submitting(attempt=attempt_id, server=self.server_label, request=body,
                                    fingerprint=req.fingerprint())
        attempts = Attempts(self.retry, self._rng, what="create")
        limit = httpx.Timeout(self._timeout, read=self._create_timeout)
        async for attempt in attempts:
            sent_at = dt.datetime.now(dt.UTC)
            try:
                answer = await exchange(self._http, "POST", "/v1/videos/generations", json=body,
                                        limit_s=self._create_timeout, timeout=limit)
            except _NOT_SENT as exc:
                attempts.retry(APIConnectionError(f"could not connect to {self.base_url}: {exc}"))
                continue
            except (TimeoutError, httpx.TimeoutException, httpx.TransportError) as exc:
                cause = "no answer in time" if isinstance(exc, TimeoutError) else \
                    type(exc).__name__
                raise self._ambiguous(req, sent_at, cause, attempt_id) from None
            if answer.ok:
                try:
                    task = Task.from_response(answer.body, request=req, headers=answer.headers)
                except InvalidResponseError:
                    raise self._ambiguous(req, sent_at, "the answer names no readable task id",
                                          attempt_id) from None
                if self.journal is not None:
                    self.journal.created(task_id=task.id, server=self.server_label, request=body,
                                         fingerprint=req.fingerprint(), status=task.status,
                                         attempt=attempt_id)
                    self._journaled[task.id] = _journal_state(task)
                    if task.billing_transaction_id:
                        self.journal.update(task.id,
                                            billing_transaction_id=task.billing_transaction_id)
                return task
            if answer.status >= 500 or answer.status == 408 or answer.status < 400:
                raise self._ambiguous(req, sent_at, f"HTTP {answer.status}", attempt_id)
            error = api_error(answer)
            if not isinstance(error, RateLimitError | MaterialPreparingError):
                raise error
            wait = error.retry_after
            if wait is None:
                wait = max(1.0, self.retry.backoff(attempt + 1, self._rng))
            log.info("create refused for now (%s); retrying in %.1fs", error.code or
                     error.status_code, wait)
            attempts.retry(error, wait)
        raise APIConnectionError("create did not succeed within the retry budget")

    def _coerce(self, request: VideoRequest | Mapping[str, Any] | None,
                fields: Mapping[str, Any]) -> VideoRequest:
        if isinstance(request, VideoRequest) and not fields:
            return request
        data = request.to_body() if isinstance(request, VideoRequest) else dict(request or {})
        return VideoRequest.model_validate({**data, **fields}, context={"catalog": self.catalog})

    def _ambiguous(self, req: VideoRequest, sent_at: dt.datetime, cause: str,
                   attempt_id: str) -> AmbiguousSubmitError:
        err = AmbiguousSubmitError(req, sent_at, cause)
        if self.journal is not None:
            self.journal.ambiguous(server=self.server_label, request=req.to_body(),
                                   fingerprint=err.fingerprint, sent_at=sent_at.isoformat(),
                                   cause=cause, attempt=attempt_id)
        log.warning("%s", err)
        return err

    # ------------------------------------------------------------------ status
    def _status_url(self, task: Task) -> str:
        """The poll_url when it is a path on the API (or an absolute URL on its origin) under
        /v1/, else the fixed status route: a server never sends our token elsewhere."""
        fixed = task_path(task.id)
        if not task.poll_url:
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
            answer = await self._call("GET", url, deadline=deadline, poll=True)
        except NotFoundError:
            if url == fixed:
                raise
            answer = await self._call("GET", fixed, deadline=deadline, poll=True)
        return Task.from_response(answer.body, previous=current, headers=answer.headers)

    def _journal_snapshot(self, task: Task) -> None:
        """Append the task's state to the journal when it changed since we last wrote it."""
        if self.journal is None:
            return
        state = _journal_state(task)
        if self._journaled.get(task.id) == state:
            return
        self._journaled[task.id] = state
        self.journal.update(task.id, status=task.status, progress=task.progress,
                            video_url=task.video_url, last_frame_url=task.last_frame_url,
                            error=task.error.message if task.error else None,
                            cancelled=task.cancelled or None, cost_usd=task.cost_usd,
                            billing_transaction_id=task.billing_transaction_id)

    async def cancel(self, task: TaskRef, *, timeout: float | None = 60.0) -> CancelResult:
        """Cancel a task that is still queued. The outcome says what happened.

        `timeout` bounds the whole call (APITimeoutError after it).
        """
        current = task if isinstance(task, Task) else Task(id=str(task))
        url = task_path(current.id)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            answer = await self._call("DELETE", url, deadline=deadline)
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
        self._journal_snapshot(snapshot)
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
        self._journal_snapshot(current)  # a task that ended unwatched is recorded too
        # The schedule sees each snapshot as soon as it arrives, so the ETA it carries
        # already counts that snapshot's progress.
        delay = schedule.next_delay(offset, current.status, current.progress)
        yield current
        while not current.is_terminal:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise _timed_out(current, timeout)
                delay = min(delay, left)
            await asyncio.sleep(delay)
            try:
                current = await self.get(current, deadline=deadline)
            except DeadlineExceeded as exc:
                raise _timed_out(current, timeout, exc) from None
            elapsed = offset + time.monotonic() - start
            delay = schedule.next_delay(elapsed, current.status, current.progress)
            eta = schedule.eta(elapsed)
            if eta is not None and not current.is_terminal:
                current = current.model_copy(update={"eta_seconds": eta})
            self._journal_snapshot(current)
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

    # ------------------------------------------------------------------ results
    async def download(self, task: TaskRef, path_or_dir: str | os.PathLike[str] | None = None,
                       *, timeout: float | None = DEFAULT_DOWNLOAD_TIMEOUT,
                       max_bytes: int = MAX_RESULT_BYTES) -> Path:
        """Save the video; atomic rename, size check and a JSON sidecar beside it.

        A folder (or None: the videos folder of the data dir) gets a file named after the task
        id, made safe (`_files.safe_filename`); a file path is used as given. `timeout` bounds
        the whole download, retries and URL refreshes included (APITimeoutError after it).
        Every failure is a SeedanceError; nothing is left behind but a finished file.
        """
        try:
            async with asyncio.timeout(timeout):
                deadline = None if timeout is None else time.monotonic() + timeout
                return await self._download(task, path_or_dir, deadline, max_bytes)
        except TimeoutError:
            tid = task.id if isinstance(task, Task) else str(task)
            raise APITimeoutError(f"the download of task {tid} did not finish within "
                                  f"{timeout:g} s; try again later") from None

    async def _download(self, task: TaskRef, path_or_dir: str | os.PathLike[str] | None,
                        deadline: float | None, max_bytes: int) -> Path:
        current = task if isinstance(task, Task) else await self.get(task, deadline=deadline)
        if not current.video_url:
            current = await self.get(current, deadline=deadline)
        if not current.video_url:
            raise TaskError(f"task {current.id} has no video yet (status "
                            f"{current.display_status})", current)
        dest = destination(current.id, path_or_dir, data_dir() / "videos")
        url = current.video_url
        for refreshed in (False, True):
            try:
                digest, size = await self._fetch(url, dest, deadline, max_bytes)
                break
            except _Expired:
                if refreshed:
                    raise ResultExpiredError(
                        f"the result of task {current.id} has expired (the URL answers 403/404);"
                        " results are kept about 24 h", current) from None
                current = await self.get(current, deadline=deadline)
                if not current.video_url or current.video_url == url:
                    raise ResultExpiredError(
                        f"the result of task {current.id} has expired and the API offers no "
                        "fresh URL", current) from None
                url = current.video_url
        sidecar = {
            "task_id": current.id, "model": current.model, "status": current.status,
            "request": current.request.to_body() if current.request else None,
            "sha256": digest, "bytes": size, "source_url_host": httpx.URL(url).host,
            "billing_transaction_id": current.billing_transaction_id,
            "cost_usd": current.cost_usd,
            "created_at": current.created_at.isoformat() if current.created_at else None,
            "downloaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        write_text(dest.with_name(dest.name + ".json"), json.dumps(sidecar, indent=2))
        if self.journal is not None:
            self.journal.update(current.id, local_path=str(dest.resolve()))
        return dest

    async def fetch_bytes(self, url: str, *, limit: int = 200 * 1024 * 1024,
                          timeout: float | None = 120.0) -> bytes:
        """A result's bytes without auth (for showing a video the browser cannot reach)."""
        client = self._download_client()
        try:
            async with asyncio.timeout(timeout):
                async with client.stream("GET", _checked_result_url(url)) as resp:
                    if resp.status_code in (403, 404, 410):
                        raise ResultExpiredError(f"result URL answered {resp.status_code}")
                    if not resp.is_success:
                        raise APIConnectionError(f"result URL answered HTTP {resp.status_code}")
                    return await read_capped(resp, limit)
        except TooLarge:
            raise SeedanceError(f"result is larger than {limit} bytes") from None
        except TimeoutError:
            raise APITimeoutError(f"the result did not arrive within {timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise APIConnectionError(f"fetching the result failed: {type(exc).__name__}: "
                                     f"{exc}") from None

    def _download_client(self) -> httpx.AsyncClient:
        if self._downloader is None:
            # Deliberately a separate client: result URLs live on CDNs and get no bearer token.
            self._downloader = httpx.AsyncClient(
                transport=self._download_transport, follow_redirects=True,
                timeout=httpx.Timeout(self._timeout, read=120.0),
                headers={"User-Agent": f"seedance-widgets/{__version__}"},
            )
        return self._downloader

    async def _fetch(self, url: str, dest: Path, deadline: float | None,
                     max_bytes: int) -> tuple[str, int]:
        client = self._download_client()
        prepare_folder(dest)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
        attempts = Attempts(self.retry, self._rng, deadline=deadline,
                            max_attempts=self.retry.max_attempts, what="download")
        async for _ in attempts:
            try:
                async with client.stream("GET", _checked_result_url(url)) as resp:
                    if resp.status_code in (403, 404, 410):
                        raise _Expired()
                    if not resp.is_success:
                        error = APIConnectionError(f"download failed: HTTP {resp.status_code}")
                        if resp.status_code not in RETRYABLE_STATUS:
                            raise error
                        attempts.retry(error)
                        continue
                    expected = _length(resp.headers.get("content-length"))
                    if expected is not None and expected > max_bytes:
                        raise SeedanceError(f"the result is {expected} bytes, over the "
                                            f"{max_bytes}-byte limit (max_bytes)")
                    sha, size = hashlib.sha256(), 0
                    with _open_part(tmp) as fh:
                        async for chunk in resp.aiter_bytes(1 << 16):
                            size += len(chunk)
                            if size > max_bytes:
                                raise SeedanceError(f"the result passed the {max_bytes}-byte "
                                                    "limit (max_bytes); download stopped")
                            _write(fh, chunk, tmp)
                            sha.update(chunk)
                if expected is not None and expected != size:
                    raise httpx.ReadError(f"got {size} of {expected} bytes")
                if size == 0:
                    raise httpx.ReadError("empty result")
                _replace(tmp, dest)
                return sha.hexdigest(), size
            except httpx.TransportError as exc:
                tmp.unlink(missing_ok=True)
                attempts.retry(APIConnectionError(f"download failed: {type(exc).__name__}: "
                                                  f"{clean_text(str(exc))}"))
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        raise APIConnectionError("download failed")  # pragma: no cover

    # ------------------------------------------------------------------ catalog + pricing
    async def model(self, model_id: str) -> ModelSpec:
        """Read the model detail and refresh the catalog that validation uses."""
        answer = await self._call("GET", f"/v1/models/{quote(model_id, safe='')}")
        try:
            return self.catalog.update_from_detail(answer.body)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidResponseError(f"the model detail of {model_id!r} is unreadable: "
                                       f"{type(exc).__name__}") from None

    async def models(self) -> list[dict[str, Any]]:
        answer = await self._call("GET", "/v1/models?category=video")
        items = answer.body.get("data")
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    async def pricing(self, model_id: str) -> dict[str, Any]:
        """The live pricing detail of one model (`GET /v1/models/{id}/pricing`)."""
        answer = await self._call("GET", f"/v1/models/{quote(model_id, safe='')}/pricing")
        return dict(answer.body)

    async def resume_unfinished(self) -> list[Task]:
        """Fresh snapshots of this server's journaled tasks that had not ended."""
        if self.journal is None:
            return []
        out = []
        for entry in self.journal.unfinished():
            if entry.server != self.server_label:
                continue
            req = _request_or_none(entry.request, self.catalog)
            try:
                snapshot = await self.get(Task(id=entry.id, request=req))
                self._journal_snapshot(snapshot)
                out.append(snapshot)
            except (NotFoundError, PermissionDeniedError) as exc:
                log.warning("journaled task %s is gone: %s", entry.id, exc)
        return out


class _Expired(Exception):
    pass


def _journal_state(task: Task) -> tuple[Any, ...]:
    return (task.status, task.progress, task.video_url, task.cancelled)


def task_path(task_id: str) -> str:
    """`/v1/tasks/<id>` with the id as exactly one path segment, whatever it holds: escaped,
    and `.`/`..` spelt %2E so that URL normalisation cannot climb out of /v1/tasks/."""
    segment = quote(task_id, safe="")
    if set(segment) <= {"."}:
        segment = segment.replace(".", "%2E")
    return f"/v1/tasks/{segment}"


def _checked_result_url(url: str) -> str:
    if not url.lower().startswith(("http://", "https://")):
        raise SeedanceError("result URL is not http(s); refusing to fetch it")
    return url


def _length(value: str | None) -> int | None:
    """A Content-Length we can believe, or None (a junk header is no promise)."""
    return int(value) if value and value.isdigit() and len(value) <= 18 else None


def _open_part(tmp: Path) -> Any:
    try:
        return tmp.open("wb")
    except OSError as exc:
        raise SaveError(f"cannot write into {tmp.parent}: {exc.strerror or exc}") from None


def _write(fh: Any, chunk: bytes, tmp: Path) -> None:
    try:
        fh.write(chunk)
    except OSError as exc:
        raise SaveError(f"cannot write {tmp.parent}: {exc.strerror or exc}") from None


def _replace(tmp: Path, dest: Path) -> None:
    try:
        os.replace(tmp, dest)
    except OSError as exc:
        raise SaveError(f"cannot save {dest}: {exc.strerror or exc}") from None


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


def _request_or_none(body: dict[str, Any] | None, catalog: Catalog) -> VideoRequest | None:
    if not body:
        return None
    try:
        return VideoRequest.model_validate(body, context={"catalog": catalog})
    except ValueError:
        return None
