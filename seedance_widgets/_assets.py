"""`client.assets`: Seedance material assets (`/v1/videos/assets`), typed and waited on.

A material asset is a public image, video or audio URL that TokenLab imports once; when it is
`ACTIVE`, `asset://<id>` (or `asset.uri`) stands in any image input, in any number of runs::

    asset = await client.assets.create("https://cdn.example/front.png", asset_name="Front")
    asset = await client.assets.wait_active(asset.id, timeout=120)
    task = await client.create(model="seedance-2.0", prompt="...", image_url=asset.uri)

Reads, updates and deletes go through the client's retrying request path; a create is sent
again only when it provably never left (no connection), or after a 429, so one call never
registers the same source twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ._asset_sources import SourceBook
from ._errors import (
    APIConnectionError,
    AssetFailedError,
    AssetTimeoutError,
    DeadlineExceeded,
    MaterialPreparingError,
    RateLimitError,
)
from ._retry import Attempts
from ._schedule import pause
from ._transport import NOT_SENT, api_error, exchange

if TYPE_CHECKING:
    from ._client import AsyncSeedanceClient

log = logging.getLogger("seedance_widgets")

PATH = "/v1/videos/assets"
AssetStatus = Literal["PROCESSING", "ACTIVE", "FAILED", "DELETED"]
AssetType = Literal["Image", "Video", "Audio"]
LibraryType = Literal["aigc_avatar", "liveness_face"]
DEFAULT_ASSET_WAIT = 300.0
_POLL_FIRST, _POLL_GROWTH, _POLL_CAP = 0.25, 1.5, 3.0
_SOURCE_URL = r"^https?://[^\s/?#]+[^\s]*$"  # the contract's asset_url: a public http(s) URL


class Asset(BaseModel):
    """One `SeedanceMaterialAsset`, as the contract defines it.

    `uri` is what goes into an image input. `source_url` is the URL it was registered from
    when this machine registered it (the API does not return it; see `_asset_sources`), and
    `thumbnail_url` the same for images.
    """

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    id: str = Field(min_length=1)
    object: Literal["seedance.material_asset"]
    status: AssetStatus
    asset_type: AssetType
    ready: bool
    library_type: LibraryType
    group_id: str | None = None
    project_name: str | None = None
    asset_name: str | None = None
    error_message: str | None = None
    metadata: dict[str, Any] | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    source_url: str | None = Field(default=None, exclude=True)

    @field_validator("created_at", "updated_at", mode="before")
    @classmethod
    def _unix_time(cls, value: Any) -> Any:
        # Documented as a Unix timestamp; the examples are in milliseconds.
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 100_000_000_000 else value
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        return value

    @property
    def uri(self) -> str:
        """`asset://<id>`, for image_url, start_image, end_image or reference_images."""
        return f"asset://{self.id}"

    @property
    def is_terminal(self) -> bool:
        return self.status != "PROCESSING"

    @property
    def thumbnail_url(self) -> str | None:
        """A URL a browser can show for this asset: its source, for image materials."""
        return self.source_url if self.asset_type == "Image" else None


class AssetDeleted(BaseModel):
    """`SeedanceMaterialAssetDeleteResponse`."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)
    deleted: bool
    id: str


class AssetCreate(BaseModel):
    """`SeedanceMaterialAssetCreateRequest`, checked before anything is sent."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    asset_url: str = Field(pattern=_SOURCE_URL)
    asset_name: str | None = Field(default=None, min_length=1, max_length=128)
    asset_type: AssetType = "Image"
    library_type: LibraryType = "aigc_avatar"
    group_id: str | None = Field(default=None, min_length=1)
    project_name: str | None = Field(default=None, min_length=1, max_length=128)
    metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _group_for_real_people(self) -> AssetCreate:
        if self.library_type == "liveness_face" and not self.group_id:
            raise ValueError("group_id is required for liveness_face materials")
        return self


class AssetUpdate(BaseModel):
    """`SeedanceMaterialAssetUpdateRequest`: at least one field."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    asset_url: str | None = Field(default=None, pattern=_SOURCE_URL)
    asset_name: str | None = Field(default=None, min_length=1, max_length=128)
    asset_type: AssetType | None = None
    project_name: str | None = Field(default=None, min_length=1, max_length=128)
    metadata: dict[str, Any] | None = None


def preparing_ids(error: MaterialPreparingError) -> list[str]:
    """The material ids a 409 seedance_material_preparing says to wait for."""
    err = error.body.get("error") if isinstance(error.body, dict) else None
    ids: list[str] = []
    for key in ("auto_material_asset_ids", "material_asset_ids"):
        value = err.get(key) if isinstance(err, dict) else None
        if isinstance(value, list):
            ids += [v for v in value if isinstance(v, str) and v and v not in ids]
    return ids


