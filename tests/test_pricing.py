"""estimate_price against figures computed by hand from the facts sheet.

tokens = (input video s + output s) x width x height x 24 / 1024; USD = tokens/1e6 x CNY/6.8.
"""

from __future__ import annotations

import pytest

from seedance_widgets import VideoRequest, estimate_price

VID = "https://example.com/in.mp4"

CASES = [
    # id, request, input video seconds, tokens, usd
    ("t2v-720p-16:9-5s", dict(model="seedance-2.0", prompt="pq", resolution="720p",
                              aspect_ratio="16:9", duration=5), None, 108_000, 0.108 * 46 / 6.8),
    ("t2v-480p-16:9-4s", dict(model="seedance-2.0", prompt="pq", resolution="480p",
                              aspect_ratio="16:9", duration=4), None, 40_176, 0.040176 * 46 / 6.8),
    ("t2v-1080p-9:16-10s", dict(model="seedance-2.0", prompt="pq", resolution="1080p",
                                aspect_ratio="9:16", duration=10), None, 486_000,
     0.486 * 46 / 6.8),
    ("t2v-4k-1:1-4s", dict(model="seedance-2.0", prompt="pq", resolution="4k", aspect_ratio="1:1",
                           duration=4), None, 777_600, 0.7776 * 46 / 6.8),
    ("fast-720p-1:1-auto", dict(model="seedance-2.0-fast", prompt="pq", resolution="720p",
                                aspect_ratio="1:1", duration=-1), None, 324_000,
     0.324 * 37 / 6.8),
    ("v2v-720p-3s-in-5s-out", dict(model="seedance-2.0", operation="video-to-video", prompt="pq",
                                   video_url=VID, resolution="720p", aspect_ratio="16:9",
                                   duration=5), 3, 172_800, 0.1728 * 28 / 6.8),
    ("fast-r2v-480p-21:9-unknown-input", dict(model="seedance-2.0-fast",
                                              operation="reference-to-video", prompt="pq",
                                              video_urls=[VID], resolution="480p",
                                              aspect_ratio="21:9", duration=4),
     None, 190_836, 0.190836 * 22 / 6.8),
    ("extension-720p-adaptive", dict(model="seedance-2.0", operation="video-extension",
                                     task_id="t1", resolution="720p", duration=4), 5,
     194_400, 0.1944 * 28 / 6.8),
]


@pytest.mark.parametrize(("data", "video_in", "tokens", "usd"),
                         [pytest.param(d, v, t, u, id=i) for i, d, v, t, u in CASES])
def test_estimates_match_hand_computed(data: dict, video_in: float | None, tokens: int,
                                       usd: float) -> None:
    est = estimate_price(VideoRequest(**data), input_video_seconds=video_in)
    assert est.tokens == tokens
    assert est.usd == pytest.approx(usd, rel=1e-9)
    assert est.is_estimate and "estimate" in est.label()


def test_video_input_switches_price_and_counts_seconds() -> None:
    t2v = estimate_price(VideoRequest(model="seedance-2.0", prompt="pq", duration=5))
    v2v = estimate_price(VideoRequest(model="seedance-2.0", prompt="pq", duration=5, video_url=VID))
    assert not t2v.with_video_input and v2v.with_video_input
    assert v2v.usd_per_million_tokens == pytest.approx(28 / 6.8)
    assert t2v.usd_per_million_tokens == pytest.approx(46 / 6.8)
    assert v2v.input_video_seconds == 15 and any("unknown" in a for a in v2v.assumptions)


def test_defaults_are_labelled() -> None:
    est = estimate_price(VideoRequest(model="seedance-2.0", prompt="pq"))
    assert (est.width, est.height, est.output_seconds) == (1280, 720, 5)
    text = " ".join(est.assumptions)
    assert "720p" in text and "5 s" in text and "16:9" in text


def test_auto_duration_is_priced_at_the_maximum() -> None:
    est = estimate_price(VideoRequest(model="seedance-2.0", prompt="pq", duration=-1))
    assert est.output_seconds == 15 and any("-1" in a for a in est.assumptions)


def test_mini_price_is_unknown_offline() -> None:
    est = estimate_price(VideoRequest(model="seedance-2.0-mini", prompt="pq", duration=4))
    assert est.usd is None and not est.known
    assert est.tokens == 86_400
    assert "unknown offline" in est.label()


def test_observed_720p_4s_is_within_two_percent() -> None:
    est = estimate_price(VideoRequest(model="seedance-2.0", prompt="pq", resolution="720p",
                                      aspect_ratio="16:9", duration=4))
    assert est.tokens == pytest.approx(87_300, rel=0.02)
