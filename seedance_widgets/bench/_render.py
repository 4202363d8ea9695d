"""How long the emulator takes to render a 5 s demo video, by what the request asks for.

The baseline, measured in the same run, is the silent text-to-video render: what every demo
render cost before outputs showed their inputs and carried sound. Each figure is the median
of `reps` renders in this process (one warm-up first: fonts, codecs).
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from typing import Any

from ..emulator._render import Picture, RenderInputs, Tile, render_clip

DURATION_S = 5


def _image(color: tuple[int, int, int], size: tuple[int, int] = (1280, 720)) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, color)
    ImageDraw.Draw(img).ellipse((size[0] // 4, size[1] // 4, size[0] * 3 // 4,
                                 size[1] * 3 // 4), fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _cases() -> dict[str, tuple[RenderInputs | None, bool]]:
    red, blue = Picture(_image((200, 40, 40)), "red"), Picture(_image((40, 40, 200)), "blue")
    images = [Tile("image", f"image {i + 1}", pic) for i, pic in enumerate((red, blue) * 2)]
    tiles = (*images, Tile("audio", "audio 1", None, "3.0 s", tuple(i / 24 for i in range(24))))
    return {
        "text_silent_baseline": (None, False),
        "text_audio": (None, True),
        "image_to_video_audio": (RenderInputs(start=red), True),
        "start_end_audio": (RenderInputs(start=red, end=blue), True),
        "reference_tiles_audio": (RenderInputs(tiles=tiles), True),
    }


def _median_ms(fn: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 1)


def render_times(reps: int = 5) -> dict[str, Any]:
    """{"render_ms": {case: median ms}, "render_ratio": slowest case / baseline}."""
    out: dict[str, float] = {}
    for name, (inputs, audio) in _cases().items():
        def one(inputs: RenderInputs | None = inputs, audio: bool = audio) -> None:
            # A new seed each time: the emulator's render cache must not answer.
            one.seed += 1  # type: ignore[attr-defined]
            render_clip(prompt="a red fox in fresh snow", seed=one.seed,  # type: ignore[attr-defined]
                        duration_s=DURATION_S, aspect_ratio="16:9", resolution="720p",
                        inputs=inputs, audio=audio)

        one.seed = 0  # type: ignore[attr-defined]
        one()  # warm-up
        out[name] = _median_ms(one, reps)
    slowest = max(v for k, v in out.items() if k != "text_silent_baseline")
    return {"render_ms": out,
            "render_ratio": round(slowest / out["text_silent_baseline"], 2)}