def _asset(data: Any, what: str, source_url: str | None = None) -> Asset:
    try:
        asset = Asset.model_validate(data)
    except ValidationError as err:
        raise APIConnectionError(f"{what}: the answer is not a material asset "
                                 f"({err.error_count()} problem(s), first: "
                                 f"{err.errors()[0]['loc']} {err.errors()[0]['msg']})") from None
    return asset.model_copy(update={"source_url": source_url}) if source_url else asset


class AsyncAssets:
    """The material asset routes of one `AsyncSeedanceClient` (`client.assets`)."""

    def __init__(self, client: AsyncSeedanceClient) -> None:
        self._client = client
        # id -> the URL it was registered from, kept in the data dir unless the client
        # keeps no local files (history=False).
        self._sources = (SourceBook.default(client.server_label) if client.history is not None
                         else SourceBook(client.server_label, None))

    def _url(self, asset_id: str) -> str:
        return f"{PATH}/{quote(str(asset_id), safe='')}"

    def _typed(self, data: Any, what: str) -> Asset:
        asset = _asset(data, what)
        source = self._sources.get(asset.id)
        return asset.model_copy(update={"source_url": source}) if source else asset

    async def create(self, url: str, *, asset_type: AssetType = "Image",
                     asset_name: str | None = None, library_type: LibraryType = "aigc_avatar",
                     group_id: str | None = None, project_name: str | None = None,
                     metadata: Mapping[str, Any] | None = None) -> Asset:
        """Register a public URL as a material; it starts `PROCESSING` (see `wait_active`)."""
        body = AssetCreate(asset_url=url, asset_type=asset_type, asset_name=asset_name,
                           library_type=library_type, group_id=group_id,
                           project_name=project_name,
                           metadata=dict(metadata) if metadata is not None else None)
        data = await self._post(body.model_dump(exclude_none=True))
        asset = _asset(data, "create asset", source_url=url)
        self._sources.set(asset.id, url)
        return asset

    async def _post(self, body: dict[str, Any]) -> Any:
        c = self._client
        # The client's one retry loop and one way of reading answers (bounded, scrubbed).
        attempts = Attempts(c.retry, c._rng, what="create asset")
        async for _ in attempts:
            try:
                answer = await exchange(c._http, "POST", PATH, json=body,
                                        limit_s=2 * c._timeout)
            except NOT_SENT as exc:
                attempts.retry(APIConnectionError(f"could not connect: {exc}"))
                continue
            except (TimeoutError, httpx.TimeoutException, httpx.TransportError) as exc:
                raise APIConnectionError(
                    f"the asset create may have reached the server ({type(exc).__name__}); "
                    "it was not resent: look for it with client.assets.list() before "
                    "registering the URL again") from None
            if answer.ok and isinstance(answer.body, dict):
                return answer.body
            if answer.ok:
                raise APIConnectionError("create asset: unreadable answer; it may exist: "
                                         "look for it with client.assets.list()")
            error = api_error(answer)
            if not isinstance(error, RateLimitError):
                raise error
            attempts.retry(error, error.retry_after)
        raise AssertionError("unreachable: Attempts raises the last error")  # pragma: no cover

    async def get(self, asset_id: str, *, project_name: str | None = None,
                  deadline: float | None = None) -> Asset:
        url = self._url(asset_id) + (f"?project_name={quote(project_name)}"
                                     if project_name else "")
        return self._typed(await self._client._call("GET", url, deadline=deadline), "get asset")

    def list(self, *, status: AssetStatus | None = None, library_type: LibraryType | None = None,
             group_id: str | None = None, project_name: str | None = None,
             page_size: int = 50) -> AsyncIterator[Asset]:
        """Every matching asset, newest first, fetching pages only as they are iterated.

        `async for asset in client.assets.list(status="ACTIVE"): ...`
        """
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be 1-100")
        params = {k: v for k, v in {"status": status, "library_type": library_type,
                                    "group_id": group_id, "project_name": project_name,
                                    "page_size": str(page_size)}.items() if v is not None}
        return self._pages(params)

    async def _pages(self, params: dict[str, str]) -> AsyncIterator[Asset]:
        token: str | None = None
        seen: set[str] = set()
        while True:
            query = dict(params, **({"page_token": token} if token else {}))
            url = PATH + "?" + str(httpx.QueryParams(query))
            data = await self._client._call("GET", url)
            items = data.get("assets")
            if not isinstance(items, list):
                raise APIConnectionError("list assets: the answer has no assets list")
            for item in items:
                yield self._typed(item, "list assets")
            token = data.get("next_page_token")
            if not token:
                return
            if not isinstance(token, str) or token in seen:
                raise APIConnectionError("list assets: the server repeated a page token")
            seen.add(token)

    async def update(self, asset_id: str, **fields: Any) -> Asset:
        """Change asset_name, metadata, project_name, or the source (asset_url, asset_type)."""
        body = AssetUpdate(**fields).model_dump(exclude_unset=True)
        if not body:
            raise ValueError("update needs at least one of: " + ", ".join(AssetUpdate.model_fields))
        data = await self._client._call("PUT", self._url(asset_id), body=body)
        if "asset_url" in body:
            self._sources.set(asset_id, body["asset_url"])
        return self._typed(data, "update asset")

    async def delete(self, asset_id: str, *, project_name: str | None = None) -> AssetDeleted:
        url = self._url(asset_id) + (f"?project_name={quote(project_name)}"
                                     if project_name else "")
        data = await self._client._call("DELETE", url)
        try:
            return AssetDeleted.model_validate(data)
        except ValidationError:
            raise APIConnectionError("delete asset: unreadable answer") from None

    async def wait_active(self, asset_id: str, *, timeout: float | None = DEFAULT_ASSET_WAIT,
                          on_update: Callable[[Asset], Any] | None = None,
                          project_name: str | None = None,
                          deadline: float | None = None) -> Asset:
        """Poll until the asset is ACTIVE and return it.

        Raises AssetFailedError with the server's `error_message` when it ends FAILED (or is
        deleted), and AssetTimeoutError when it is still PROCESSING at the deadline (it keeps
        processing on the server). `on_update` sees every snapshot.
        """
        if deadline is None and timeout is not None:
            deadline = time.monotonic() + timeout
        delay = _POLL_FIRST
        asset: Asset | None = None
        while True:
            try:
                asset = await self.get(asset_id, project_name=project_name, deadline=deadline)
            except DeadlineExceeded:  # the server was silent or slow up to the deadline
                raise _still_processing(asset_id, asset) from None
            if on_update is not None:
                result = on_update(asset)
                if asyncio.iscoroutine(result):
                    await result
            if asset.status == "ACTIVE":
                return asset
            if asset.status in ("FAILED", "DELETED"):
                reason = asset.error_message or ("it was deleted" if asset.status == "DELETED"
                                                 else "no reason given")
                raise AssetFailedError(f"material asset {asset.id} is {asset.status}: {reason}",
                                       asset)
            if not await pause(delay, deadline):
                raise _still_processing(asset_id, asset)
            delay = min(_POLL_CAP, delay * _POLL_GROWTH)

    async def wait_preparing(self, error: MaterialPreparingError, *, deadline: float) -> None:
        """After a create's 409 seedance_material_preparing: wait until the materials it names
        are ACTIVE (the contract's "retry after it becomes ACTIVE"), or raise `error` at the
        deadline. A FAILED material raises AssetFailedError: the create cannot succeed."""
        ids = preparing_ids(error)
        try:
            if not ids:  # nothing named: the server's own wait, within the deadline
                wait = error.retry_after if error.retry_after is not None else 1.0
                if time.monotonic() + wait > deadline:
                    raise error
                await asyncio.sleep(wait)
            for asset_id in ids:
                log.info("create waits for material %s to become ACTIVE", asset_id)
                await self.wait_active(asset_id, deadline=deadline, timeout=None)
        except AssetTimeoutError:
            raise error from None


