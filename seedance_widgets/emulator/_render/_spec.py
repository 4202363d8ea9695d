"""What a render is asked to draw besides prompt and seed: input pictures and reference tiles.

Plain frozen dataclasses with no imaging imports, so the emulator can describe a render
without loading Pillow, numpy or PyAV until it draws one.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True)
class Picture:
    """An input image as encoded bytes (PNG, JPEG...), decoded when a video is drawn."""

    data: bytes = field(repr=False)
    label: str = ""

    def image(self) -> Image.Image:
        from PIL import Image

        with Image.open(io.BytesIO(self.data)) as img:
            img.draft("RGB", (1024, 1024))  # JPEGs decode straight at a reduced size
            return img.convert("RGB")


@dataclass(frozen=True)
class Tile:
    """One reference shown in reference-to-video: an image, a video or an audio file."""

    kind: str  # "image", "video" or "audio"
    label: str
    picture: Picture | None = None  # the image, or a video's first frame
    detail: str = ""  # "4.0 s", "not fetched"...
    envelope: tuple[float, ...] = ()  # audio loudness, 0-1, left to right


@dataclass(frozen=True)
class RenderInputs:
    start: Picture | None = None
    end: Picture | None = None
    tiles: tuple[Tile, ...] = ()

    @property
    def empty(self) -> bool:
        return self.start is None and self.end is None and not self.tiles

    def digest(self) -> str:
        """A stable hash of everything drawn, for the render cache key."""
        h = hashlib.sha256()
        for pic in (self.start, self.end):
            h.update(b"P" + (hashlib.sha256(pic.data).digest() if pic else b"-"))
        for tile in self.tiles:
            h.update(f"T{tile.kind}\x00{tile.label}\x00{tile.detail}\x00{tile.envelope}".encode())
            if tile.picture is not None:
                h.update(hashlib.sha256(tile.picture.data).digest())
        return h.hexdigest()
