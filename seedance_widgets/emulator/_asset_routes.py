"""Bodies of the material asset routes (`/v1/videos/assets...`), checked as the contract says.

Create and update bodies follow `SeedanceMaterialAssetCreateRequest` /
`...UpdateRequest` (`additionalProperties: false`, so an unknown field is a 400 naming the
allowed ones); the source is fetched and probed before the asset exists, so a bad or
unreachable source is a 400 `seedance_material_source_invalid`, never a stuck PROCESSING.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._catalog import Catalog
from ._assets import (
    ASSET_TYPES,
    DEFAULT_PROJECT,
    KIND_OF_TYPE,
    LIBRARY_TYPES,
    STATUSES,
    AssetStore,
)
from ._errors import ApiFailure, bad_request, fail, json_object, validation_failure
from ._media import MAX_FETCH_BYTES, Media, MediaError, fetch, name_of, probe

MIN_SIDE_PX, MAX_SIDE_PX = 300, 6000
MAX_BYTES = {"image": 30 * 1024 * 1024, "video": 50 * 1024 * 1024, "audio": 15 * 1024 * 1024}
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
_HTTP_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.I)


class _Create(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    asset_url: str
    asset_name: str | None = Field(default=None, min_length=1, max_length=128)
    asset_type: Literal["Image", "Video", "Audio"] = "Image"
    library_type: Literal["aigc_avatar", "liveness_face"] = "aigc_avatar"
    group_id: str | None = Field(default=None, min_length=1)
    project_name: str = Field(default=DEFAULT_PROJECT, min_length=1, max_length=128)
    metadata: dict[str, Any] | None = None


class _Update(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    asset_url: str | None = None
    asset_name: str | None = Field(default=None, min_length=1, max_length=128)
    asset_type: Literal["Image", "Video", "Audio"] | None = None
    project_name: str | None = Field(default=None, min_length=1, max_length=128)
    metadata: dict[str, Any] | None = None


def _validated(model: type[BaseModel], data: dict[str, Any], catalog: Catalog) -> BaseModel:
    allowed = list(model.model_fields)
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise bad_request(f"{unknown[0]}: unknown field; allowed: {', '.join(allowed)}",
                          param=unknown[0], code="unknown_field")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise validation_failure(err, data, catalog) from None


def source_invalid(message: str) -> ApiFailure:
    return bad_request(message, param="asset_url", code="seedance_material_source_invalid")


def fetch_source(url: str, asset_type: str) -> Media:
    """Fetch and probe an asset's source, or 400 seedance_material_source_invalid.

    Registering a URL is an explicit request to fetch it, so any host is tried (generation
    references, in contrast, are fetched beyond loopback only with `fetch_remote`)."""
    if not _HTTP_URL.match(url):
        raise bad_request("asset_url: must be a publicly reachable http(s) URL",
                          param="asset_url", code="invalid_url")
    kind = KIND_OF_TYPE[asset_type]
    try:
        data = fetch(url, limit=min(MAX_FETCH_BYTES, MAX_BYTES[kind]), fetch_remote=True)
        media = probe(kind, data, name_of(url))
    except MediaError as exc:
        raise source_invalid(f"asset_url: {exc}") from None
    if kind == "image":
        for side, value in (("width", media.width), ("height", media.height)):
            if value is not None and not MIN_SIDE_PX <= value <= MAX_SIDE_PX:
                raise source_invalid(f"Image {side} must be between {MIN_SIDE_PX}px and "
                                     f"{MAX_SIDE_PX}px.")
    return media


def create(store: AssetStore, key: int, raw: bytes, catalog: Catalog) -> dict[str, Any]:
    body = _validated(_Create, json_object(raw), catalog)
    assert isinstance(body, _Create)
    if body.library_type == "liveness_face" and not body.group_id:
        raise bad_request("group_id: required for liveness_face materials (the group mapped "
                          "from a verified real-person check)", param="group_id",
                          code="missing_group_id")
    held = store.group_library(key, body.group_id) if body.group_id else None
    if held is not None and held != body.library_type:
        raise fail(409, "invalid_request_error",
                   f"group {body.group_id} holds {held} materials; it cannot take "
                   f"{body.library_type} ones", code="seedance_material_group_conflict",
                   param="group_id")
    media = fetch_source(body.asset_url, body.asset_type)
    asset = store.create(key, body.model_dump(exclude={"asset_url"}), media)
    return store.body(asset)


def update(store: AssetStore, key: int, asset_id: str, raw: bytes, catalog: Catalog
           ) -> dict[str, Any]:
    data = json_object(raw)
    if not data:
        raise bad_request("request body must set at least one field", code="empty_update")
    body = _validated(_Update, data, catalog)
    assert isinstance(body, _Update)
    current = store.get(key, asset_id, body.project_name)
    media = None
    asset_type = body.asset_type or current.asset_type
    if body.asset_url is not None:
        media = fetch_source(body.asset_url, asset_type)
    elif body.asset_type is not None and body.asset_type != current.asset_type:
        raise bad_request("asset_type can change only together with a new asset_url",
                          param="asset_type", code="asset_type_mismatch")
    fields = body.model_dump(exclude_unset=True, exclude={"asset_url"})
    return store.body(store.update(key, asset_id, fields, media))


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _offset(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        offset = json.loads(raw)["o"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        offset = None
    if not isinstance(offset, int) or offset < 0:
        raise bad_request("page_token: not a token from an earlier page", param="page_token",
                          code="invalid_page_token")
    return offset


def _choice(query: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str | None:
    value = query.get(name)
    if value is None:
        return None
    if value not in allowed:
        raise bad_request(f"{name}: {value!r} is not allowed; allowed: {', '.join(allowed)}",
                          param=name, code=f"invalid_{name}")
    return value


def project_of(query: Mapping[str, str]) -> str:
    project = query.get("project_name", DEFAULT_PROJECT)
    if not 1 <= len(project) <= 128:
        raise bad_request("project_name: 1-128 characters", param="project_name",
                          code="invalid_project_name")
    return project


def listing(store: AssetStore, key: int, query: Mapping[str, str]) -> dict[str, Any]:
    raw_size = query.get("page_size", str(DEFAULT_PAGE_SIZE))
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= MAX_PAGE_SIZE:
        raise bad_request(f"page_size: a whole number from 1 to {MAX_PAGE_SIZE}",
                          param="page_size", code="invalid_page_size")
    size = int(raw_size)
    offset = _offset(query["page_token"]) if query.get("page_token") else 0
    found = store.matching(key, project=project_of(query),
                           status=_choice(query, "status", STATUSES),
                           library_type=_choice(query, "library_type", LIBRARY_TYPES),
                           group_id=query.get("group_id") or None)
    page = found[offset : offset + size]
    more = offset + size < len(found)
    return {"assets": [store.body(a) for a in page],
            "next_page_token": _page_token(offset + size) if more else None}


__all__ = ["ASSET_TYPES", "create", "listing", "update"]
