"""Offline price estimates for Seedance 2.0 requests.

Formula (from the contract's facts sheet, token based):

    tokens = (input video seconds + output seconds) x width x height x 24 / 1024
    usd    = tokens / 1e6 x (CNY per million tokens / 6.8)

with the official CNY prices per million tokens:

    model               without video input   with video input
    seedance-2.0                 46                   28
    seedance-2.0-fast            37                   22
    seedance-2.0-mini        not published        not published

and the output pixel sizes of `_sizes.NOMINAL_SIZES`:

    ratio    480p       720p        1080p        4k (1080p x 2, not published)
    16:9     864x496    1280x720    1920x1080    3840x2160
    4:3      752x560    1112x834    1664x1248    3328x2496
    1:1      640x640    960x960     1440x1440    2880x2880
    3:4      560x752    834x1112    1248x1664    2496x3328
    9:16     496x864    720x1280    1080x1920    2160x3840
    21:9     992x432    1470x630    2206x946     4412x1892

Conventions, each reported in `PriceEstimate.assumptions` when it applies:
- `adaptive` ratio is priced as 16:9; an omitted resolution as 720p (the Seedance default).
- An omitted duration is priced at 5 s (the common Seedance default); `-1` at the 15 s maximum.
- Input videos whose length is unknown offline count at the 15 s reference maximum;
  pass `input_video_seconds=` when you know it. Video input switches to the with-video price.
- The service's minimum charge for short video-input jobs is not modelled.
- One observed 720p 4 s text-to-video task used 87,300 tokens where the formula gives 86,400
  (one extra frame), so real figures can sit about 1 % above the estimate.
The live price is `GET /v1/models/{model}/pricing`; this is an estimate and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._catalog import Catalog, default_catalog
from ._request import VideoRequest
from ._sizes import ADAPTIVE_ASSUMED, nominal_size

FPS_TOKENS = 24
DEFAULT_DURATION = 5
MAX_DURATION = 15
DEFAULT_RESOLUTION = "720p"
UNKNOWN_INPUT_VIDEO_SECONDS = 15.0


@dataclass(frozen=True)
class PriceEstimate:
    model: str
    tokens: int
    usd: float | None
    usd_per_million_tokens: float | None
    with_video_input: bool
    output_seconds: int
    input_video_seconds: float
    width: int
    height: int
    assumptions: tuple[str, ...] = field(default=())
    is_estimate: bool = True

    @property
    def known(self) -> bool:
        return self.usd is not None

    def label(self) -> str:
        if self.usd is None:
            return f"price unknown offline ({self.tokens:,} tokens est.)"
        return f"≈ ${self.usd:.2f} estimate ({self.tokens:,} tokens)"

    def __str__(self) -> str:
        return self.label()


def estimate_price(
    request: VideoRequest,
    *,
    input_video_seconds: float | None = None,
    catalog: Catalog | None = None,
) -> PriceEstimate:
    """Estimate tokens and USD for `request`. The result is labelled as an estimate."""
    spec = (catalog or default_catalog()).get(request.model)
    notes: list[str] = []
    resolution = request.resolution or DEFAULT_RESOLUTION
    if request.resolution is None:
        notes.append(f"resolution omitted: priced at the default {DEFAULT_RESOLUTION}")
    ratio = request.aspect_ratio or "adaptive"
    if ratio == "adaptive":
        notes.append(f"adaptive ratio priced as {ADAPTIVE_ASSUMED}")
    if resolution == "4k":
        notes.append("4k pixel sizes are not published: priced at 2x the 1080p sizes")
    width, height = nominal_size(resolution, ratio)
    if request.duration is None:
        seconds = DEFAULT_DURATION
        notes.append(f"duration omitted: priced at {DEFAULT_DURATION} s")
    elif request.duration == -1:
        seconds = MAX_DURATION
        notes.append(f"duration -1 (model chooses): priced at the {MAX_DURATION} s maximum")
    else:
        seconds = request.duration
    with_video = request.has_video_input
    video_in = 0.0
    if with_video:
        if input_video_seconds is None:
            video_in = UNKNOWN_INPUT_VIDEO_SECONDS
            notes.append(f"input video length unknown: counted at {video_in:g} s")
        else:
            video_in = float(input_video_seconds)
        notes.append("minimum charge for video input not modelled")
    tokens = round((video_in + seconds) * width * height * FPS_TOKENS / 1024)
    rate = spec.usd_per_million(with_video=with_video) if spec else None
    if rate is None:
        notes.append(f"price unknown offline: {request.model} has no published price; "
                     "ask client.pricing(model) for the live figure")
        usd = None
    else:
        usd = tokens / 1_000_000 * rate
    return PriceEstimate(
        model=request.model, tokens=tokens, usd=usd, usd_per_million_tokens=rate,
        with_video_input=with_video, output_seconds=seconds, input_video_seconds=video_in,
        width=width, height=height, assumptions=tuple(notes),
    )
