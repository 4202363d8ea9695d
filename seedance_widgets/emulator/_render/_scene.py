"""The picture of an emulator video: what every frame shows, as a function of time.

The scene is a deterministic function of (prompt, seed) plus the request's inputs: a palette,
a background pattern and a few bouncing shapes derived from a SHA-256 of prompt and seed, with
the prompt text, a caption, a frame counter and a progress bar on top. Input pictures replace
the background and reference tiles sit above the shapes (see `_inputs`). Someone iterating on
a prompt or a seed thus sees a different video, and the same inputs always look the same.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from ..._sizes import ASPECT_RATIOS, NOMINAL_SIZES, RESOLUTIONS
from ._inputs import FADE_S, Backdrop, tile_layer
from ._spec import RenderInputs
from ._text import fmt_seconds, font, line_height, prompt_excerpt, text_width, wrap

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
_MIN_PREVIEW_HEIGHT = 16


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
    preview size (see the package docstring).
    """
    _check_resolution(resolution)
    rw, rh = _ratio(aspect_ratio)
    if preview_height < _MIN_PREVIEW_HEIGHT:
        raise ValueError(f"preview_height must be >= {_MIN_PREVIEW_HEIGHT}, got {preview_height}")
    short = preview_height - preview_height % 2  # round odd heights down, predictably
    if rw >= rh:
        return _even(short * rw / rh), short
    return short, _even(short * rh / rw)


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


class Scene:
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
        inputs: RenderInputs | None = None,
    ) -> None:
        if not duration_s > 0 or not math.isfinite(duration_s):
            raise ValueError(f"duration_s must be a positive number, got {duration_s!r}")
        if fps <= 0:
            raise ValueError(f"fps must be a positive integer, got {fps!r}")
        self.width, self.height = output_size(
            resolution, aspect_ratio, preview_height=preview_height
        )
        self.fps = fps
        self.duration_s = duration_s
        self.n_frames = max(1, round(duration_s * fps))
        digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:16], "big"))
        self._shapes = self._make_shapes(rng)
        self._background = self._make_background(rng)
        inputs = inputs or RenderInputs()
        self._backdrop = Backdrop(inputs, self.width, self.height, duration_s)
        self._fade_in = self._backdrop.active
        self._fade_out = inputs.end is not None
        self._make_text_layers(prompt, seed, duration_s, aspect_ratio, resolution)
        self._tiles = tile_layer(inputs.tiles, self.width, self.height, self._free_band)

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
        prompt_font = font(max(9, round(short / 12)))
        self._small_font = small_font = font(max(8, round(short / 18)))
        line_h = line_height(prompt_font, 1.2, 12)
        small_line_h = line_height(small_font, 1.25, 11)

        max_lines = max(2, min(5, (h // 3) // line_h))
        if self._backdrop.active:
            max_lines = 2  # leave the input picture in view
        prompt_lines = wrap(prompt_excerpt(prompt), prompt_font, w - 4 * margin, max_lines)
        ratio_label = "adaptive (16:9)" if aspect_ratio == "adaptive" else aspect_ratio
        caption = (
            f"seedance emulator · seed {seed} · {resolution} {ratio_label} · "
            f"{fmt_seconds(duration_s)}"
        )
        caption_lines = wrap(caption, small_font, w - 2 * margin, 3)

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
        counter_width = text_width(small_font, self._counter_text(self.n_frames - 1)) + 8
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
        self._free_band = (panel_bottom + margin // 2, caption_top - 2 - margin // 2)

    # --- per frame ----------------------------------------------------------------------

    def _counter_text(self, index: int) -> str:
        return f"frame {index + 1}/{self.n_frames} · {(index + 1) / self.fps:.2f}s"

    def frame(self, index: int) -> Image.Image:
        w, h = self.width, self.height
        t = index / self.fps
        # Fades are timed so that the first frame (fade in) and the last frame (fade out,
        # which ends at the clip's end) show the input pictures alone.
        alpha = 1.0
        if self._fade_in:
            alpha = min(alpha, t / FADE_S)
        if self._fade_out:
            alpha = min(alpha, (self.duration_s - (index + 1) / self.fps) / FADE_S)
        alpha = max(0.0, alpha)
        backdrop = self._backdrop.at(t)
        img = backdrop if backdrop is not None else self._background.copy()
        if alpha > 0:
            self._draw_shapes(img, t, alpha)
            for layer in (self._tiles, self._overlay):
                if layer is not None:
                    img.paste(layer, (0, 0), _faded(layer, alpha))
            draw = ImageDraw.Draw(img)
            fill = round(255 * alpha)
            draw.text((self._margin, self._counter_y), self._counter_text(index),
                      font=self._small_font, fill=(fill, fill, fill))
        draw = ImageDraw.Draw(img)
        done = round(w * (index + 1) / self.n_frames)
        draw.rectangle((0, h - self._bar_h, w, h), fill=(25, 25, 25))
        draw.rectangle((0, h - self._bar_h, done - 1, h), fill=(255, 200, 40))
        return img

    def _draw_shapes(self, img: Image.Image, t: float, alpha: float) -> None:
        w, h = self.width, self.height
        short = min(w, h)
        draw = ImageDraw.Draw(img, "RGBA")  # RGBA mode blends the translucent shape fills
        for s in self._shapes:
            r = s.radius * short * (1 + 0.2 * math.sin(2 * math.pi * s.pulse_hz * t + s.phase))
            x = _bounce(s.x0 * w + s.vx * w * t, r, w - r)
            y = _bounce(s.y0 * h + s.vy * h * t, r, h - r)
            box = (x - r, y - r, x + r, y + r)
            color = (*s.color[:3], round(s.color[3] * alpha))
            if s.kind == "circle":
                draw.ellipse(box, fill=color)
            elif s.kind == "ring":
                draw.ellipse(box, outline=color, width=max(2, round(r / 4)))
            else:
                draw.rounded_rectangle(box, radius=r / 4, fill=color)


def _faded(layer: Image.Image, alpha: float) -> Image.Image:
    """The layer's own alpha, scaled: the mask that pastes it at `alpha` opacity."""
    mask = layer.getchannel("A")
    if alpha >= 1:
        return mask
    return mask.point(lambda a: round(a * alpha))
