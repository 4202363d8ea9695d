"""What a request's inputs add to an emulator video, and how they are drawn.

- a *start* picture is the first frame (image-to-video; the source's last frame for
  video-to-video and video-extension), and stays under the scene;
- an *end* picture (start-end-to-video) is cross-faded in, so the video moves from start to end;
- reference *tiles* (reference-to-video) show each reference image, video (its first frame)
  and audio (its loudness envelope) as a labelled tile.

The scene's shapes and text fade in over the first half second, and out over the last when
there is an end picture, so the first and last frames show the inputs themselves.
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from ._spec import RenderInputs, Tile
from ._text import ellipsize, font, line_height

FADE_S = 0.5


def cover(img: Image.Image, width: int, height: int) -> Image.Image:
    """`img` scaled to fill width x height, centred, cropped where the ratios differ."""
    scale = max(width / img.width, height / img.height)
    w, h = max(width, round(img.width * scale)), max(height, round(img.height * scale))
    scaled = img.resize((w, h), Image.Resampling.BILINEAR)
    left, top = (w - width) // 2, (h - height) // 2
    return scaled.crop((left, top, left + width, top + height))


def contain(img: Image.Image, width: int, height: int) -> Image.Image:
    scale = min(width / img.width, height / img.height)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.BILINEAR)


class Backdrop:
    """The picture under the scene at each moment, or None for the scene's own background.

    The start picture stays still (the scene's shapes move over it): a still background
    keeps the H.264 encode as cheap as the text-only scene's."""

    def __init__(self, inputs: RenderInputs, width: int, height: int, duration_s: float) -> None:
        self.duration_s = duration_s
        self._start = cover(inputs.start.image(), width, height) if inputs.start else None
        self._end = cover(inputs.end.image(), width, height) if inputs.end else None

    @property
    def active(self) -> bool:
        return self._start is not None or self._end is not None

    def at(self, t: float) -> Image.Image | None:
        if self._start is None or self._end is None:
            still = self._start or self._end
            return still.copy() if still is not None else None
        progress = min(1.0, max(0.0, t / self.duration_s)) if self.duration_s else 1.0
        # Hold the start, cross-fade through the middle, land on the end.
        mix = min(1.0, max(0.0, (progress - 0.2) / 0.6))
        if mix <= 0:
            return self._start.copy()
        if mix >= 1:
            return self._end.copy()
        return Image.blend(self._start, self._end, mix)


def tile_layer(tiles: tuple[Tile, ...], width: int, height: int,
               band: tuple[int, int]) -> Image.Image | None:
    """An RGBA layer with the reference tiles laid out in a grid inside the vertical band."""
    if not tiles:
        return None
    top, bottom = band
    margin = max(3, min(width, height) // 30)
    label_font = font(max(8, round(min(width, height) / 20)))
    label_h = line_height(label_font, 1.2, 10)
    avail_w, avail_h = width - 2 * margin, max(8, bottom - top)
    n = len(tiles)
    best: tuple[float, int, int] = (0.0, 1, n)
    for rows in range(1, n + 1):
        cols = math.ceil(n / rows)
        cell_w = (avail_w - (cols - 1) * margin) / cols
        cell_h = (avail_h - (rows - 1) * margin) / rows - label_h
        size = min(cell_w, cell_h * 16 / 9)
        if size > best[0]:
            best = (size, rows, cols)
    size, rows, cols = best
    tile_w = max(8, int(size))
    tile_h = max(6, int(size * 9 / 16))
    grid_w = cols * tile_w + (cols - 1) * margin
    grid_h = rows * (tile_h + label_h) + (rows - 1) * margin
    x0, y0 = (width - grid_w) // 2, top + max(0, (avail_h - grid_h) // 2)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, cols)
        x = x0 + c * (tile_w + margin)
        y = y0 + r * (tile_h + label_h + margin)
        _draw_tile(layer, draw, tile, (x, y, tile_w, tile_h), label_font, label_h)
    return layer


def _draw_tile(layer: Image.Image, draw: ImageDraw.ImageDraw, tile: Tile,
               box: tuple[int, int, int, int], label_font: object, label_h: int) -> None:
    x, y, w, h = box
    draw.rectangle((x - 1, y - 1, x + w, y + h + label_h), fill=(0, 0, 0, 170))
    if tile.picture is not None:
        layer.paste(cover(tile.picture.image(), w, h), (x, y))
    elif tile.envelope:
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=(30, 30, 60, 255))
        bins = len(tile.envelope)
        for b, level in enumerate(tile.envelope):
            bx = x + round(b * w / bins)
            half = max(1, round(level * (h / 2 - 2)))
            draw.rectangle((bx, y + h // 2 - half, bx + max(1, w // bins - 1), y + h // 2 + half),
                           fill=(120, 220, 255, 255))
    else:
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=(70, 70, 70, 255))
    text = f"{tile.label} · {tile.detail}" if tile.detail else tile.label
    draw.text((x + 2, y + h + 1), ellipsize(text, label_font, w - 4),  # type: ignore[arg-type]
              font=label_font, fill=(255, 255, 255, 255))  # type: ignore[arg-type]
