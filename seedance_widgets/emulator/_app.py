"""What the emulator's handler threads share (`App`), and the generation create itself.

The HTTP layer (`_server`) parses and answers; everything a create decides (validation, input
media, material holds, faults that strike after the task exists) happens here.
"""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import ValidationError

from .._catalog import Catalog
from .._request import VideoRequest
from ._assets import AssetStore
from ._config import Dice, Faults
from ._errors import ApiFailure, api_error, fail, json_object, validation_failure
from ._references import References
from ._state import TaskStore

MAX_LOG_ENTRIES = 10_000
RATE_LIMIT_PER_MINUTE = 60  # the nominal figure reported in X-RateLimit-Limit


class LogEntry(NamedTuple):
    """One answered request. Holds the index of the key used, never the key itself."""

    time: float
    method: str
    path: str
    status: int | None  # None: the connection was closed without an answer
    key_index: int | None


class Abort(Exception):
    """Close the connection without answering (the reset and drop faults)."""


class App:
    """What the handler threads share: keys, tasks, assets, fault knobs, counters, the log."""

    def __init__(self, *, api_keys: Sequence[str], store: TaskStore, assets: AssetStore,
                 catalog: Catalog, faults: Faults, dice: Dice, fetch_remote: bool = False,
                 ) -> None:
        self.api_keys = tuple(api_keys)
        self.store = store
        self.assets = assets
        self.references = References(assets, store.timings, fetch_remote=fetch_remote)
        self.catalog = catalog
        self.dice = dice
        self.faults = faults
        self._lock = threading.Lock()
        self._counted = 0
        self._burst_left = 0
        self._log: list[LogEntry] = []

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            # A fresh pattern: the Nth request is counted from the change.
            self._counted = 0
            self._burst_left = 0
        if faults.seed is not None:
            self.dice.reseed(faults.seed)

    def authenticate(self, header: str | None) -> int:
        """Index of the key in `Authorization: Bearer <key>`, or a 401."""
        scheme, _, token = (header or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiFailure(
                401,
                api_error("unauthorized",
                          "Missing API key. Send it as 'Authorization: Bearer <api key>'."),
                {"WWW-Authenticate": "Bearer"},
            )
        given = token.encode("utf-8", "replace")
        found = None
        for i, key in enumerate(self.api_keys):  # compare with every key: no timing hint
            if hmac.compare_digest(key.encode("utf-8", "replace"), given) and found is None:
                found = i
        if found is None:
            raise ApiFailure(401, api_error("invalid_api_key", "Invalid API key provided"),
                             {"WWW-Authenticate": "Bearer"})
        return found

    def rate_limit(self) -> ApiFailure | None:
        """A 429 when this request falls in an injected burst."""
        faults = self.faults
        if faults.rate_limit_every <= 0:
            return None
        with self._lock:
            self._counted += 1
            if self._counted % faults.rate_limit_every == 0:
                self._burst_left = max(1, faults.rate_limit_burst)
            if self._burst_left <= 0:
                return None
            self._burst_left -= 1
        wait = faults.rate_limit_retry_after_s
        # The header takes whole seconds (RFC 9110); the body keeps the exact figure.
        headers = {
            "Retry-After": str(math.ceil(wait)),
            "X-RateLimit-Limit": str(RATE_LIMIT_PER_MINUTE),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(time.time() + wait)),
        }
        body = api_error("rate_limit_exceeded", "Rate limit exceeded. Please slow down.",
                         code="rate_limit_exceeded", retry_after=wait, retryable=True)
        return ApiFailure(429, body, headers)

    def record(self, entry: LogEntry) -> None:
        with self._lock:
            self._log.append(entry)
            if len(self._log) > MAX_LOG_ENTRIES:
                del self._log[: MAX_LOG_ENTRIES // 10]

    def log(self) -> list[LogEntry]:
        with self._lock:
            return list(self._log)

    # ------------------------------------------------------------------ generations
    def create_task(self, raw: bytes, key: int) -> dict[str, Any]:
        """`POST /v1/videos/generations`: the VideoGenerationResponse of a new task."""
        data = json_object(raw)
        try:
            request = VideoRequest.model_validate(data, context={"catalog": self.catalog})
        except ValidationError as err:
            raise validation_failure(err, data, self.catalog) from None
        resolution = self.references.resolve(request, key)
        self.references.hold(resolution)  # 409 while a material is still preparing
        inputs = self.references.render_inputs(request, resolution)
        faults = self.faults
        will_fail = self.dice.chance(faults.task_failure_rate)
        seed = request.seed if request.seed is not None and request.seed >= 0 else (
            self.dice.randint(0, 2**32 - 1))
        task = self.store.create(request, key, seed=seed, will_fail=will_fail, inputs=inputs)
        # Both faults strike after the task exists: the client cannot tell whether it did.
        if self.dice.chance(faults.drop_after_create_rate):
            raise Abort
        if self.dice.chance(faults.create_error_rate):
            raise fail(500, "server_error", "An internal error occurred", code="emulated_500")
        out: dict[str, Any] = {
            "id": task.id, "task_id": task.id, "poll_url": "/v1/tasks/" + task.id,
            "status": "pending", "created": int(task.created_at), "model": task.model,
            "generate_audio": task.audio,
        }
        if resolution.auto_ids:
            # The materials prepared from inline images: reusable as asset://<id>.
            out["auto_material_asset_ids"] = list(resolution.auto_ids)
        return out
