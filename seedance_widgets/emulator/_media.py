"""Fetching and checking input media: what the emulator learns about an image, video or audio.

A generation's references are fetched when they are loopback `http(s)` URLs (a local media
host, another emulator result) or `data:` URLs; other hosts only when the emulator was started
with `fetch_remote=True`, so tests and offline demos never leave the machine. A material
asset's source is fetched from wherever it is (registering a URL asks for exactly that).
Nothing the emulator sends carries a credential.

Probing decodes for real: an image must open and load with Pillow, a video must have a
decodable video stream and an audio file a decodable audio stream (PyAV).
"""

from __future__ import annotations

import base64
import binascii
import io
import ipaddress
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import httpx

from .._version import __version__

FETCH_TIMEOUT_S = 15.0
MAX_FETCH_BYTES = 64 * 1024 * 1024
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF", "MPO")
VIDEO_CONTAINERS = ("mov", "mp4")  # PyAV names mp4/mov as "mov,mp4,m4a,3gp,3g2,mj2"
AUDIO_CONTAINERS = ("mp3", "wav")
ENVELOPE_BINS = 24
TOO_LARGE = "reference_too_large"
_DATA_URL = re.compile(r"^data:([a-z0-9.+/-]+)?((?:;[^,]*)*),(.*)$", re.I | re.S)


class MediaError(Exception):
    """The media could not be fetched or is not what it claims to be; the message says why,
    `code` is the API error code that reports it."""

    def __init__(self, message: str, code: str = "seedance_material_source_invalid") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Media:
    """What a probe found. `data` is kept so the render can draw it."""

    kind: str  # "image", "video" or "audio"
    data: bytes = field(repr=False)
    name: str = ""
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    first_frame: bytes | None = field(default=None, repr=False)  # PNG, videos
    last_frame: bytes | None = field(default=None, repr=False)  # PNG, videos
    envelope: tuple[float, ...] = ()  # audio loudness 0-1
    container: str = ""

    @property
    def size(self) -> int:
        return len(self.data)


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reachable(url: str, *, fetch_remote: bool) -> bool:
    """Whether the emulator may fetch this http(s) URL."""
    scheme = urlsplit(url).scheme.lower()
    return scheme in ("http", "https") and (fetch_remote or is_loopback(url))


def name_of(url: str) -> str:
    """A short label for a URL: its file name, or its host."""
    if url.startswith("data:"):
        return "inline"
    parts = urlsplit(url)
    tail = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    return tail or parts.hostname or url[:24]


def fetch(url: str, *, limit: int = MAX_FETCH_BYTES, fetch_remote: bool = False) -> bytes:
    """The bytes behind an http(s) or data: URL, or MediaError."""
    if url.startswith("data:"):
        return decode_data_url(url, limit=limit)
    if not reachable(url, fetch_remote=fetch_remote):
        raise MediaError(f"the emulator fetches only loopback URLs (start it with "
                         f"fetch_remote=True for others): {name_of(url)}")

    def check_hop(request: httpx.Request) -> None:
        if not reachable(str(request.url), fetch_remote=fetch_remote):
            raise MediaError("redirected to a host the emulator does not fetch")

    try:
        # Proxy settings matter only off the machine.
        with httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=True,
                          trust_env=not is_loopback(url),
                          headers={"User-Agent": f"SeedanceEmulator/{__version__} (media)"},
                          event_hooks={"request": [check_hop]}) as client, \
                client.stream("GET", url) as resp:
            if resp.status_code != 200:
                raise MediaError(f"fetching {name_of(url)} answered HTTP {resp.status_code}")
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise MediaError(f"{name_of(url)} is {int(declared)} bytes; at most {limit}",
                                 TOO_LARGE)
            chunks, size = [], 0
            for chunk in resp.iter_bytes(1 << 16):
                size += len(chunk)
                if size > limit:
                    raise MediaError(f"{name_of(url)} is over {limit} bytes", TOO_LARGE)
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise MediaError(f"could not fetch {name_of(url)}: {type(exc).__name__}") from None
    data = b"".join(chunks)
    if not data:
        raise MediaError(f"{name_of(url)} is empty")
    return data


def decode_data_url(url: str, *, limit: int = MAX_FETCH_BYTES) -> bytes:
    m = _DATA_URL.match(url)
    if not m or ";base64" not in (m.group(2) or "").lower():
        raise MediaError("data URLs must be data:<type>;base64,<data>")
    if len(m.group(3)) * 3 // 4 > limit:
        raise MediaError(f"the data URL is over {limit} bytes", TOO_LARGE)
    try:
        data = base64.b64decode(m.group(3), validate=False)
    except (binascii.Error, ValueError):
        raise MediaError("the data URL payload is not valid base64") from None
    if not data:
        raise MediaError("the data URL is empty")
    return data


