"""`AsyncSeedanceClient`: the async core that the sync facade, the CLI and the widgets share.

Money rules, enforced here and nowhere else:
- A create is resent only when it provably never reached the server (no connection was made),
  or when the server explicitly said "not now" (429, 409 seedance_material_preparing).
  Anything ambiguous raises `AmbiguousSubmitError` and is recorded, never retried.
- Every create is recorded in the history (fsync'd) before the POST, and its answer before
  `create` returns (see `history/_recorder.py` for what a failed write means).
- The bearer token goes only to the API origin: status URLs on another origin are ignored, and
  result downloads use a second HTTP client that has no Authorization header.
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

from ._assets import DEFAULT_ASSET_WAIT, MATERIAL_HOLD_S, AsyncAssets, may_prepare_materials
from ._catalog import Catalog, ModelSpec, default_catalog
from ._errors import (
    AmbiguousSubmitError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConflictError,
    HistoryError,
    MaterialPreparingError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResultExpiredError,
    SeedanceError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskTimeoutError,
    error_class,
    redact,
    register_secret,
)
from ._home import data_dir
from ._media_host import AsyncMedia, FsspecMediaHost, MediaHost
from ._request import VideoRequest
from ._retry import RETRYABLE_STATUS, RetryPolicy, server_wait
from ._schedule import PollSchedule
from ._task import Task
from ._version import __version__
from .history import History
from .history._recorder import Recorder

log = logging.getLogger("seedance_widgets")

DEFAULT_BASE_URL = "https://api.tokenlab.sh"
KEY_ENV, BASE_URL_ENV = "TOKENLAB_API_KEY", "TOKENLAB_BASE_URL"
DEFAULT_WAIT_TIMEOUT = 3600.0
# A connection that was never made cannot have delivered a create: safe to resend.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

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
    `TOKENLAB_BASE_URL` or `https://api.tokenlab.sh`. Use it as an async context manager.
    For an offline client on the built-in emulator, use `seedance_widgets.connect()`.
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
        history: History | Literal[False] | None = None,
        journal: History | Literal[False] | None = None,
        catalog: Catalog | None = None,
        server_label: str | None = None,
        rng: random.Random | None = None,
        poll_concurrency: int = 8,
        media_host: MediaHost | None = None,
    ) -> None:
        key = api_key or os.environ.get(KEY_ENV)
        if not key:
            raise SeedanceError(
                f"no API key: pass api_key=..., set {KEY_ENV}, or call "
                "seedance_widgets.connect() for demo mode on the built-in emulator"
            )
        register_secret(key)
        self.base_url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
        self._origin = httpx.URL(self.base_url)
        self.server_label = server_label or self.base_url
        self.retry = retry or RetryPolicy()
        self.catalog = catalog or default_catalog()
        # `journal=` is the old name of `history=`; False runs without a history.
        chosen = history if history is not None else journal
        self.history: History | None = None if chosen is False else (chosen or History())
        self._recorder = Recorder(self.history, self.server_label)
        self._rng = rng or random.Random()
        self._timeout = timeout
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
        # kernel for ~0.4 s (bench: 500 tasks). A cap on status GETs in flight spreads it.
        self._poll_slots = asyncio.Semaphore(max(1, poll_concurrency))
        # Resources as attributes: material assets, and the media host for local files
        # (from SEEDANCE_MEDIA_HOST when none is given).
        self.assets = AsyncAssets(self)
        self.media = AsyncMedia(media_host if media_host is not None
                                else FsspecMediaHost.from_env())

    @property
    def journal(self) -> History | None:
        """The old name of `history`."""
        return self.history

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
    @staticmethod
    def _api_error(resp: httpx.Response, body: Any) -> APIError:
        """The typed error for an error answer; callers decide to raise it or retry."""
        err = body.get("error") if isinstance(body, dict) else None
        message = (err.get("message") if isinstance(err, dict) else None) or (
            err if isinstance(err, str) else resp.reason_phrase or "error")
        cls = error_class(resp.status_code, body)
        return cls(str(message), status_code=resp.status_code, body=body,
                   headers=dict(resp.headers), retry_after=server_wait(body, resp.headers))

    @staticmethod
    def _json(resp: httpx.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            return None

    async def _sleep(self, seconds: float, deadline: float | None) -> None:
        if deadline is not None and time.monotonic() + seconds > deadline:
            raise APITimeoutError("the wait's deadline would pass before the next retry")
        await asyncio.sleep(seconds)

    async def _call(self, method: str, url: str, *, deadline: float | None = None,
                    body: Any = None) -> Any:
        """GET/PUT/DELETE with retries on 408, 429, 5xx, transport errors and unreadable
        bodies (only idempotent calls come here: a retry cannot do anything twice)."""
        last: Exception | None = None
        for attempt in range(self.retry.max_attempts):
            wait: float | None = None
            try:
                resp = await self._http.request(method, url, json=body)
            except httpx.TimeoutException as exc:
                last = APITimeoutError(f"{method} {url}: timed out ({type(exc).__name__})")
            except httpx.TransportError as exc:
                last = APIConnectionError(f"{method} {url}: {type(exc).__name__}: {exc}")
            else:
                body = self._json(resp)
                if resp.is_success and isinstance(body, dict):
                    return body
                if resp.is_success:
                    last = APIConnectionError(f"{method} {url}: unreadable JSON in the answer")
                elif resp.status_code in RETRYABLE_STATUS:
                    error = self._api_error(resp, body)
                    last, wait = error, error.retry_after
                    if wait is not None and wait > self.retry.max_server_wait:
                        raise error
                else:
                    raise self._api_error(resp, body)
            if attempt + 1 >= self.retry.max_attempts:
                break
            delay = wait if wait is not None else self.retry.backoff(attempt, self._rng)
            log.debug("retrying %s %s in %.2fs after %s", method, url, delay, last)
            await self._sleep(delay, deadline)
        assert last is not None
        raise last

    # ------------------------------------------------------------------ create
    async def create(self, request: VideoRequest | Mapping[str, Any] | None = None, /, *,
                     material_wait: float = DEFAULT_ASSET_WAIT, **fields: Any) -> Task:
        """Submit one generation. Never resent if it may have reached the server.

        A 409 seedance_material_preparing (an image material not yet ACTIVE) waits until
        the materials it names are ACTIVE, then resends, for at most `material_wait` s."""
        req = self._coerce(request, fields)
        material_deadline = time.monotonic() + material_wait
        # The API may hold this create up to 60 s while it prepares image materials.
        post_timeout = (httpx.Timeout(max(self._timeout, MATERIAL_HOLD_S + 15),
                                      connect=self._timeout)
                        if may_prepare_materials(req) else httpx.USE_CLIENT_DEFAULT)
        body = req.to_body()
        attempt_id = uuid.uuid4().hex
        await self._recorder.intent(attempt_id, body, req.fingerprint())
        for attempt in range(self.retry.max_attempts):
            sent_at = dt.datetime.now(dt.UTC)
            try:
                resp = await self._http.post("/v1/videos/generations", json=body,
                                             timeout=post_timeout)
            except _NOT_SENT as exc:
                if attempt + 1 >= self.retry.max_attempts:
                    self._recorder.never_sent(attempt_id)
                    raise APIConnectionError(
                        f"could not connect to {self.base_url}: {exc}") from None
                await asyncio.sleep(self.retry.backoff(attempt, self._rng))
                continue
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise self._ambiguous(req, sent_at, type(exc).__name__, attempt_id) from None
            data = self._json(resp)
            if resp.is_success:
                if not isinstance(data, dict) or not (data.get("id") or data.get("task_id")):
                    raise self._ambiguous(req, sent_at, "unreadable create answer", attempt_id)
                task = Task.from_response(data, request=req)
                await self._recorder.created(task, attempt_id, body, req.fingerprint())
                return task
            if resp.status_code >= 500 or resp.status_code == 408:
                raise self._ambiguous(req, sent_at, f"HTTP {resp.status_code}", attempt_id)
            error = self._api_error(resp, data)
            if isinstance(error, MaterialPreparingError):
                await self.assets.wait_preparing(error, deadline=material_deadline)
                continue
            if not isinstance(error, RateLimitError):
                self._recorder.refused(attempt_id, resp.status_code)
                raise error
            wait = error.retry_after
            if wait is None:
                wait = max(1.0, self.retry.backoff(attempt + 1, self._rng))
            if wait > self.retry.max_server_wait or attempt + 1 >= self.retry.max_attempts:
                self._recorder.refused(attempt_id, resp.status_code)
                raise error
            log.info("create refused for now (%s); retrying in %.1fs", error.code or
                     error.status_code, wait)
            await asyncio.sleep(wait)
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
        self._recorder.ambiguous(attempt_id, req.to_body(), err.fingerprint, sent_at, cause)
        log.warning("%s", err)
        return err

    # ------------------------------------------------------------------ status
    def _status_url(self, task: Task) -> str:
        fixed = f"/v1/tasks/{quote(task.id, safe='')}"
        if not task.poll_url:
            return fixed
        url = httpx.URL(task.poll_url)
        if url.is_relative_url:
            return task.poll_url if task.poll_url.startswith("/") else fixed
        same = (url.scheme, url.host, url.port) == (
            self._origin.scheme, self._origin.host, self._origin.port)
        if not same:
            log.warning("ignoring poll_url on another origin; polling %s instead", fixed)
            return fixed
        return str(url.copy_with(scheme=None, host=None, port=None)) or fixed

    async def get(self, task: TaskRef, *, deadline: float | None = None) -> Task:
        """A fresh snapshot of the task."""
        current = task if isinstance(task, Task) else Task(id=str(task))
        url = self._status_url(current)
        async with self._poll_slots:
            try:
                data = await self._call("GET", url, deadline=deadline)
            except NotFoundError:
                if url == f"/v1/tasks/{quote(current.id, safe='')}":
                    raise
                data = await self._call("GET", f"/v1/tasks/{quote(current.id, safe='')}",
                                        deadline=deadline)
        return Task.from_response(data, previous=current)

    async def cancel(self, task: TaskRef) -> CancelResult:
        """Cancel a task that is still queued. The outcome says what happened."""
        current = task if isinstance(task, Task) else Task(id=str(task))
        url = f"/v1/tasks/{quote(current.id, safe='')}"
        try:
            data = await self._call("DELETE", url)
        except NotFoundError as exc:
            return CancelResult("not_found", None, exc.message)
        except ConflictError as exc:
            # A retried DELETE whose first answer was lost also lands here: look before judging.
            latest = await self.get(current)
            if latest.cancelled:
                return CancelResult("cancelled", latest, "cancelled")
            return CancelResult("not_cancellable", latest,
                                f"not cancellable: the task is {latest.status}"
                                f" ({exc.message})")
        except APIError as exc:
            if exc.status_code == 400:
                return CancelResult("unsupported", current, f"not cancellable: {exc.message}")
            raise
        snapshot = Task.from_response(data, previous=current)
        self._recorder.snapshot(snapshot)
        return CancelResult("cancelled" if snapshot.cancelled else "not_cancellable", snapshot,
                            "cancelled" if snapshot.cancelled else snapshot.status)

    async def watch(self, task: TaskRef, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT,
                    schedule: PollSchedule | None = None) -> AsyncIterator[Task]:
        """Snapshots of the task until it ends; raises TaskTimeoutError at the deadline.

        Each snapshot carries `eta_seconds` when progress allows a prediction.
        """
        current = task if isinstance(task, Task) else await self.get(task)
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        offset = _age(current)
        schedule = schedule or PollSchedule()
        self._recorder.snapshot(current)  # a task that ended unwatched is recorded too
        # The schedule sees each snapshot as soon as it arrives, so the ETA it carries
        # already counts that snapshot's progress.
        delay = schedule.next_delay(offset, current.status, current.progress)
        yield current
        while not current.is_terminal:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TaskTimeoutError(
                        f"task {current.id} still {current.status} after {timeout:g} s; it keeps "
                        f"running: resume with client.wait({current.id!r})", current)
                delay = min(delay, left)
            await asyncio.sleep(delay)
            try:
                current = await self.get(current, deadline=deadline)
            except APITimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    continue  # the loop head raises TaskTimeoutError with the task attached
                raise
            elapsed = offset + time.monotonic() - start
            delay = schedule.next_delay(elapsed, current.status, current.progress)
            eta = schedule.eta(elapsed)
            if eta is not None and not current.is_terminal:
                current = current.model_copy(update={"eta_seconds": eta})
            self._recorder.snapshot(current)
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
    async def download(self, task: TaskRef, path_or_dir: str | os.PathLike[str] | None = None
                       ) -> Path:
        """Save the video; atomic rename, size check and a JSON sidecar beside it."""
        current = task if isinstance(task, Task) else await self.get(task)
        if not current.video_url:
            current = await self.get(current)
        if not current.video_url:
            raise TaskError(f"task {current.id} has no video yet (status {current.status})",
                            current)
        dest = _destination(current, path_or_dir)
        url = current.video_url
        for refreshed in (False, True):
            try:
                digest, size = await self._fetch(url, dest)
                break
            except _Expired:
                if refreshed:
                    raise ResultExpiredError(
                        f"the result of task {current.id} has expired (the URL answers 403/404);"
                        " results are kept about 24 h", current) from None
                current = await self.get(current)
                if not current.video_url or current.video_url == url:
                    raise ResultExpiredError(
                        f"the result of task {current.id} has expired and the API offers no "
                        "fresh URL", current) from None
                url = current.video_url
        sidecar = {
            "task_id": current.id, "model": current.model, "status": current.status,
            "request": current.request.to_body() if current.request else None,
            "sha256": digest, "bytes": size, "source_url_host": httpx.URL(url).host,
            "created_at": current.created_at.isoformat() if current.created_at else None,
            "downloaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        dest.with_name(dest.name + ".json").write_text(json.dumps(sidecar, indent=2))
        self._recorder.saved(current.id, dest.resolve(), digest)
        return dest

    async def fetch_bytes(self, url: str, *, limit: int = 200 * 1024 * 1024) -> bytes:
        """A result's bytes without auth (for showing a video the browser cannot reach)."""
        client = self._download_client()
        resp = await client.get(_checked_result_url(url))
        if resp.status_code in (403, 404, 410):
            raise ResultExpiredError(f"result URL answered {resp.status_code}")
        resp.raise_for_status()
        if len(resp.content) > limit:
            raise SeedanceError(f"result is larger than {limit} bytes")
        return resp.content

    def _download_client(self) -> httpx.AsyncClient:
        if self._downloader is None:
            # Deliberately a separate client: result URLs live on CDNs and get no bearer token.
            self._downloader = httpx.AsyncClient(
                transport=self._download_transport, follow_redirects=True,
                timeout=httpx.Timeout(self._timeout, read=120.0),
                headers={"User-Agent": f"seedance-widgets/{__version__}"},
            )
        return self._downloader

    async def _fetch(self, url: str, dest: Path) -> tuple[str, int]:
        client = self._download_client()
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
        for attempt in range(self.retry.max_attempts):
            try:
                async with client.stream("GET", _checked_result_url(url)) as resp:
                    if resp.status_code in (403, 404, 410):
                        raise _Expired()
                    if resp.status_code in RETRYABLE_STATUS:
                        raise httpx.HTTPStatusError("retryable", request=resp.request,
                                                    response=resp)
                    resp.raise_for_status()
                    expected = resp.headers.get("content-length")
                    sha, size = hashlib.sha256(), 0
                    with tmp.open("wb") as fh:
                        async for chunk in resp.aiter_bytes(1 << 16):
                            fh.write(chunk)
                            sha.update(chunk)
                            size += len(chunk)
                if expected is not None and int(expected) != size:
                    raise httpx.ReadError(f"got {size} of {expected} bytes")
                if size == 0:
                    raise httpx.ReadError("empty result")
                os.replace(tmp, dest)
                return sha.hexdigest(), size
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                tmp.unlink(missing_ok=True)
                if isinstance(exc, httpx.HTTPStatusError) and (
                        exc.response.status_code not in RETRYABLE_STATUS):
                    raise APIConnectionError(f"download failed: HTTP {exc.response.status_code}"
                                             ) from None
                if attempt + 1 >= self.retry.max_attempts:
                    raise APIConnectionError(f"download failed: {redact(str(exc))}") from None
                await asyncio.sleep(self.retry.backoff(attempt, self._rng))
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        raise APIConnectionError("download failed")

    # ------------------------------------------------------------------ catalog + pricing
    async def model(self, model_id: str) -> ModelSpec:
        """Read the model detail and refresh the catalog that validation uses."""
        data = await self._call("GET", f"/v1/models/{quote(model_id, safe='')}")
        return self.catalog.update_from_detail(data)

    async def models(self) -> list[dict[str, Any]]:
        data = await self._call("GET", "/v1/models?category=video")
        return list(data.get("data") or [])

    async def pricing(self, model_id: str) -> dict[str, Any]:
        """The live pricing detail of one model (`GET /v1/models/{id}/pricing`)."""
        return await self._call("GET", f"/v1/models/{quote(model_id, safe='')}/pricing")

    async def resume_unfinished(self) -> list[Task]:
        """Fresh snapshots of this server's recorded tasks that had not ended."""
        store = self._recorder.store
        if store is None:
            return []
        out = []
        for entry in store.unfinished(server=self.server_label):
            try:
                req = _request_or_none(store.full_request(entry), self.catalog)
            except HistoryError:  # an input file went missing: follow it without its request
                req = None
            try:
                snapshot = await self.get(Task(id=entry.id, request=req))
                self._recorder.snapshot(snapshot)
                out.append(snapshot)
            except (NotFoundError, PermissionDeniedError) as exc:
                log.warning("recorded task %s is gone: %s", entry.id, exc)
        return out


class _Expired(Exception):
    pass


def _checked_result_url(url: str) -> str:
    if not url.lower().startswith(("http://", "https://")):
        raise SeedanceError("result URL is not http(s); refusing to fetch it")
    return url


def _destination(task: Task, path_or_dir: str | os.PathLike[str] | None) -> Path:
    if path_or_dir is None:
        return data_dir() / "videos" / f"{task.id}.mp4"
    path = Path(path_or_dir).expanduser()
    if path.is_dir() or str(path_or_dir).endswith(("/", os.sep)):
        return path / f"{task.id}.mp4"
    return path


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
