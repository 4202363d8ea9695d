"""Emulator outputs show their inputs, and input media are held to the documented limits.

Inputs come from a real loopback web server, `data:` URLs and material assets; outputs are
decoded with PyAV and compared with the inputs pixel by pixel (mean colours of regions) and
sample by sample (the AAC track).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest

from seedance_widgets.emulator import DEMO_API_KEY, Emulator, Timings

from .contract import check_response
from .media import (
    BLUE,
    GREEN,
    RED,
    YELLOW,
    MediaServer,
    audio_samples,
    data_url,
    frames,
    media_server,
    mp4,
    png,
    quadrants,
    region_mean,
    wav,
)

CREATE = "/v1/videos/generations"
TIMINGS = Timings(queue_s=0.05, run_s=0.2, asset_ready_s=0.2, material_hold_s=5)
# Inner parts of the four quadrants, clear of the progress bar at the bottom edge.
QUADS = {RED: (0.1, 0.1, 0.4, 0.4), GREEN: (0.6, 0.1, 0.9, 0.4),
         BLUE: (0.1, 0.6, 0.4, 0.85), YELLOW: (0.6, 0.6, 0.9, 0.85)}
TOLERANCE = 24  # per channel, after H.264 at crf 26 and a rescale


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    with media_server(tmp_path_factory.mktemp("public")) as server:
        server.put("quads.png", quadrants())
        server.put("red.png", png(RED))
        server.put("blue.png", png(BLUE))
        server.put("ends-green.mp4", mp4(BLUE, 3, end_color=GREEN))
        yield server


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(timings=TIMINGS) as e:
        yield e


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.base_url, timeout=60,
                      headers={"Authorization": f"Bearer {emu.api_key}"}) as c:
        yield c


def run(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    """Create, wait for completion, return the final task body with the video bytes."""
    body = {"model": "seedance-2.0-fast", "prompt": "show the inputs", "duration": 4,
            "seed": 4, **fields}
    r = client.post(CREATE, json=body)
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    while True:
        task = client.get(f"/v1/tasks/{r.json()['id']}").json()
        if task["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline, task
        time.sleep(0.05)
    assert task["status"] == "completed", task
    task["bytes"] = httpx.get(task["video_url"]).content
    return task


def refused(client: httpx.Client, code: str, **fields: Any) -> dict[str, Any]:
    body = {"model": "seedance-2.0-fast", "prompt": "limits", "duration": 4, **fields}
    r = client.post(CREATE, json=body)
    assert r.status_code == 400, r.text
    check_response(CREATE, "post", 400, r.json())
    assert r.json()["error"]["code"] == code, r.json()
    return r.json()["error"]


def close(actual: np.ndarray, expected: tuple[int, int, int]) -> bool:
    return bool(np.all(np.abs(actual - np.array(expected)) <= TOLERANCE))


def assert_quadrants(frame: np.ndarray) -> None:
    for color, box in QUADS.items():
        mean = region_mean(frame, box)
        assert close(mean, color), f"{box}: {mean.round()} is not {color}"


# ---------------------------------------------------------------------- pictures
@pytest.mark.parametrize("source", ["loopback", "data", "asset"])
def test_image_to_video_starts_on_its_image(client: httpx.Client, media: MediaServer,
                                            source: str) -> None:
    if source == "loopback":
        image = media.url("quads.png")
    elif source == "data":
        image = data_url(quadrants())
    else:
        r = client.post("/v1/videos/assets", json={"asset_url": media.url("quads.png")})
        assert r.status_code == 201, r.text
        image = f"asset://{r.json()['id']}"
    video = frames(run(client, image_url=image)["bytes"])
    assert_quadrants(video[0])
    assert not close(region_mean(video[len(video) // 2], QUADS[RED]), RED) or \
        not close(region_mean(video[len(video) // 2], QUADS[BLUE]), BLUE)  # the scene moves on


def test_start_end_moves_from_start_to_end(client: httpx.Client, media: MediaServer) -> None:
    video = frames(run(client, start_image=media.url("red.png"),
                       end_image=data_url(png(BLUE)))["bytes"])
    whole = (0.05, 0.05, 0.95, 0.9)
    assert close(region_mean(video[0], whole), RED)
    assert close(region_mean(video[-1], whole), BLUE)
    middle = region_mean(video[len(video) // 2], (0.0, 0.0, 1.0, 1.0))
    assert not close(middle, RED) and not close(middle, BLUE)


def _near(frame: np.ndarray, color: tuple[int, int, int]) -> int:
    return int(np.all(np.abs(frame.astype(int) - np.array(color)) <= 30, axis=-1).sum())


def test_reference_tiles_are_visible(client: httpx.Client, media: MediaServer) -> None:
    plain = frames(run(client, prompt="tiles")["bytes"])[0]
    with_refs = frames(run(client, prompt="tiles", operation="reference-to-video",
                           reference_images=[media.url("red.png"), data_url(png(BLUE))],
                           video_urls=[media.url("ends-green.mp4")],
                           audio_urls=[media.put("a.wav", wav(2))])["bytes"])[0]
    area = with_refs.shape[0] * with_refs.shape[1]
    for color in (RED, BLUE):
        # Each tile covers a few percent of the frame in exactly its image's colour.
        assert _near(with_refs, color) - _near(plain, color) > 0.02 * area, color


# ---------------------------------------------------------------------- continuations
def test_extension_begins_with_the_source_last_frame(client: httpx.Client,
                                                     media: MediaServer) -> None:
    source = run(client, image_url=media.url("quads.png"))
    extension = run(client, operation="video-extension", task_id=source["id"], prompt=None)
    last, first = frames(source["bytes"])[-1], frames(extension["bytes"])[0]
    mad = float(np.abs(last.astype(int) - first.astype(int)).mean())
    assert mad < 8, mad


def test_video_to_video_begins_with_the_source_last_frame(client: httpx.Client,
                                                          media: MediaServer) -> None:
    video = frames(run(client, video_url=media.url("ends-green.mp4"))["bytes"])
    assert close(region_mean(video[0], (0.05, 0.05, 0.95, 0.9)), GREEN)
    # An emulator result is fetchable too (loopback): v2v of a v2v continues it.
    again = run(client, video_url=run(client, video_url=media.url("ends-green.mp4"))[
        "video_url"])
    assert frames(again["bytes"])[0].shape == video[0].shape


# ---------------------------------------------------------------------- sound
RATE = 24_000  # the emulator's AAC sample rate


def _dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(np.argmax(spectrum))])


def _halves(samples: np.ndarray) -> tuple[float, float]:
    """Dominant frequency of the two halves of the second second."""
    half = RATE // 2
    return (_dominant_hz(samples[0, RATE:RATE + half]),
            _dominant_hz(samples[0, RATE + half:2 * RATE]))


def test_output_audio_is_an_aac_tone_or_chirp(client: httpx.Client) -> None:
    tone = run(client, prompt="sound", seed=10)  # output_audio defaults to true
    codec, samples = audio_samples(tone["bytes"])
    assert codec == "aac"
    assert samples.shape[1] / RATE == pytest.approx(4, abs=0.1)
    assert float(np.sqrt(np.mean(samples**2))) > 0.1  # not silent
    a, b = _halves(samples)
    assert a == pytest.approx(b, abs=5)  # a steady tone
    _, chirp = audio_samples(run(client, prompt="sound", seed=11)["bytes"])
    c, d = _halves(chirp)
    assert d > c + 50  # rising within each second


def test_output_audio_false_is_silent(client: httpx.Client) -> None:
    with pytest.raises(IndexError):
        audio_samples(run(client, prompt="quiet", output_audio=False)["bytes"])


# ---------------------------------------------------------------------- limits
def test_limits_and_their_codes(client: httpx.Client, media: MediaServer) -> None:
    long_clip, short_clip = media.put("8s.mp4", mp4(RED, 8, size=(64, 36))), media.put(
        "1s.mp4", mp4(RED, 1, size=(64, 36)))
    big = media.put("big.png", b"\x89PNG" + b"\0" * (30 * 1024 * 1024 + 10))
    huge = media.put("huge.mp4", b"\0" * (50 * 1024 * 1024 + 10))
    r2v = {"operation": "reference-to-video"}
    err = refused(client, "reference_video_duration_out_of_range", **r2v,
                  video_urls=[long_clip, long_clip])
    assert err["param"] == "video_urls" and "2-15 s" in err["message"]
    refused(client, "reference_video_duration_out_of_range", **r2v, video_urls=[short_clip])
    refused(client, "reference_too_large", **r2v, video_urls=[huge])
    refused(client, "reference_too_large", **r2v, reference_images=[big])
    err = refused(client, "reference_audio_too_long", **r2v,
                  reference_images=[media.url("red.png")],
                  audio_urls=[media.put("16s.wav", wav(16))])
    assert err["param"] == "audio_urls"
    refused(client, "seedance_material_source_invalid", **r2v,
            reference_images=[media.url("red.png")], audio_urls=[media.url("ends-green.mp4")])
    refused(client, "seedance_material_source_invalid", image_url=media.url("missing.png"))
    refused(client, "too_many_references", **r2v, reference_images=[media.url("red.png")] * 10)
    refused(client, "too_many_files", **r2v, reference_images=[media.url("red.png")] * 9,
            video_urls=[short_clip] * 3, audio_urls=[media.url("16s.wav")])
    # Whatever the emulator fetched, it fetched without the API key.
    assert media.hits
    for hit in media.hits:
        assert "authorization" not in hit.headers
        assert DEMO_API_KEY not in " ".join(hit.headers.values())


def test_hosts_beyond_loopback_are_not_fetched(client: httpx.Client) -> None:
    # No traffic leaves the machine: the reference is drawn as "not fetched" and the run works.
    task = run(client, operation="reference-to-video",
               reference_images=["https://example.com/refs/product-front.png"])
    assert frames(task["bytes"])


def test_the_render_cache_tells_inputs_apart(client: httpx.Client) -> None:
    same = {"prompt": "cache", "seed": 99}
    red = frames(run(client, image_url=data_url(png(RED)), **same)["bytes"])[0]
    blue = frames(run(client, image_url=data_url(png(BLUE)), **same)["bytes"])[0]
    assert close(region_mean(red, (0.2, 0.2, 0.8, 0.8)), RED)
    assert close(region_mean(blue, (0.2, 0.2, 0.8, 0.8)), BLUE)