# ---------------------------------------------------------------------- probes
def probe(kind: str, data: bytes, name: str = "") -> Media:
    """Decode `data` as `kind` ("image", "video" or "audio"), or MediaError."""
    if kind == "image":
        return probe_image(data, name)
    if kind == "video":
        return probe_video(data, name)
    if kind == "audio":
        return probe_audio(data, name)
    raise ValueError(kind)


def probe_image(data: bytes, name: str = "") -> Media:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            img.load()
            width, height = img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError(f"{name or 'the image'} is not an image that decodes "
                         f"({type(exc).__name__})") from None
    if fmt not in IMAGE_FORMATS:
        raise MediaError(f"{name or 'the image'} is {fmt or 'an unknown format'}; allowed: "
                         "jpeg, png, webp, bmp, tiff, gif")
    return Media("image", data, name, width=width, height=height, container=fmt.lower())


@contextmanager
def _decoding(label: str, what: str) -> Iterator[None]:
    """Turn a decoder's failure into a MediaError that says what the file is not."""
    import av

    try:
        yield
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError, ValueError, StopIteration) as exc:
        raise MediaError(f"{label} does not probe as {what} ({type(exc).__name__})") from None


def _container_check(label: str, fmt: str, allowed: tuple[str, ...], what: str) -> None:
    if not any(c in fmt.split(",") for c in allowed):
        raise MediaError(f"{label} is a {fmt.split(',')[0]} file; {what} is "
                         f"{'/'.join(allowed)}")


def probe_video(data: bytes, name: str = "") -> Media:
    import av

    label = name or "the video"
    with _decoding(label, "a video"), av.open(io.BytesIO(data)) as container:
        fmt = container.format.name
        if not container.streams.video:
            raise MediaError(f"{label} has no video stream")
        stream = container.streams.video[0]
        first = next(container.decode(stream), None)
        if first is None:
            raise MediaError(f"{label} has no frame that decodes")
        duration = _duration(container, stream)
        last = _last_frame(container, stream, duration) or first
        width, height = first.width, first.height
        first_png, last_png = _png(first), _png(last)
    _container_check(label, fmt, VIDEO_CONTAINERS, "a reference video")
    return Media("video", data, name, width=width, height=height, duration_s=duration,
                 first_frame=first_png, last_frame=last_png, container=fmt)


def probe_audio(data: bytes, name: str = "") -> Media:
    import av
    import numpy as np

    label = name or "the audio"
    levels: list[float] = []
    samples = 0
    with _decoding(label, "audio"), av.open(io.BytesIO(data)) as container:
        fmt = container.format.name
        if not container.streams.audio:
            raise MediaError(f"{label} has no audio stream")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or 1
        for frame in container.decode(stream):
            raw = frame.to_ndarray()
            arr = raw.astype(np.float32)
            if raw.dtype.kind in "iu":
                arr /= float(np.iinfo(raw.dtype).max)
            samples += frame.samples
            levels.append(float(np.sqrt(np.mean(arr**2))) if arr.size else 0.0)
    if not samples:
        raise MediaError(f"{label} has no audio that decodes")
    _container_check(label, fmt, AUDIO_CONTAINERS, "reference audio")
    return Media("audio", data, name, duration_s=samples / rate,
                 envelope=_bins(levels, ENVELOPE_BINS), container=fmt)


def check_video_deeply(data: bytes) -> str | None:
    """Decode every frame; the reason it fails, or None. Slower than `probe_video`."""
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            for _ in container.decode(container.streams.video[0]):
                pass
    except (av.error.FFmpegError, OSError, ValueError, IndexError) as exc:
        return f"Video could not be decoded to the end ({type(exc).__name__})."
    return None


def _duration(container: object, stream: object) -> float:
    dur = getattr(container, "duration", None)
    if dur:
        return float(dur) / 1_000_000
    sdur, base = getattr(stream, "duration", None), getattr(stream, "time_base", None)
    return float(sdur * base) if sdur and base else 0.0


def _last_frame(container: object, stream: object, duration: float) -> object | None:
    # Seek near the end rather than decode a long clip from the start.
    try:
        container.seek(max(0, int((duration - 1.0) * 1_000_000)))  # type: ignore[attr-defined]
    except Exception:
        return None
    last = None
    for frame in container.decode(stream):  # type: ignore[attr-defined]
        last = frame
    return last


def _png(frame: object) -> bytes:
    buf = io.BytesIO()
    frame.to_image().save(buf, format="PNG")  # type: ignore[attr-defined]
    return buf.getvalue()


def _bins(levels: list[float], n: int) -> tuple[float, ...]:
    if not levels:
        return ()
    peak = max(levels) or 1.0
    step = len(levels) / n
    out = []
    for i in range(n):
        chunk = levels[math.floor(i * step): max(math.floor(i * step) + 1, math.floor((i + 1) *
                                                                                       step))]
        out.append(round(max(chunk) / peak, 3) if chunk else 0.0)
    return tuple(out)