def _still_processing(asset_id: str, asset: Asset | None) -> AssetTimeoutError:
    return AssetTimeoutError(
        f"material asset {asset_id} is still PROCESSING; it keeps processing: "
        f"wait again with client.assets.wait_active({asset_id!r})", asset)


class Assets:
    """Blocking twin of `AsyncAssets` (`SeedanceClient.assets`)."""

    def __init__(self, aio: AsyncAssets, run: Callable[[Coroutine[Any, Any, Any]], Any]) -> None:
        self._aio = aio
        self._run = run

    def create(self, url: str, **fields: Any) -> Asset:
        return self._run(self._aio.create(url, **fields))

    def get(self, asset_id: str, *, project_name: str | None = None) -> Asset:
        return self._run(self._aio.get(asset_id, project_name=project_name))

    def list(self, **filters: Any) -> Iterator[Asset]:
        pages = self._aio.list(**filters)
        try:
            while True:
                try:
                    yield self._run(pages.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._run(pages.aclose())  # type: ignore[attr-defined]

    def update(self, asset_id: str, **fields: Any) -> Asset:
        return self._run(self._aio.update(asset_id, **fields))

    def delete(self, asset_id: str, *, project_name: str | None = None) -> AssetDeleted:
        return self._run(self._aio.delete(asset_id, project_name=project_name))

    def wait_active(self, asset_id: str, *, timeout: float | None = DEFAULT_ASSET_WAIT,
                    on_update: Callable[[Asset], Any] | None = None,
                    project_name: str | None = None) -> Asset:
        return self._run(self._aio.wait_active(asset_id, timeout=timeout, on_update=on_update,
                                               project_name=project_name))
