"""`ClientCore`: what every part of the client shares: settings checked at construction, the
two HTTP clients (the API's, with the bearer token; the results', without), the history and
`_call`, the one way an API GET/DELETE is made and retried.

The parts of `AsyncSeedanceClient` build on it, one module each: `_create` (money-safe
creates), `_polling` (get, watch, wait, cancel), `_downloads` (results to disk).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from typing import Any, Literal

import httpx

from ._assets import AsyncAssets
from ._catalog import Catalog, default_catalog
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    DeadlineExceeded,
    InvalidResponseError,
    SeedanceError,
)
from ._media_host import AsyncMedia, FsspecMediaHost, MediaHost
from ._retry import RETRYABLE_STATUS, Attempts, RetryPolicy
from ._task import Task
from ._transport import (
    Answer,
    PollSlots,
    api_error,
    checked_base_url,
    checked_key,
    exchange,
)
from ._version import __version__
from .history import History
from .history._recorder import Recorder

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

TaskRef = Task | str


class ClientCore:
    """Settings, HTTP clients, history and `_call`; see `AsyncSeedanceClient`."""

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
        create_timeout: float = CREATE_TIMEOUT,
        media_host: MediaHost | None = None,
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
        # `journal=` is the old name of `history=`; False runs without a history.
        chosen = history if history is not None else journal
        self.history: History | None = None if chosen is False else (chosen or History())
        self._recorder = Recorder(self.history, self.server_label)
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

    async def aclose(self) -> None:
        self._closed = True
        await self._http.aclose()
        if self._downloader is not None:
            await self._downloader.aclose()

    # ------------------------------------------------------------------ transport + retries
    async def _call(self, method: str, url: str, *, deadline: float | None = None,
                    body: Any = None) -> dict[str, Any]:
        """`_answer`'s JSON object (for resources that need no headers)."""
        return (await self._answer(method, url, deadline=deadline, body=body)).body

    async def _answer(self, method: str, url: str, *, deadline: float | None = None,
                      poll: bool = False, body: Any = None) -> Answer:
        """GET/PUT/DELETE with retries on 408, 429, 5xx, transport errors and unreadable
        answers (only idempotent calls come here: a retry cannot do anything twice).

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
                answer = await exchange(self._http, method, url, limit_s=whole, json=body,
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
