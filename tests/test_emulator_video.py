"""The emulator's videos are real H.264 MP4s, decoded here with PyAV exactly as a player would."""

from __future__ import annotations

import functools
import io
import struct

import av
import numpy as np
import pytest
from PIL import Image

from seedance_widgets.emulator._render import (
    NOMINAL_SIZES,
    nominal_size,
    output_size,
    render_last_frame,
    render_video,
)

PROMPT = "a red fox running through fresh snow at golden hour, cinematic"
RATIOS = {
    "adaptive": 16 / 9,
    "16:9": 16 / 9,
    "9:16": 9 / 16,
    "1:1": 1.0,
    "4:3": 4 / 3,
    "3:4": 3 / 4,
    "21:9": 21 / 9,
}


@functools.cache
def _video(
    prompt: str = PROMPT, seed: int = 42, duration_s: float = 1, aspect_ratio: str = "16:9"
) -> bytes:
    # Cached: several tests look at the same few videos and encoding is the slow part.
    return render_video(prompt=prompt, seed=seed, duration_s=duration_s, aspect_ratio=aspect_ratio)


def _probe(data: bytes) -> dict:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        return {
            "codec": stream.codec_context.name,
            "pix_fmt": stream.codec_context.pix_fmt,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "duration": container.duration / av.time_base,
            "audio": len(container.streams.audio),
            "frames": frames,
        }


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("duration_s", [4, 15])
def test_h264_yuv420p_frame_count_and_duration(duration_s: int) -> None:
    info = _probe(_video(duration_s=duration_s))
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert info["audio"] == 0
    assert abs(len(info["frames"]) - duration_s * 24) <= 1
    assert info["duration"] == pytest.approx(duration_s, abs=0.1)


@pytest.mark.parametrize("aspect_ratio", list(RATIOS))
def test_aspect_ratio_and_preview_size(aspect_ratio: str) -> None:
    info = _probe(_video(aspect_ratio=aspect_ratio))
    assert (info["width"], info["height"]) == output_size("720p", aspect_ratio)
    assert info["width"] % 2 == 0 and info["height"] % 2 == 0
    assert min(info["width"], info["height"]) == 180
    ratio = info["width"] / info["height"]
    assert ratio == pytest.approx(RATIOS[aspect_ratio], rel=0.02)


def test_moov_atom_comes_first_for_streaming_playback() -> None:
    data = _video()
    boxes, pos = [], 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        boxes.append(kind)
        pos += size
    assert boxes.index(b"moov") < boxes.index(b"mdat")


def test_different_prompts_look_different() -> None:
    a = _probe(_video(prompt=PROMPT))["frames"][0]
    b = _probe(_video(prompt="a city skyline at night in the rain"))["frames"][0]
    assert _mad(a, b) > 10


def test_different_seeds_look_different() -> None:
    a = _probe(_video(seed=1))["frames"][0]
    b = _probe(_video(seed=2))["frames"][0]
    assert _mad(a, b) > 10


def test_same_inputs_look_the_same() -> None:
    first = _probe(_video(seed=5))["frames"][0]
    again = _probe(render_video(prompt=PROMPT, seed=5, duration_s=1, aspect_ratio="16:9"))
    assert _mad(first, again["frames"][0]) < 1


def test_frames_move() -> None:
    frames = _probe(_video())["frames"]
    assert _mad(frames[0], frames[-1]) > 2


@pytest.mark.parametrize("aspect_ratio", ["16:9", "9:16", "21:9"])
def test_last_frame_png_matches_the_video(aspect_ratio: str) -> None:
    png = render_last_frame(prompt=PROMPT, seed=42, aspect_ratio=aspect_ratio, duration_s=1)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == output_size("720p", aspect_ratio)
    last = _probe(_video(aspect_ratio=aspect_ratio))["frames"][-1]
    # Lossy H.264 against the lossless PNG: close, not equal.
    assert _mad(np.asarray(image.convert("RGB")), last) < 8


def test_output_size_is_even_and_scales_with_preview_height() -> None:
    assert output_size("1080p", "16:9") == (320, 180)
    assert output_size("480p", "9:16") == (180, 320)
    assert output_size("4k", "adaptive", preview_height=360) == (640, 360)
    assert output_size("720p", "21:9", preview_height=101) == (234, 100)


def test_output_size_rejects_unknown_values() -> None:
    with pytest.raises(ValueError, match=r"aspect_ratio '5:4' is not one of adaptive, 16:9"):
        output_size("720p", "5:4")
    with pytest.raises(ValueError, match=r"resolution '8k' is not one of 480p, 720p"):
        output_size("8k", "16:9")


@pytest.mark.parametrize(
    ("resolution", "aspect_ratio", "expected"),
    [
        ("480p", "16:9", (864, 496)),
        ("480p", "21:9", (992, 432)),
        ("720p", "16:9", (1280, 720)),
        ("720p", "3:4", (834, 1112)),
        ("1080p", "9:16", (1080, 1920)),
        ("1080p", "adaptive", (1920, 1080)),
        ("4k", "4:3", (3328, 2496)),
        ("4k", "21:9", (4412, 1892)),
    ],
)
def test_nominal_size(resolution: str, aspect_ratio: str, expected: tuple[int, int]) -> None:
    assert nominal_size(resolution, aspect_ratio) == expected
    assert NOMINAL_SIZES[resolution][aspect_ratio if aspect_ratio != "adaptive" else "16:9"] == (
        expected
    )


def test_nominal_size_errors_name_argument_and_allowed_values() -> None:
    with pytest.raises(ValueError) as excinfo:
        nominal_size("2k", "16:9")
    message = str(excinfo.value)
    assert "resolution" in message and "'2k'" in message
    assert all(r in message for r in ("480p", "720p", "1080p", "4k"))
    with pytest.raises(ValueError) as excinfo:
        nominal_size("720p", "2:1")
    message = str(excinfo.value)
    assert "aspect_ratio" in message and "'2:1'" in message
    assert all(r in message for r in RATIOS)
