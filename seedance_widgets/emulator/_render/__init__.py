"""Real, playable MP4s for the built-in Seedance 2.0 emulator.

The emulator has to hand back files that behave like the real service's results: a ``<video>``
element in Chromium must play them and a notebook must be able to save and reopen them. So the
pictures are drawn with numpy and Pillow and encoded with PyAV (libx264 yuv420p, AAC sound,
``faststart``).

The picture shows the request: its prompt, seed and selectors, and its inputs (the first-frame
image, the start and end images, reference tiles, the source's last frame for extensions).
The sound, when asked for, is a tone or a chirp chosen by the seed.

One deliberate difference from the real service: videos are rendered at **preview size**
(short side 180 px by default), not at the nominal resolution. A 1080p or 4k encode takes many
seconds to minutes on the 2-core machines that run the tests and the demo notebooks, while a
preview-size one takes a fraction of a second. The API emulator reports the nominal width and
height (`nominal_size`) separately, exactly as the real service would, so nothing downstream
depends on the pixel size of the file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from ..._sizes import ASPECT_RATIOS, NOMINAL_SIZES, RESOLUTIONS, nominal_size
from ._audio import kind_of as audio_kind
from ._spec import Picture, RenderInputs, Tile

if TYPE_CHECKING:
    from PIL import Image

    from ._scene import Scene

__all__ = [
    "ASPECT_RATIOS",
    "NOMINAL_SIZES",
    "RESOLUTIONS",
    "Clip",
    "Picture",
    "RenderArgs",
    "RenderInputs",
    "Tile",
    "audio_kind",
    "nominal_size",
    "output_size",
    "render_clip",
    "render_last_frame",
    "render_video",
]


def __getattr__(name: str) -> Any:
    # numpy, Pillow and PyAV load with the first render, not with the emulator.
    if name == "output_size":
        from ._scene import output_size

        return output_size
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Clip:
    video: bytes
    last_frame_png: bytes


class RenderArgs(TypedDict, total=False):
    """What a render takes besides prompt, seed, length and ratio (all optional)."""

    resolution: str  # validated; every resolution renders at preview size
    fps: int
    preview_height: int
    inputs: RenderInputs | None


def _make_scene(**kwargs: Any) -> Scene:
    from ._scene import Scene

    return Scene(**{"resolution": "720p", "fps": 24, "preview_height": 180, **kwargs})


def _encode_scene(scene: Scene, audio_seed: int | None) -> tuple[bytes, Image.Image]:
    from ._encode import encode

    return encode(scene, audio_seed=audio_seed)


def render_clip(*, prompt: str, seed: int, duration_s: float, aspect_ratio: str,
                audio: bool = False, **more: Unpack[RenderArgs]) -> Clip:
    """The MP4 (see `render_video`) and a lossless PNG of its last frame, which is what an
    extension continues from."""
    scene = _make_scene(prompt=prompt, seed=seed, duration_s=duration_s,
                        aspect_ratio=aspect_ratio, **more)
    video, last = _encode_scene(scene, seed if audio else None)
    return Clip(video, _png(last))


def render_video(*, prompt: str, seed: int, duration_s: float, aspect_ratio: str,
                 audio: bool = False, **more: Unpack[RenderArgs]) -> bytes:
    """An H.264 (yuv420p) MP4 of ``round(duration_s * fps)`` frames at 24 fps by default,
    moov atom first, with an AAC track when ``audio``."""
    scene = _make_scene(prompt=prompt, seed=seed, duration_s=duration_s,
                        aspect_ratio=aspect_ratio, **more)
    return _encode_scene(scene, seed if audio else None)[0]


def render_last_frame(*, prompt: str, seed: int, aspect_ratio: str, duration_s: float = 5,
                      **more: Unpack[RenderArgs]) -> bytes:
    """PNG of the final frame of `render_video` for the same arguments.

    Drawn directly rather than decoded from the MP4, so it is lossless and costs one frame.
    """
    scene = _make_scene(prompt=prompt, seed=seed, duration_s=duration_s,
                        aspect_ratio=aspect_ratio, **more)
    return _png(scene.frame(scene.n_frames - 1))


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
