"""Nominal output pixel sizes of Seedance 2.0 by resolution and aspect ratio.

Pricing multiplies these, so they live in one table. 480p-1080p follow the public Seedance 2.0
documentation (e.g. "640x640, 480p" and "834x1112, 720p" as the reference-video pixel bounds).
The 4k row is not published per ratio; it is the 1080p row scaled by 2, which the estimate labels.
`adaptive` lets the model pick a ratio, so estimates assume the landscape default, 16:9.
"""

from __future__ import annotations

RESOLUTIONS: tuple[str, ...] = ("480p", "720p", "1080p", "4k")
ASPECT_RATIOS: tuple[str, ...] = ("adaptive", "16:9", "9:16", "1:1", "4:3", "3:4", "21:9")

NOMINAL_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {
        "16:9": (864, 496), "4:3": (752, 560), "1:1": (640, 640),
        "3:4": (560, 752), "9:16": (496, 864), "21:9": (992, 432),
    },
    "720p": {
        "16:9": (1280, 720), "4:3": (1112, 834), "1:1": (960, 960),
        "3:4": (834, 1112), "9:16": (720, 1280), "21:9": (1470, 630),
    },
    "1080p": {
        "16:9": (1920, 1080), "4:3": (1664, 1248), "1:1": (1440, 1440),
        "3:4": (1248, 1664), "9:16": (1080, 1920), "21:9": (2206, 946),
    },
    "4k": {
        "16:9": (3840, 2160), "4:3": (3328, 2496), "1:1": (2880, 2880),
        "3:4": (2496, 3328), "9:16": (2160, 3840), "21:9": (4412, 1892),
    },
}

ADAPTIVE_ASSUMED = "16:9"


def nominal_size(resolution: str, aspect_ratio: str) -> tuple[int, int]:
    """(width, height) the service reports for a resolution and ratio."""
    if resolution not in NOMINAL_SIZES:
        raise ValueError(f"resolution {resolution!r} is not one of {', '.join(RESOLUTIONS)}")
    ratio = ADAPTIVE_ASSUMED if aspect_ratio == "adaptive" else aspect_ratio
    if ratio not in NOMINAL_SIZES[resolution]:
        raise ValueError(
            f"aspect_ratio {aspect_ratio!r} is not one of {', '.join(ASPECT_RATIOS)}"
        )
    return NOMINAL_SIZES[resolution][ratio]
