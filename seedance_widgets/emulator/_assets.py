"""Seedance material assets of the emulator: records, lifecycle, ownership and persistence.

Like tasks, an asset's status is derived from timestamps on every read: `PROCESSING` until
`ready_at` (and until its deeper source check has run), then `ACTIVE`, or `FAILED` with the
check's reason; `DELETED` once deleted. Assets belong to the API key that made them (the
"organization") and to a project; a generation may use any of its key's assets.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._files import write_atomic
from ._config import Timings
from ._errors import fail
from ._media import Media, MediaError, check_video_deeply, probe

logger = logging.getLogger("seedance_widgets.emulator")

ASSET_ID = re.compile(r"^asset-\d{14}-[a-z0-9]{5}$")
STATUSES = ("PROCESSING", "ACTIVE", "FAILED", "DELETED")
LIBRARY_TYPES = ("aigc_avatar", "liveness_face")
ASSET_TYPES = ("Image", "Video", "Audio")
KIND_OF_TYPE = {"Image": "image", "Video": "video", "Audio": "audio"}
DEFAULT_PROJECT = "default"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
# Persisted fields; the media bytes are kept beside the record.
_PERSISTED = ("id", "key_index", "project_name", "group_id", "library_type", "asset_name",
              "asset_type", "metadata", "created_at", "updated_at", "ready_at", "auto",
              "digest", "failure", "checked", "deleted_at", "source_name")


def new_id(prefix: str, now: float) -> str:
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d%H%M%S")
    return f"{prefix}-{stamp}-{''.join(secrets.choice(_ALPHABET) for _ in range(5))}"


@dataclass
class Asset:
    id: str
    key_index: int
    project_name: str
    group_id: str | None
    library_type: str
    asset_name: str | None
    asset_type: str
    metadata: dict[str, Any] | None
    created_at: float
    updated_at: float
    ready_at: float
    auto: bool = False  # prepared from an inline image by a generation
    digest: str = ""  # sha256 of the source bytes
    failure: str | None = None  # the deeper check's reason: FAILED once ready
    checked: bool = False  # the deeper check has run
    deleted_at: float | None = None
    source_name: str = ""
    media: Media | None = field(default=None, repr=False)

    def status(self, now: float) -> str:
        if self.deleted_at is not None:
            return "DELETED"
        if now < self.ready_at or not self.checked:
            return "PROCESSING"
        return "FAILED" if self.failure else "ACTIVE"

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.ready_at - now)


def deep_check(media: Media) -> str | None:
    """What the service finds while processing: the reason to fail the asset, or None.

    Sources that fail this pass the create-time probe: they decode, but cannot be used.
    """
    if media.kind == "image" and media.width and media.height:
        ratio = media.width / media.height
        if not 0.4 <= ratio <= 2.5:
            return (f"Image aspect ratio (width/height) must be between 0.4 and 2.5; "
                    f"got {ratio:.2f}.")
    if media.kind == "video":
        if media.duration_s is not None and not 2 <= media.duration_s <= 15:
            return f"Video duration must be between 2 and 15 seconds; got {media.duration_s:.1f}."
        return check_video_deeply(media.data)
    if media.kind == "audio" and media.duration_s is not None and media.duration_s > 15:
        return f"Audio duration must be at most 15 seconds; got {media.duration_s:.1f}."
    return None


class AssetStore:
    """Every asset of one emulator, behind one lock."""

    def __init__(self, *, timings: Timings, state_dir: Path | None = None) -> None:
        self.timings = timings
        self._lock = threading.Lock()
        self._assets: dict[str, Asset] = {}
        self._groups: dict[tuple[int, str], str] = {}
        self._dir = state_dir / "assets" if state_dir else None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seedance-emu-asset")
        if self._dir is not None:
            self._load()

    # ------------------------------------------------------------------ create, update
    def create(self, key_index: int, fields: dict[str, Any], media: Media, *,
               auto: bool = False) -> Asset:
        now = time.time()
        project = fields.get("project_name") or DEFAULT_PROJECT
        library = fields.get("library_type") or "aigc_avatar"
        with self._lock:
            group = fields.get("group_id") or self._default_group(key_index, project, now)
            asset = Asset(
                id=new_id("asset", now), key_index=key_index, project_name=project,
                group_id=group, library_type=library, asset_name=fields.get("asset_name"),
                asset_type=fields.get("asset_type") or "Image", metadata=fields.get("metadata"),
                created_at=now, updated_at=now, ready_at=now + self.timings.asset_ready_s,
                auto=auto, digest=hashlib.sha256(media.data).hexdigest(), media=media,
                source_name=media.name,
            )
            self._assets[asset.id] = asset
        self._check_later(asset)
        return asset

    def _default_group(self, key_index: int, project: str, now: float) -> str:
        # Materials always live in a group; one per key and project when none is named.
        return self._groups.setdefault((key_index, project), new_id("group", now))

    def _check_later(self, asset: Asset) -> None:
        media = asset.media
        self._persist(asset, media=True)

        def run() -> None:
            try:
                reason = deep_check(media) if media is not None else "Source is missing."
            except Exception as exc:  # a broken check must fail the asset, not hang it
                logger.exception("deep check of %s failed", asset.id)
                reason = f"Source check failed: {type(exc).__name__}"
            with self._lock:
                if asset.media is media:  # not replaced meanwhile
                    asset.failure, asset.checked = reason, True
            self._persist(asset)

        self._pool.submit(run)

    def update(self, key_index: int, asset_id: str, fields: dict[str, Any],
               media: Media | None) -> Asset:
        asset = self.get(key_index, asset_id, fields.get("project_name"))
        now = time.time()
        status = asset.status(now)
        if status == "PROCESSING":
            raise fail(409, "invalid_request_error",
                       "Material asset is still processing; retry after it becomes ACTIVE",
                       code="seedance_material_preparing", param="asset_id",
                       retry_after=round(max(0.1, asset.seconds_left(now)), 2), retryable=True)
        if status == "FAILED" and media is None:
            raise fail(422, "invalid_request_error", asset.failure or "Source is invalid",
                       code="seedance_material_source_invalid", param="asset_url")
        with self._lock:
            for name in ("asset_name", "asset_type", "metadata"):
                if name in fields:
                    setattr(asset, name, fields[name])
            asset.updated_at = now
            if media is not None:
                asset.media, asset.source_name = media, media.name
                asset.digest = hashlib.sha256(media.data).hexdigest()
                asset.ready_at, asset.checked, asset.failure = (
                    now + self.timings.asset_ready_s, False, None)
        if media is not None:
            self._check_later(asset)
        else:
            self._persist(asset)
        return asset

    def delete(self, key_index: int, asset_id: str, project: str | None) -> Asset:
        asset = self.get(key_index, asset_id, project)
        with self._lock:
            if asset.deleted_at is None:
                asset.deleted_at = asset.updated_at = time.time()
                asset.media = None
        self._persist(asset)
        if self._dir is not None:
            (self._dir / f"{asset.id}.media").unlink(missing_ok=True)
        return asset

    # ------------------------------------------------------------------ read
    def get(self, key_index: int, asset_id: str, project: str | None) -> Asset:
        """The asset, or 404 (unknown, another key's, or another project's)."""
        with self._lock:
            asset = self._assets.get(asset_id)
        if (asset is None or asset.key_index != key_index
                or asset.project_name != (project or DEFAULT_PROJECT)):
            raise fail(404, "not_found_error", f"Material asset {asset_id} not found",
                       code="seedance_material_not_found", param="assetId")
        return asset

    def lookup(self, key_index: int, asset_id: str) -> Asset | None:
        """Any project's asset of this key (what a generation may use), or None."""
        with self._lock:
            asset = self._assets.get(asset_id)
        return asset if asset is not None and asset.key_index == key_index else None

    def group_library(self, key_index: int, group_id: str) -> str | None:
        """The library type a group already holds for this key, if any."""
        with self._lock:
            for asset in self._assets.values():
                if asset.key_index == key_index and asset.group_id == group_id:
                    return asset.library_type
        return None

    def find_auto(self, key_index: int, digest: str) -> Asset | None:
        """The asset an earlier generation prepared from the same inline image."""
        with self._lock:
            for asset in self._assets.values():
                if (asset.auto and asset.key_index == key_index and asset.digest == digest
                        and asset.deleted_at is None):
                    return asset
        return None

    def matching(self, key_index: int, *, project: str, status: str | None,
                 library_type: str | None, group_id: str | None) -> list[Asset]:
        """The key's assets in a project, newest first; DELETED only when asked for."""
        now = time.time()
        with self._lock:
            found = [a for a in self._assets.values()
                     if a.key_index == key_index and a.project_name == project
                     and (a.status(now) == status if status else a.deleted_at is None)
                     and (library_type is None or a.library_type == library_type)
                     and (group_id is None or a.group_id == group_id)]
        return sorted(found, key=lambda a: (-a.created_at, a.id))

    def body(self, asset: Asset, now: float | None = None) -> dict[str, Any]:
        """The `SeedanceMaterialAsset` for an asset as it stands now."""
        status = asset.status(time.time() if now is None else now)
        return {
            "id": asset.id, "object": "seedance.material_asset", "group_id": asset.group_id,
            "project_name": asset.project_name, "library_type": asset.library_type,
            "asset_name": asset.asset_name, "asset_type": asset.asset_type, "status": status,
            "ready": status == "ACTIVE",
            "error_message": asset.failure if status == "FAILED" else None,
            "metadata": asset.metadata,
            # Milliseconds, as the contract's examples show.
            "created_at": int(asset.created_at * 1000),
            "updated_at": int(max(asset.updated_at, min(asset.ready_at, time.time())) * 1000),
        }

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            assets = list(self._assets.values())
        return [{**self.body(a), "key_index": a.key_index, "auto": a.auto} for a in assets]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ persistence
    def _persist(self, asset: Asset, *, media: bool = False) -> None:
        if self._dir is None:
            return
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            if media and asset.media is not None:
                write_atomic(self._dir / f"{asset.id}.media", asset.media.data)
            record = {k: getattr(asset, k) for k in _PERSISTED}
            record["kind"] = asset.media.kind if asset.media else None
            write_atomic(self._dir / f"{asset.id}.json", json.dumps(record).encode())
        except OSError as exc:
            logger.warning("could not persist asset %s: %s", asset.id, exc)

    def _load(self) -> None:
        assert self._dir is not None
        for path in sorted(self._dir.glob("asset-*.json")):
            if not ASSET_ID.match(path.stem):
                continue  # only names we made ourselves become paths
            try:
                record = json.loads(path.read_text())
                kind = record.pop("kind", None)
                asset = Asset(**{k: record[k] for k in _PERSISTED if k in record})
                blob = self._dir / f"{asset.id}.media"
                if kind and blob.is_file() and asset.deleted_at is None:
                    asset.media = probe(kind, blob.read_bytes(), asset.source_name)
            except (OSError, ValueError, TypeError, KeyError, MediaError) as exc:
                logger.warning("skipping unreadable emulator asset %s: %s", path.name, exc)
                continue
            if asset.id != path.stem:
                continue
            self._assets[asset.id] = asset
            if asset.group_id and not asset.auto:
                self._groups.setdefault((asset.key_index, asset.project_name), asset.group_id)
            if not asset.checked and asset.media is not None:
                self._check_later(asset)

