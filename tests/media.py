"""Test media and a loopback "public" web server for them.

`MediaServer` serves a folder on 127.0.0.1 like a static host or CDN would, and records every
request's path and headers so tests can assert who fetched what (and that no API key came
along). The makers build real, small media files: PNG images, H.264 MP4s, WAV and MP3 audio.
"""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import av
import numpy as np
from PIL import Image


class Hit(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]


class _Handler(SimpleHTTPRequestHandler):
    hits: list[Hit]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        self.server.hits.append(  # type: ignore[attr-defined]
            Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        return super().send_head()


class MediaServer:
    """A static file server on 127.0.0.1 over `root`, with a request log."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._server = ThreadingHTTPServer(("127.0.0.1", 0),
                                           partial(_Handler, directory=str(root)))
        self._server.hits = []  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def hits(self) -> list[Hit]:
        return list(self._server.hits)  # type: ignore[attr-defined]

    def url(self, name: str) -> str:
        return self.base_url + name

    def put(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return self.url(name)

    def start(self) -> MediaServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def media_server(root: Path) -> Iterator[MediaServer]:
    root.mkdir(parents=True, exist_ok=True)
    server = MediaServer(root).start()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------------- makers
Color = tuple[int, int, int]
RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 200, 60), (30, 60, 220), (240, 220, 40)


def png(color: Color, size: tuple[int, int] = (640, 360), *, fmt: str = "PNG") -> bytes:
    """A solid-colour image."""
    img = Image.new("RGB", size, color)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def quadrants(colors: tuple[Color, Color, Color, Color] = (RED, GREEN, BLUE, YELLOW),
              size: tuple[int, int] = (640, 360)) -> bytes:
    """Four solid quadrants (top-left, top-right, bottom-left, bottom-right), as PNG."""
    img = Image.new("RGB", size)
    w, h = size
    for i, c in enumerate(colors):
        x, y = (i % 2) * w // 2, (i // 2) * h // 2
        img.paste(c, (x, y, x + w // 2, y + h // 2))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def mp4(color: Color, seconds: float, *, size: tuple[int, int] = (320, 180),
        end_color: Color | None = None, fps: int = 24) -> bytes:
    """A solid-colour H.264 MP4 that turns to `end_color` on its last second."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        n = max(1, round(seconds * fps))
        for i in range(n):
            c = end_color if end_color is not None and i >= n - fps else color
            arr = np.zeros((size[1], size[0], 3), np.uint8)
            arr[:] = c
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


def wav(seconds: float, freq: float = 440.0, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        n = round(seconds * rate)
        t = np.arange(n) / rate
        samples = (0.3 * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


def region_mean(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Mean RGB of a region given as fractions (left, top, right, bottom) of the frame."""
    h, w = frame.shape[:2]
    left, t, r, b = box
    return frame[int(t * h):int(b * h), int(left * w):int(r * w)].reshape(-1, 3).mean(axis=0)


def frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def audio_samples(data: bytes) -> tuple[str, np.ndarray]:
    """(codec name, float samples shaped (channels, n)) of the first audio stream."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        parts = [f.to_ndarray() for f in container.decode(stream)]
        return stream.codec_context.name, np.concatenate(parts, axis=1)
