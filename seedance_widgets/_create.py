"""Creating a task, where the money is: a create is sent once unless it provably never left;
its intent is recorded before the POST, and every outcome (a task, a refusal, an ambiguity,
"never sent") before `create` returns or raises."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from ._assets import DEFAULT_ASSET_WAIT
from ._core import ClientCore
from ._errors import (
    AmbiguousSubmitError,
    APIConnectionError,
    APIError,
    InvalidResponseError,
    MaterialPreparingError,
    RateLimitError,
)
from ._request import VideoRequest
from ._retry import Attempts
from ._task import Task
from ._transport import NOT_SENT, api_error, exchange

log = logging.getLogger("seedance_widgets")


class Creating(ClientCore):
    """`create`, and the records that make an ambiguous create findable."""

    async def create(self, request: VideoRequest | Mapping[str, Any] | None = None, /, *,
                     material_wait: float = DEFAULT_ASSET_WAIT, **fields: Any) -> Task:
        """Submit one generation. Never resent if it may have reached the server.

        A 409 seedance_material_preparing (an image material not yet ACTIVE) waits until
        the materials it names are ACTIVE, then resends, for at most `material_wait` s."""
        req = self._coerce(request, fields)
        material_deadline = time.monotonic() + material_wait
        body = req.to_body()
        attempt_id = uuid.uuid4().hex
        await self._recorder.intent(attempt_id, body, req.fingerprint())
        try:
            return await self._post(req, body, attempt_id, material_deadline)
        except APIError as exc:  # a refusal (4xx) made no task: settled, not unresolved
            await self._recorder.refused(attempt_id, exc.status_code)
            raise
        except APIConnectionError:  # only "never connected" leaves the attempts as this
            await self._recorder.never_sent(attempt_id)
            raise

    async def _post(self, req: VideoRequest, body: dict[str, Any], attempt_id: str,
                    material_deadline: float) -> Task:
        """The create's attempts: resent only when no connection was made, or when the server
        said "not now"; everything else that may have reached it is ambiguous."""
        attempts = Attempts(self.retry, self._rng, what="create")
        limit = httpx.Timeout(self._timeout, read=self._create_timeout)
        async for attempt in attempts:
            sent_at = dt.datetime.now(dt.UTC)
            try:
                answer = await exchange(self._http, "POST", "/v1/videos/generations", json=body,
                                        limit_s=self._create_timeout, timeout=limit)
            except NOT_SENT as exc:
                attempts.retry(APIConnectionError(f"could not connect to {self.base_url}: {exc}"))
                continue
            except (TimeoutError, httpx.TimeoutException, httpx.TransportError) as exc:
                cause = "no answer in time" if isinstance(exc, TimeoutError) else \
                    type(exc).__name__
                raise await self._ambiguous(req, sent_at, cause, attempt_id) from None
            if answer.ok:
                try:
                    task = Task.from_response(answer.body, request=req, headers=answer.headers)
                except InvalidResponseError:
                    raise await self._ambiguous(
                        req, sent_at, "the answer names no readable task id", attempt_id
                    ) from None
                await self._recorder.created(task, attempt_id, body, req.fingerprint())
                return task
            if answer.status >= 500 or answer.status == 408 or answer.status < 400:
                raise await self._ambiguous(req, sent_at, f"HTTP {answer.status}", attempt_id)
            error = api_error(answer)
            if isinstance(error, MaterialPreparingError):  # the contract: resend once ACTIVE
                await self.assets.wait_preparing(error, deadline=material_deadline)
                attempts.retry(error, 0.0)
                continue
            if not isinstance(error, RateLimitError):
                raise error
            wait = error.retry_after
            if wait is None:
                wait = max(1.0, self.retry.backoff(attempt + 1, self._rng))
            log.info("create refused for now (%s); retrying in %.1fs", error.code or
                     error.status_code, wait)
            attempts.retry(error, wait)
        raise AssertionError("unreachable: Attempts raises the last error")  # pragma: no cover

    def _coerce(self, request: VideoRequest | Mapping[str, Any] | None,
                fields: Mapping[str, Any]) -> VideoRequest:
        if isinstance(request, VideoRequest) and not fields:
            return request
        data = request.to_body() if isinstance(request, VideoRequest) else dict(request or {})
        return VideoRequest.model_validate({**data, **fields}, context={"catalog": self.catalog})

    async def _ambiguous(self, req: VideoRequest, sent_at: dt.datetime, cause: str,
                         attempt_id: str) -> AmbiguousSubmitError:
        err = AmbiguousSubmitError(req, sent_at, cause)
        await self._recorder.ambiguous(attempt_id, req.to_body(), err.fingerprint, sent_at, cause)
        log.warning("%s", err)
        return err
