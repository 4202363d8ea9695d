"""Real, playable H.264 MP4s for the built-in Seedance 2.0 emulator.

The emulator has to hand back files that behave like the real service's results: a ``<video>``
element in Chromium must play them and a notebook must be able to save and reopen them. So the
pictures are drawn with numpy and Pillow and encoded with PyAV (libx264, yuv420p, ``faststart``
so playback can begin before the whole file has arrived).

Two deliberate differences from the real service:

* Emulator videos are **silent**: there is no audio track. Synthesising and muxing audio would
  cost encode time and say nothing the picture does not already say.
* They are rendered at **preview size** (short side 180 px by default), not at the nominal
  resolution. A 1080p or 4k encode takes many seconds to minutes on the 2-core machines that
  run the tests and the demo notebooks, while a preview-size one takes about a second. The API
  emulator reports the nominal width and height (`nominal_size`) separately, exactly as the
  real service would, so nothing downstream depends on the pixel size of the file.

The picture is a deterministic function of (prompt, seed): a palette, a background pattern and
a few bouncing shapes are derived from a SHA-256 of both, and the prompt text, a caption, a
frame counter and a progress bar are drawn on top. Someone iterating on a prompt or a seed thus
sees a different video, and the same inputs always look the same (the bytes may still differ
between library versions).
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import math
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# One table of nominal sizes for the whole package: pricing already multiplies these, so the
# emulator re-exports rather than keeping a second copy that could drift.
from ._sizes import ASPECT_RATIOS, NOMINAL_SIZES, RESOLUTIONS, nominal_size

__all__ = [
    "ASPECT_RATIOS",
    "NOMINAL_SIZES",
    "RESOLUTIONS",
    "nominal_size",
    "output_size",
    "render_last_frame",
    "render_video",
]

# width:height of each ratio; "adaptive" lets the real model choose, the emulator picks the
# landscape default, matching what `nominal_size` assumes.
_RATIOS: dict[str, tuple[int, int]] = {
    "adaptive": (16, 9),
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:3": (4, 3),
    "3:4": (3, 4),
    "21:9": (21, 9),
}

_PROMPT_CHARS = 80
_MIN_PREVIEW_HEIGHT = 16
_CRF = "26"
_PRESET = "veryfast"

_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _check_resolution(resolution: str) -> None:
    if resolution not in NOMINAL_SIZES:
        raise ValueError(f"resolution {resolution!r} is not one of {', '.join(RESOLUTIONS)}")


def _ratio(aspect_ratio: str) -> tuple[int, int]:
    try:
        return _RATIOS[aspect_ratio]
    except KeyError:
        raise ValueError(
            f"aspect_ratio {aspect_ratio!r} is not one of {', '.join(ASPECT_RATIOS)}"
        ) from None


def _even(x: float) -> int:
    return max(2, 2 * round(x / 2))


def output_size(
    resolution: str, aspect_ratio: str, *, preview_height: int = 180
) -> tuple[int, int]:
    """(width, height) of the emulator's preview-size video: short side ``preview_height``.

    Both dimensions are even because yuv420p subsamples chroma by 2 in each direction.
    ``resolution`` is validated but does not change the size: every resolution is rendered at
    preview size (see the module docstring).
    """
    _check_resolution(resolution)
    rw, rh = _ratio(aspect_ratio)
    if preview_height < _MIN_PREVIEW_HEIGHT:
        raise ValueError(f"preview_height must be >= {_MIN_PREVIEW_HEIGHT}, got {preview_height}")
    short = preview_height - preview_height % 2  # round odd heights down, predictably
    if rw >= rh:
        return _even(short * rw / rh), short
    return short, _even(short * rh / rw)


@functools.lru_cache(maxsize=16)
def _font(size: int) -> _Font:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font; a small one still works
        return ImageFont.load_default()


def _text_width(font: _Font, text: str) -> float:
    return font.getlength(text)


def _wrap(text: str, font: _Font, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap; words wider than a line (URLs, CJK) are split by character."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _text_width(font, candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:
            if current and _text_width(font, current + ch) > max_width:
                lines.append(current)
                current = ch
            else:
                current += ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and _text_width(font, last + "…") > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines


def _prompt_excerpt(prompt: str) -> str:
    text = " ".join(prompt.split())
    if not text:
        return "(empty prompt)"
    if len(text) > _PROMPT_CHARS:
        return text[: _PROMPT_CHARS - 1].rstrip() + "…"
    return text


def _fmt_seconds(duration_s: float) -> str:
    return f"{duration_s:g}s"


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


@dataclass(frozen=True)
class _Shape:
    kind: str  # "circle", "ring" or "box"
    x0: float  # start position as a fraction of the frame
    y0: float
    vx: float  # speed in frame-widths / frame-heights per second
    vy: float
    radius: float  # as a fraction of the short side
    pulse_hz: float
    phase: float
    color: tuple[int, int, int, int]


def _bounce(p: float, lo: float, hi: float) -> float:
    # Closed-form reflection, so any frame (notably the last) is drawn without simulating the
    # frames before it.
    span = hi - lo
    if span <= 0:
        return lo
    m = (p - lo) % (2 * span)
    return lo + (m if m <= span else 2 * span - m)


class _Scene:
    """Everything about a video that does not change from frame to frame, computed once."""

    def __init__(
        self,
        *,
        prompt: str,
        seed: int,
        duration_s: float,
        aspect_ratio: str,
        resolution: str,
        fps: int,
        preview_height: int,
    ) -> None:
        if not duration_s > 0 or not math.isfinite(duration_s):
            raise ValueError(f"duration_s must be a positive number, got {duration_s!r}")
        if fps <= 0:
            raise ValueError(f"fps must be a positive integer, got {fps!r}")
        self.width, self.height = output_size(
            resolution, aspect_ratio, preview_height=preview_height
        )
        self.fps = fps
        self.n_frames = max(1, round(duration_s * fps))
        digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:16], "big"))
        self._shapes = self._make_shapes(rng)
        self._background = self._make_background(rng)
        self._make_text_layers(prompt, seed, duration_s, aspect_ratio, resolution)

    # --- static parts -------------------------------------------------------------------

    def _make_background(self, rng: np.random.Generator) -> Image.Image:
        w, h = self.width, self.height
        hue = rng.random()
        # Hue, value and gradient direction all vary, so two seeds rarely look alike even
        # when their hues happen to be close.
        top = np.array(_hsv(hue, 0.65, 0.25 + 0.2 * rng.random()), dtype=np.float32)
        bottom = np.array(
            _hsv(hue + 0.15 + 0.35 * rng.random(), 0.7, 0.6 + 0.35 * rng.random()),
            dtype=np.float32,
        )
        angle = rng.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        u = (xx / w - 0.5) * math.cos(angle) + (yy / h - 0.5) * math.sin(angle)
        u = (u - u.min()) / max(float(u.max() - u.min()), 1e-6)
        img = top + (bottom - top) * u[..., None]
        # Soft diagonal stripes: a per-seed texture that makes the frame read as "this video".
        stripe_angle = rng.uniform(0, math.pi)
        period = min(w, h) * rng.uniform(0.12, 0.35)
        proj = xx * math.cos(stripe_angle) + yy * math.sin(stripe_angle)
        img *= (1.0 + 0.12 * np.sin(2 * math.pi * proj / period))[..., None]
        return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")

    def _make_shapes(self, rng: np.random.Generator) -> list[_Shape]:
        base_hue = rng.random()
        shapes = []
        for i in range(int(rng.integers(3, 6))):
            speed = rng.uniform(0.15, 0.45)  # crosses the frame in roughly 2-7 s
            angle = rng.uniform(0, 2 * math.pi)
            shapes.append(
                _Shape(
                    kind=("circle", "ring", "box")[int(rng.integers(0, 3))],
                    x0=rng.random(),
                    y0=rng.random(),
                    vx=speed * math.cos(angle),
                    vy=speed * math.sin(angle),
                    radius=rng.uniform(0.08, 0.2),
                    pulse_hz=rng.uniform(0.3, 1.2),
                    phase=rng.uniform(0, 2 * math.pi),
                    color=(*_hsv(base_hue + i * 0.618, 0.75, 0.95), 210),
                )
            )
        return shapes

    def _make_text_layers(
        self, prompt: str, seed: int, duration_s: float, aspect_ratio: str, resolution: str
    ) -> None:
        w, h = self.width, self.height
        short = min(w, h)
        self._margin = margin = max(3, short // 20)
        self._bar_h = max(3, h // 45)
        prompt_font = _font(max(9, round(short / 12)))
        self._small_font = small_font = _font(max(8, round(short / 18)))
        line_h = round(prompt_font.size * 1.2) if hasattr(prompt_font, "size") else 12
        small_line_h = round(small_font.size * 1.25) if hasattr(small_font, "size") else 11

        max_lines = max(2, min(5, (h // 3) // line_h))
        prompt_lines = _wrap(_prompt_excerpt(prompt), prompt_font, w - 4 * margin, max_lines)
        ratio_label = "adaptive (16:9)" if aspect_ratio == "adaptive" else aspect_ratio
        caption = (
            f"seedance emulator · seed {seed} · {resolution} {ratio_label} · "
            f"{_fmt_seconds(duration_s)}"
        )
        caption_lines = _wrap(caption, small_font, w - 2 * margin, 3)

        # Text sits on translucent panels so it stays readable over any palette and shape.
        overlay = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        panel_bottom = margin + len(prompt_lines) * line_h + margin
        draw.rounded_rectangle(
            (margin, margin, w - margin, panel_bottom), radius=margin, fill=(0, 0, 0, 140)
        )
        for i, line in enumerate(prompt_lines):
            draw.text(
                (2 * margin, 1.5 * margin + i * line_h),
                line,
                font=prompt_font,
                fill=(255, 255, 255, 255),
            )

        # Bottom up: progress bar, frame counter (drawn per frame), static caption.
        self._counter_y = h - self._bar_h - margin // 2 - small_line_h
        caption_top = self._counter_y - len(caption_lines) * small_line_h
        counter_width = _text_width(small_font, self._counter_text(self.n_frames - 1)) + 8
        draw.rectangle((0, caption_top - 2, w, self._counter_y - 1), fill=(0, 0, 0, 110))
        draw.rectangle(
            (0, self._counter_y - 1, min(w, margin + counter_width), h - self._bar_h),
            fill=(0, 0, 0, 110),
        )
        for i, line in enumerate(caption_lines):
            draw.text(
                (margin, caption_top + i * small_line_h),
                line,
                font=small_font,
                fill=(235, 235, 235, 255),
            )
        self._overlay = overlay

    # --- per frame ----------------------------------------------------------------------

    def _counter_text(self, index: int) -> str:
        return f"frame {index + 1}/{self.n_frames} · {(index + 1) / self.fps:.2f}s"

    def frame(self, index: int) -> Image.Image:
        w, h = self.width, self.height
        short = min(w, h)
        t = index / self.fps
        img = self._background.copy()
        draw = ImageDraw.Draw(img, "RGBA")  # RGBA mode blends the translucent shape fills
        for s in self._shapes:
            r = s.radius * short * (1 + 0.2 * math.sin(2 * math.pi * s.pulse_hz * t + s.phase))
            x = _bounce(s.x0 * w + s.vx * w * t, r, w - r)
            y = _bounce(s.y0 * h + s.vy * h * t, r, h - r)
            box = (x - r, y - r, x + r, y + r)
            if s.kind == "circle":
                draw.ellipse(box, fill=s.color)
            elif s.kind == "ring":
                draw.ellipse(box, outline=s.color, width=max(2, round(r / 4)))
            else:
                draw.rounded_rectangle(box, radius=r / 4, fill=s.color)
        img.paste(self._overlay, (0, 0), self._overlay)
        draw = ImageDraw.Draw(img)
        draw.text(
            (self._margin, self._counter_y),
            self._counter_text(index),
            font=self._small_font,
            fill=(255, 255, 255),
        )
        done = round(w * (index + 1) / self.n_frames)
        draw.rectangle((0, h - self._bar_h, w, h), fill=(25, 25, 25))
        draw.rectangle((0, h - self._bar_h, done - 1, h), fill=(255, 200, 40))
        return img


class _ReadView:
    """A second, read-only cursor over the BytesIO the muxer is writing.

    ``movflags=faststart`` makes FFmpeg reopen its output for reading in order to move the moov
    atom to the front; for a file-like output PyAV routes that reopen through ``io_open``. The
    view keeps its own position and puts the writer's position back after every read, because
    the writing AVIOContext assumes nobody else moves the shared file offset.
    """

    def __init__(self, buf: io.BytesIO) -> None:
        self._buf = buf
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        writer_pos = self._buf.tell()
        try:
            self._buf.seek(self._pos)
            data = self._buf.read(size)
        finally:
            self._buf.seek(writer_pos)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += len(self._buf.getbuffer())
        self._pos = offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        pass  # the BytesIO belongs to render_video, which still needs it


def render_video(
    *,
    prompt: str,
    seed: int,
    duration_s: float,
    aspect_ratio: str,
    resolution: str = "720p",
    fps: int = 24,
    preview_height: int = 180,
) -> bytes:
    """A silent H.264 (yuv420p) MP4 of ``round(duration_s * fps)`` frames, moov atom first."""
    scene = _Scene(
        prompt=prompt,
        seed=seed,
        duration_s=duration_s,
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        fps=fps,
        preview_height=preview_height,
    )
    buf = io.BytesIO()
    # faststart puts the index before the media so a browser can play while still downloading.
    with av.open(
        buf,
        "w",
        format="mp4",
        options={"movflags": "faststart"},
        io_open=lambda _url, _flags, _options: _ReadView(buf),
    ) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = scene.width
        stream.height = scene.height
        stream.pix_fmt = "yuv420p"  # the only chroma format every browser decodes
        stream.options = {"crf": _CRF, "preset": _PRESET}
        time_base = Fraction(1, fps)
        for i in range(scene.n_frames):
            frame = av.VideoFrame.from_ndarray(np.asarray(scene.frame(i)), format="rgb24")
            frame.pts = i
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))  # flush the frames x264 holds back for B-frames
    return buf.getvalue()


def render_last_frame(
    *,
    prompt: str,
    seed: int,
    aspect_ratio: str,
    resolution: str = "720p",
    duration_s: float = 5,
    preview_height: int = 180,
) -> bytes:
    """PNG of the final frame of `render_video` (at 24 fps) for the same arguments.

    Drawn directly rather than decoded from the MP4, so it is lossless and costs one frame.
    """
    scene = _Scene(
        prompt=prompt,
        seed=seed,
        duration_s=duration_s,
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        fps=24,
        preview_height=preview_height,
    )
    buf = io.BytesIO()
    scene.frame(scene.n_frames - 1).save(buf, format="PNG")
    return buf.getvalue()
