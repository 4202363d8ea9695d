"""Dropped video and audio files: kept in the kernel, published on the media host when asked.

TokenLab takes video and audio only as public URLs. A dropped clip is checked (type, size,
that it probes as video or audio with PyAV, its length), kept in the kernel's memory (never in
synced state) and shown as a reference `local://<key>` with an Upload action. Nothing leaves
the machine until the user presses Upload: publishing a file at a public URL is a separate act
from spending money, and the user sees where it will go first. Upload copies it to the media
host with progress, then swaps the reference to the public URL. Until then Generate stays off
with the reason. The media host uses its own storage credentials; the API key never goes there.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._media_host import (
    BASE_URL_ENV,
    HOST_ENV,
    AsyncMedia,
    MediaHost,
    media_kind,
    stand_in_url,
)
from ._form import make_ref, new_key
from ._loop import LoopBridge
from ._materials import PanelHooks, PanelPart
from ._protocol import MediaState, UploadState

log = logging.getLogger("seedance_widgets")

LOCAL = "local://"
MB = 1024 * 1024
# The facts sheet: reference videos mp4/mov, under 50 MB and 2-15 s in all; audio mp3/wav,
# under 15 MB and at most 15 s in all.
LIMITS = {"video": (("mp4", "mov"), 50 * MB, 15.0), "audio": (("mp3", "wav"), 15 * MB, 15.0)}
FIELDS = {"references": ("video", "audio"), "video_url": ("video",)}
PANEL_NO_HOST_HELP = (
    "Local video and audio must be uploaded to a public URL first (TokenLab takes them only as "
    "URLs), and no media host is configured. Make the panel with one:\n"
    "  SeedancePanel(media_host=FsspecMediaHost('s3://my-bucket/seedance', "
    "'https://my-bucket.s3.amazonaws.com/seedance/'))\n"
    "(any fsspec URL works: gcs://…, or a folder your web server publishes, e.g. "
    "FsspecMediaHost('/srv/media', 'https://media.example.org/')), or set "
    f"{HOST_ENV} and {BASE_URL_ENV} before making the panel. Or paste a public URL instead."
)


class DropRefused(ValueError):
    pass


def describe(host: MediaHost | None) -> str:
    """Where uploads go, for people: the public base URL, else the target, else the type."""
    if host is None:
        return ""
    for attr in ("public_base_url", "target"):
        value = getattr(host, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(host).__name__


def size_label(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{max(1, round(n / 1024))} KB"


def probe_seconds(kind: str, data: bytes, name: str) -> float | None:
    """The clip's length; DropRefused when it does not open as `kind` (PyAV)."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            streams = container.streams.video if kind == "video" else container.streams.audio
            if not streams:
                raise DropRefused(f"{name} has no {kind} track")
            if container.duration:
                return container.duration / 1_000_000
            stream = streams[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            return None
    except DropRefused:
        raise
    except Exception as exc:  # PyAV raises many kinds for a file that is not media
        raise DropRefused(f"{name} is not a readable {kind} file ({type(exc).__name__})") \
            from None


def check_drop(name: str, mime: str, field: str, size: int) -> str:
    """The kind of a dropped file ("video" or "audio"), or DropRefused saying why not."""
    kind = mime.split("/", 1)[0] if mime.split("/", 1)[0] in LIMITS else media_kind(name)
    if field not in FIELDS:
        raise DropRefused(f"{name}: files cannot be dropped on {field}")
    if kind not in FIELDS[field]:
        allowed = " or ".join(FIELDS[field])
        raise DropRefused(f"{name}: only {allowed} files go here")
    assert kind is not None
    exts, max_bytes, _ = LIMITS[kind]
    ext = Path(name).suffix.lower().lstrip(".")
    if ext not in exts:
        raise DropRefused(f"{name}: TokenLab takes {kind} as {', '.join(exts)}")
    if size > max_bytes:
        raise DropRefused(f"{name} is {size / MB:.1f} MB; {kind} references must be under "
                          f"{max_bytes // MB} MB")
    return kind


class MediaDrops(PanelPart):
    """The dropped clips of one panel and their uploads."""

    def __init__(self, media: AsyncMedia, bridge: LoopBridge, hooks: PanelHooks) -> None:
        super().__init__(bridge, hooks)
        self._media = media
        self._files: dict[str, bytes] = {}  # key -> the clip, never synced
        self._running: dict[str, asyncio.Task[Any]] = {}
        self.uploads: dict[str, UploadState] = {}

    @property
    def state(self) -> MediaState:
        return {"configured": self._media.configured, "where": describe(self._media.host),
                "help": "" if self._media.configured else PANEL_NO_HOST_HELP}

    # ------------------------------------------------------------------ messages
    def receive(self, kind: str, msg: dict[str, Any], buffers: list[Any]) -> None:
        if kind == "media_upload":
            self.upload(str(msg["key"]))
            return
        name = Path(str(msg.get("name") or "clip")).name
        if not self._media.configured:
            self._say(PANEL_NO_HOST_HELP, kind="error")
            return
        if not buffers:
            self._say(f"{name}: the file arrived empty", kind="error")
            return
        data = bytes(buffers[0])
        try:
            kind = check_drop(name, str(msg.get("mime") or ""), str(msg.get("field")), len(data))
        except DropRefused as exc:
            self._say(str(exc), kind="error")
            return
        self._bridge.spawn(self._add(name, kind, str(msg.get("field")), data))

    async def _add(self, name: str, kind: str, field: str, data: bytes) -> None:
        try:
            seconds = await asyncio.to_thread(probe_seconds, kind, data, name)
        except DropRefused as exc:
            self._say(str(exc), kind="error")
            return
        limit = LIMITS[kind][2]
        if seconds is not None and seconds > limit:
            self._say(f"{name} lasts {seconds:.1f} s; {kind} references may last at most "
                      f"{limit:g} s in all", kind="error")
            return
        key = new_key()
        self._files[key] = data
        length = f" · {seconds:.1f} s" if seconds is not None else ""
        self._set(key, name=name, kind=kind, size=len(data), status="pending", sent=0,
                  total=len(data), url="", message=f"{size_label(len(data))}{length} · not "
                  f"uploaded yet: Upload publishes it at {describe(self._media.host)}")
        form = dict(self._get_form())
        if field == "video_url":
            form["video_url"] = LOCAL + key
        else:
            form["references"] = [*(form.get("references") or []),
                                  {**make_ref(kind, LOCAL + key, name)}]
        self._set_form(form)
        self._say(f"added {name}: press Upload to publish it on the media host")

    def _set(self, key: str, **changes: Any) -> None:
        old = self.uploads.get(key) or {}
        self.uploads = {**self.uploads, key: {**old, **changes}}  # type: ignore[dict-item]
        self._publish("uploads", dict(self.uploads))

    # ------------------------------------------------------------------ upload
    def upload(self, key: str) -> None:
        running = self._running.get(key)
        if running is not None and not running.done():
            return  # one click, one upload
        if key not in self._files:
            self._say("that file is no longer in the kernel: drop it again", kind="error")
            return
        state = self.uploads[key]
        self._set(key, status="uploading", sent=0, message=f"uploading to "
                  f"{describe(self._media.host)}…")
        task = self._bridge.spawn(self._upload(key, state["name"]), report=False)
        if task is not None:
            self._running[key] = task

    async def _upload(self, key: str, name: str) -> None:
        shown = [-1]

        def progress(sent: int, total: int) -> None:
            pct = int(100 * sent / total) if total else 100
            if pct >= shown[0] + 2 or sent >= total:  # a message per 2 %, not per chunk
                shown[0] = pct
                self._set(key, sent=sent, total=total)

        try:
            url = await self._media.upload_bytes(self._files[key], name, progress=progress)
        except Exception as exc:  # MediaHostError, or whatever a custom host raises
            log.info("upload of %s failed: %s", name, exc)
            self._set(key, status="failed", message=f"upload failed: {exc}")
            self._say(f"could not upload {name}: {exc}", kind="error")
            return
        self._files.pop(key, None)
        self._set(key, status="done", url=url, sent=self.uploads[key]["total"],
                  message=f"uploaded to {url}")
        if self._swap(LOCAL + key, url):
            self._say(f"uploaded {name} to {url}; the reference uses that URL")
        else:
            self._say(f"uploaded {name} to {url}, but its input was removed meanwhile")

    def _swap(self, local: str, url: str) -> bool:
        form = dict(self._get_form())
        found = form.get("video_url") == local
        if found:
            form["video_url"] = url
        refs = []
        for ref in form.get("references") or []:
            if ref.get("url") == local:
                ref, found = {**ref, "url": url}, True
            refs.append(ref)
        form["references"] = refs
        if found:
            self._set_form(form)
        return found

    # ------------------------------------------------------------------ the form
    def stand_in(self, url: str) -> str:
        """For checks and prices only: a clip not uploaded yet as the kind of URL it will get
        (`request` refuses to build a request while one is waiting, so it is never sent)."""
        if not url.startswith(LOCAL):
            return url
        name = (self.uploads.get(url[len(LOCAL):]) or {}).get("name") or "clip.mp4"
        return stand_in_url(name)

    def errors(self, form: Mapping[str, Any]) -> dict[str, str]:
        """Form field -> why a dropped file stops Generate (not uploaded yet)."""
        out: dict[str, str] = {}
        refs = form.get("references") or [] if form.get("operation") == "reference-to-video" \
            else []
        pending = [str(r.get("url")) for r in refs if str(r.get("url", "")).startswith(LOCAL)]
        if pending:
            out["references"] = self._why(pending)
        video = str(form.get("video_url") or "")
        if form.get("operation") == "video-to-video" and video.startswith(LOCAL):
            out["video_url"] = self._why([video])
        return out

    def _why(self, locals_: list[str]) -> str:
        names = [self.uploads.get(u[len(LOCAL):], {}).get("name") or "a dropped file"
                 for u in locals_]
        busy = any(self.uploads.get(u[len(LOCAL):], {}).get("status") == "uploading"
                   for u in locals_)
        what = ", ".join(names)
        if busy:
            return f"uploading {what}: Generate waits for it"
        return f"{what} is not uploaded yet: press Upload on it, or remove it"

    def prune(self, form: Mapping[str, Any]) -> None:
        """Forget clips no input names any more (an upload under way finishes, changing nothing)."""
        used = {str(r.get("url")) for r in form.get("references") or []}
        used.add(str(form.get("video_url") or ""))
        for key in [k for k in self._files if LOCAL + k not in used]:
            running = self._running.get(key)
            if running is None or running.done():
                del self._files[key]
