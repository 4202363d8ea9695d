"""How long the emulator takes to render a 5 s demo video, by what the request asks for.

The baseline, measured in the same run, is the silent text-to-video render: what every demo
render cost before outputs showed their inputs and carried sound. Each figure is the median
of `reps` renders in this process, after one warm-up round (fonts, codecs).
"""

from __future__ import annotations

import io
import statistics
import time
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


def render_times(reps: int = 5) -> dict[str, Any]:
    """{"render_ms": {case: median ms}, "render_ratio": slowest case / baseline}.

    The cases take turns within each repetition, so load from other processes on a shared
    machine falls on all of them alike."""
    cases = _cases()
    times: dict[str, list[float]] = {name: [] for name in cases}
    seed = 0
    for rep in range(reps + 1):  # the first round warms up fonts and codecs
        for name, (inputs, audio) in cases.items():
            seed += 1  # a new seed every time: the emulator's render cache must not answer
            began = time.perf_counter()
            render_clip(prompt="a red fox in fresh snow", seed=seed, duration_s=DURATION_S,
                        aspect_ratio="16:9", resolution="720p", inputs=inputs, audio=audio)
            if rep:
                times[name].append((time.perf_counter() - began) * 1000)
    out = {name: round(statistics.median(ms), 1) for name, ms in times.items()}
    slowest = max(v for k, v in out.items() if k != "text_silent_baseline")
    return {"render_ms": out,
            "render_ratio": round(slowest / out["text_silent_baseline"], 2)}
