"""`AsyncSeedanceClient`: the async core that the sync facade, the CLI and the widgets share.

It is assembled from one module per job: `_core` (settings, HTTP clients, `_call`), `_create`,
`_polling` (get, watch, wait, cancel), `_downloads`; with `_transport` (one bounded request),
`_answer` (where server data enters), `_retry` (the one retry loop) and `_files` (safe names).

Money rules, enforced in `_create` and nowhere else:
- A create is resent only when it provably never reached the server (no connection was made),
  or when the server explicitly said "not now" (429, 409 seedance_material_preparing).
  Anything ambiguous raises `AmbiguousSubmitError` and is recorded, never retried.
- Every create is recorded in the history (fsync'd) before the POST, and its answer before
  `create` returns (see `history/_recorder.py` for what a failed write means): a 2xx answer
  with a readable task id is a task, however junk its other fields; without one it is
  ambiguous.
- The bearer token goes only to the API origin: status URLs on another origin are ignored, and
  result downloads use a second HTTP client that has no Authorization header.

Deadline rules: every `wait`, `get(timeout=...)` and `download` ends by its deadline whatever
the server does (silence, trickled bodies, endless 429s): each attempt is bounded as a whole,
and retries inside a deadline are bounded by it rather than by an attempt count.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from ._catalog import ModelSpec
from ._core import (
    BASE_URL_ENV,
    CREATE_TIMEOUT,
    DEFAULT_BASE_URL,
    DEFAULT_DOWNLOAD_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    KEY_ENV,
    MAX_RESULT_BYTES,
    TaskRef,
)
from ._create import Creating
from ._downloads import Downloading
from ._errors import HistoryError, InvalidResponseError, NotFoundError, PermissionDeniedError
from ._polling import CancelResult, task_path
from ._request import VideoRequest
from ._task import Task

log = logging.getLogger("seedance_widgets")

__all__ = ["BASE_URL_ENV", "CREATE_TIMEOUT", "DEFAULT_BASE_URL", "DEFAULT_DOWNLOAD_TIMEOUT",
           "DEFAULT_WAIT_TIMEOUT", "KEY_ENV", "MAX_RESULT_BYTES", "AsyncSeedanceClient",
           "CancelResult", "TaskRef", "task_path"]


class AsyncSeedanceClient(Creating, Downloading):
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

    async def __aenter__(self) -> AsyncSeedanceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ catalog + pricing
    async def model(self, model_id: str) -> ModelSpec:
        """Read the model detail and refresh the catalog that validation uses."""
        data = await self._call("GET", f"/v1/models/{quote(model_id, safe='')}")
        try:
            return self.catalog.update_from_detail(data)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidResponseError(f"the model detail of {model_id!r} is unreadable: "
                                       f"{type(exc).__name__}") from None

    async def models(self) -> list[dict[str, Any]]:
        items = (await self._call("GET", "/v1/models?category=video")).get("data")
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

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
                # None when today's rules refuse what was sent then: still followed.
                req = VideoRequest.from_stored(store.full_request(entry), self.catalog)
            except HistoryError:  # an input file went missing: follow it without its request
                req = None
            try:
                snapshot = await self.get(Task(id=entry.id, request=req))
                await self._recorder.snapshot(snapshot)
                out.append(snapshot)
            except (NotFoundError, PermissionDeniedError) as exc:
                log.warning("recorded task %s is gone: %s", entry.id, exc)
        return out

