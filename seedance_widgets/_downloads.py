"""Results to disk: a download bounded in time and size, atomic, inside the folder it was
meant for (`_files`), with a JSON sidecar; and result bytes for a front end that cannot reach
the URL. Result URLs get no bearer token: they are fetched by a second HTTP client."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from ._core import DEFAULT_DOWNLOAD_TIMEOUT, MAX_RESULT_BYTES, TaskRef
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    ResultExpiredError,
    SaveError,
    SeedanceError,
    TaskError,
    clean_text,
)
from ._files import destination, prepare_folder, write_text
from ._home import data_dir
from ._polling import Polling
from ._retry import RETRYABLE_STATUS, Attempts
from ._task import Task
from ._transport import TooLarge, read_capped
from ._version import __version__


class Downloading(Polling):
    """`download` and `fetch_bytes` (a stale result URL is refreshed with a `get`)."""

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
        await self._recorder.saved(current.id, dest.resolve(), digest)
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


class _Expired(Exception):
    pass


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
