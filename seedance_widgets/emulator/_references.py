"""A generation's input media: resolved, fetched, checked against the limits, then drawn.

For each input of a validated create request this finds the media behind it:
`asset://` ids and `material_asset_ids` from the key's material assets, inline `data:` images
(prepared as material assets, as the contract describes, and reused for the same bytes),
and `http(s)` URLs the emulator may fetch (see `_media`). Others are drawn as "not fetched"
placeholders. Limits follow the facts sheet; each refusal is a 400 naming the field.

A generation that uses a material still PROCESSING is held up to `Timings.material_hold_s`
(the contract's 60 s), then answered 409 `seedance_material_preparing` with
`auto_material_asset_ids` (and `material_asset_ids` for explicit `asset://` inputs).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any

from .._request import VideoRequest
from ._assets import Asset, AssetStore
from ._config import Timings
from ._errors import ApiFailure, api_error, bad_request
from ._media import Media, MediaError, decode_data_url, fetch, name_of, probe, reachable
from ._render import Picture, RenderInputs, Tile

MB = 1024 * 1024
MAX_IMAGE_BYTES = 30 * MB
MAX_VIDEO_TOTAL_BYTES = 50 * MB
VIDEO_TOTAL_S = (2.0, 15.0)
MAX_AUDIO_BYTES = 15 * MB
MAX_AUDIO_TOTAL_S = 15.0
PREPARING_MESSAGE = "Seedance material is still preparing. Please retry after it becomes ACTIVE."
_HOLD_STEP_S = 0.05


@dataclass
class Ref:
    field: str
    kind: str  # image, video, audio
    label: str  # what the tile or frame says
    media: Media | None = None
    asset: Asset | None = None  # its media is read once the asset is ACTIVE
    note: str = ""  # "not fetched"


@dataclass
class Resolution:
    refs: list[Ref] = field(default_factory=list)
    auto_ids: list[str] = field(default_factory=list)  # prepared from inline images

    def pending(self, now: float) -> list[Asset]:
        seen: dict[str, Asset] = {}
        for ref in self.refs:
            if ref.asset is not None and ref.asset.status(now) == "PROCESSING":
                seen[ref.asset.id] = ref.asset
        return list(seen.values())


def _refuse(field: str, message: str, code: str) -> ApiFailure:
    return bad_request(f"{field}: {message}", param=field, code=code)


class References:
    def __init__(self, assets: AssetStore, timings: Timings, *, fetch_remote: bool) -> None:
        self.assets = assets
        self.timings = timings
        self.fetch_remote = fetch_remote

    # ------------------------------------------------------------------ resolve
    def resolve(self, request: VideoRequest, key: int) -> Resolution:
        out = Resolution()
        for name in ("image_url", "image", "start_image", "end_image", "reference_images"):
            value = getattr(request, name)
            for i, url in enumerate(value if isinstance(value, list) else [value] * bool(value)):
                out.refs.append(self._image(name, i, url, key, out))
        for i, asset_id in enumerate(request.material_asset_ids or ()):
            out.refs.append(self._asset_ref("material_asset_ids", asset_id, key,
                                            f"image {i + 1}"))
        videos = [request.video_url] if request.video_url else list(request.video_urls or ())
        video_field = "video_url" if request.video_url else "video_urls"
        for i, url in enumerate(videos):
            out.refs.append(self._fetched(video_field, "video", url, f"video {i + 1}",
                                          MAX_VIDEO_TOTAL_BYTES))
        for i, url in enumerate(request.audio_urls or ()):
            out.refs.append(self._fetched("audio_urls", "audio", url, f"audio {i + 1}",
                                          MAX_AUDIO_BYTES))
        self._check_totals(out.refs)
        return out

    def _image(self, name: str, index: int, url: str, key: int, out: Resolution) -> Ref:
        label = f"image {index + 1}"
        if url.startswith("asset://"):
            return self._asset_ref(name, url.removeprefix("asset://"), key, label)
        if url.startswith("data:"):
            try:
                media = probe("image", decode_data_url(url, limit=MAX_IMAGE_BYTES), "inline")
            except MediaError as exc:
                raise _refuse(name, str(exc), exc.code) from None
            asset = self._prepare(media, key)
            if asset.id not in out.auto_ids:
                out.auto_ids.append(asset.id)
            return Ref(name, "image", label, asset=asset)
        return self._fetched(name, "image", url, label, MAX_IMAGE_BYTES)

    def _prepare(self, media: Media, key: int) -> Asset:
        digest = hashlib.sha256(media.data).hexdigest()
        found = self.assets.find_auto(key, digest)
        if found is not None:
            return found
        return self.assets.create(key, {"asset_name": "inline image (prepared)"}, media,
                                  auto=True)

    def _asset_ref(self, name: str, asset_id: str, key: int, label: str) -> Ref:
        asset = self.assets.lookup(key, asset_id)
        now = time.time()
        if asset is None or asset.status(now) == "DELETED":
            raise _refuse(name, f"material asset {asset_id} is unknown, deleted or not owned "
                                "by this account", "seedance_material_not_found")
        if asset.asset_type != "Image":
            raise _refuse(name, f"material asset {asset_id} is a {asset.asset_type} material; "
                                "this field takes Image materials", "seedance_material_type")
        if asset.status(now) == "FAILED":
            raise _refuse(name, f"material asset {asset_id} FAILED: {asset.failure}",
                          "seedance_material_source_invalid")
        return Ref(name, "image", f"{label} · {asset.asset_name or asset.id}", asset=asset)

    def _fetched(self, name: str, kind: str, url: str, label: str, limit: int) -> Ref:
        shown = f"{label} · {name_of(url)}"
        if not reachable(url, fetch_remote=self.fetch_remote):
            return Ref(name, kind, shown, note="not fetched")
        try:
            media = probe(kind, fetch(url, limit=limit, fetch_remote=self.fetch_remote),
                          name_of(url))
        except MediaError as exc:
            raise _refuse(name, str(exc), exc.code) from None
        return Ref(name, kind, shown, media=media)

    def _check_totals(self, refs: list[Ref]) -> None:
        videos = [r for r in refs if r.kind == "video"]
        known = [r.media for r in videos if r.media is not None]
        total_s = sum(m.duration_s or 0.0 for m in known)
        low, high = VIDEO_TOTAL_S
        if known and (total_s > high or (len(known) == len(videos) and total_s < low)):
            raise _refuse(videos[0].field, f"reference videos last {total_s:.1f} s in all; "
                          f"allowed {low:g}-{high:g} s", "reference_video_duration_out_of_range")
        if sum(m.size for m in known) > MAX_VIDEO_TOTAL_BYTES:
            raise _refuse(videos[0].field, f"reference videos are over "
                          f"{MAX_VIDEO_TOTAL_BYTES // MB} MB in all", "reference_video_too_large")
        audios = [r.media for r in refs if r.kind == "audio" and r.media is not None]
        audio_s = sum(m.duration_s or 0.0 for m in audios)
        if audio_s > MAX_AUDIO_TOTAL_S:
            raise _refuse("audio_urls", f"reference audio lasts {audio_s:.1f} s in all; at "
                          f"most {MAX_AUDIO_TOTAL_S:g} s", "reference_audio_too_long")

    # ------------------------------------------------------------------ hold
    def hold(self, resolution: Resolution) -> None:
        """Wait for PROCESSING materials, up to the bound; 409 if they are still not ready."""
        deadline = time.monotonic() + self.timings.material_hold_s
        while True:
            now = time.time()
            pending = resolution.pending(now)
            if not pending or time.monotonic() >= deadline:
                break
            soonest = min(a.seconds_left(now) for a in pending)
            time.sleep(min(max(_HOLD_STEP_S, soonest), deadline - time.monotonic(), 1.0)
                       if soonest > 0 else _HOLD_STEP_S)
        now = time.time()
        for ref in resolution.refs:
            if ref.asset is not None and ref.asset.status(now) in ("FAILED", "DELETED"):
                raise _refuse(ref.field, f"material asset {ref.asset.id} "
                              f"{ref.asset.status(now)}: {ref.asset.failure or 'deleted'}",
                              "seedance_material_source_invalid")
        pending = resolution.pending(now)
        if pending:
            raise self._preparing(resolution, pending, now)

    def _preparing(self, resolution: Resolution, pending: list[Asset],
                   now: float) -> ApiFailure:
        wait = max(0.1, max(a.seconds_left(now) for a in pending))
        auto = [a.id for a in pending if a.id in resolution.auto_ids]
        explicit = [a.id for a in pending if a.id not in resolution.auto_ids]
        extra: dict[str, Any] = {"auto_material_asset_ids": auto or None,
                                 "material_asset_ids": explicit or None}
        body = api_error("invalid_request_error", PREPARING_MESSAGE,
                         code="seedance_material_preparing", param="material_asset_id",
                         retry_after=round(wait, 2), retryable=True, **extra)
        return ApiFailure(409, body, {"Retry-After": str(math.ceil(wait))})

    # ------------------------------------------------------------------ draw
    def render_inputs(self, request: VideoRequest, resolution: Resolution) -> RenderInputs:
        pictures: dict[str, list[Picture]] = {}
        tiles: list[Tile] = []
        for ref in resolution.refs:
            media = ref.asset.media if ref.asset is not None else ref.media
            picture = None
            if media is not None and media.kind == "image":
                picture = Picture(media.data, ref.label)
            elif media is not None and media.kind == "video":
                source = media.last_frame if ref.field == "video_url" else media.first_frame
                picture = Picture(source, ref.label) if source else None
            if picture is not None:
                pictures.setdefault(ref.field, []).append(picture)
            if request.operation == "reference-to-video":
                detail = ref.note or (f"{media.duration_s:.1f} s" if media is not None
                                      and media.duration_s else "")
                tiles.append(Tile(ref.kind, ref.label, picture, detail,
                                  media.envelope if media is not None else ()))

        def first(*names: str) -> Picture | None:
            for name in names:
                if pictures.get(name):
                    return pictures[name][0]
            return None

        if request.operation == "reference-to-video":
            return RenderInputs(tiles=tuple(tiles))
        return RenderInputs(start=first("image_url", "image", "start_image", "video_url"),
                            end=first("end_image"))
