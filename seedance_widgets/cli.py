"""`seedance-widgets`: the command line of seedance_widgets."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from ._catalog import OPERATIONS, default_catalog
from ._pricing import estimate_price
from ._request import VideoRequest
from ._sizes import ASPECT_RATIOS, RESOLUTIONS


def add_request_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--prompt", help="what the video should show")
    p.add_argument("--model", default="seedance-2.0-fast", choices=default_catalog().ids(),
                   help="model id (default: %(default)s)")
    p.add_argument("--operation", choices=OPERATIONS,
                   help="workflow; inferred from the inputs when omitted")
    p.add_argument("--resolution", choices=RESOLUTIONS, help="default 720p")
    p.add_argument("--duration", type=int, help="4-15 seconds, or -1 to let the model choose")
    p.add_argument("--aspect-ratio", choices=ASPECT_RATIOS, help="default adaptive")
    p.add_argument("--seed", type=int)
    p.add_argument("--no-audio", action="store_true", help="ask for a silent video")
    p.add_argument("--image", help="first-frame image URL (image-to-video)")
    p.add_argument("--start-image", help="first frame (start-end-to-video)")
    p.add_argument("--end-image", help="last frame (start-end-to-video)")
    p.add_argument("--reference", action="append", default=[], metavar="URL",
                   help="reference image URL (reference-to-video); repeatable")
    p.add_argument("--reference-video", action="append", default=[], metavar="URL")
    p.add_argument("--reference-audio", action="append", default=[], metavar="URL")
    p.add_argument("--video", help="input video URL (video-to-video)")
    p.add_argument("--task-id", help="earlier task to extend (video-extension)")
    p.add_argument("--last-frame", action="store_true", help="also return the last frame")


def request_from_args(a: argparse.Namespace) -> VideoRequest:
    fields: dict[str, Any] = {
        "model": a.model, "operation": a.operation, "prompt": a.prompt,
        "resolution": a.resolution, "duration": a.duration, "aspect_ratio": a.aspect_ratio,
        "seed": a.seed, "output_audio": False if a.no_audio else None,
        "image_url": a.image, "start_image": a.start_image, "end_image": a.end_image,
        "reference_images": a.reference or None, "video_urls": a.reference_video or None,
        "audio_urls": a.reference_audio or None, "video_url": a.video, "task_id": a.task_id,
        "return_last_frame": True if a.last_frame else None,
    }
    return VideoRequest.model_validate({k: v for k, v in fields.items() if v is not None})


def format_validation_error(err: ValidationError) -> str:
    lines = [f"  {e['loc'][0] if e['loc'] else 'request'}: {e['msg']}" for e in err.errors()]
    return "invalid request:\n" + "\n".join(lines)


def cmd_estimate(a: argparse.Namespace) -> int:
    req = request_from_args(a)
    est = estimate_price(req)
    print(f"{req.model} {req.operation}: {est.label()}")
    for note in est.assumptions:
        print(f"  - {note}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedance-widgets",
        description="Drive TokenLab's Seedance 2.0 video models; offline on a built-in emulator "
                    "when TOKENLAB_API_KEY is not set.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("estimate", help="validate a request and print its price estimate")
    add_request_arguments(p)
    p.set_defaults(func=cmd_estimate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValidationError as err:
        print(format_validation_error(err), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
