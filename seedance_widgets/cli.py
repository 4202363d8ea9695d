"""`seedance-widgets`: the command line of seedance_widgets.

Whatever it is given, it answers in plain lines: a refused argument or request is one line per
problem (naming the field once), a failure is one `error:` line, and no traceback reaches the
user (`-v` shows the library's log, including the traceback of an unexpected failure).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from pydantic import ValidationError

from . import _cli_tasks
from ._catalog import OPERATIONS, default_catalog
from ._cli_media import LocalInputs, add_media_arguments
from ._demo import DEMO_NOTICE, connect, unused_base_url
from ._errors import SeedanceError, TaskTimeoutError, UsageError
from ._inputs import money
from ._pricing import estimate_price
from ._request import VideoRequest, error_lines
from ._sizes import ASPECT_RATIOS, RESOLUTIONS
from ._task import Task
from .history import History

CONFIRM_ABOVE_USD = 0.50
log = logging.getLogger("seedance_widgets")


# ---------------------------------------------------------------------------- argument types
def _money_arg(name: str) -> Any:
    def parse(text: str) -> float:
        try:
            return money(text, name)
        except UsageError as exc:  # argparse names the option itself
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{name} ")) from None
    return parse


def _seconds_arg(low: float, high: float = math.inf, *, zero: bool = False) -> Any:
    """An argparse type for a finite number of seconds in [low, high] (low itself only with
    `zero`): NaN and infinity never pass, so no wait can be endless or switched off."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value > low or (zero and value == low))
                and value <= high):
            span = f"{'from' if zero else 'above'} {low:g}" + (
                f" to {high:g}" if math.isfinite(high) else "")
            raise argparse.ArgumentTypeError(f"must be a number of seconds {span}, "
                                             f"not {text!r}")
        return value
    return parse


def _port_arg(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use 1-65535 (0 picks a free "
                                         "one)")
    return int(text)


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
    p.add_argument("--image", help="first-frame image URL or file (image-to-video)")
    p.add_argument("--start-image", help="first frame (start-end-to-video)")
    p.add_argument("--end-image", help="last frame (start-end-to-video)")
    p.add_argument("--reference", action="append", default=[], metavar="URL|PATH",
                   help="reference image URL, or a local image/video/audio file "
                        "(reference-to-video); repeatable")
    p.add_argument("--reference-video", action="append", default=[], metavar="URL|PATH")
    p.add_argument("--reference-audio", action="append", default=[], metavar="URL|PATH")
    p.add_argument("--video", help="input video URL or file (video-to-video)")
    p.add_argument("--task-id", help="earlier task to extend (video-extension)")
    p.add_argument("--last-frame", action="store_true", help="also return the last frame")
    add_media_arguments(p)


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
    """'invalid request:' and one indented line per problem, each naming its field once."""
    return "invalid request:\n" + "\n".join(f"  {line}" for line in error_lines(err))


def cmd_estimate(a: argparse.Namespace) -> int:
    req = request_from_args(LocalInputs(a, uploading=False).placeholders())
    est = estimate_price(req)
    print(f"{req.model} {req.operation}: {est.label()}")
    for note in est.assumptions:
        print(f"  - {note}")
    return 0


class ProgressBar:
    """One status line on a terminal (redrawn in place), or a line per change in a log."""

    def __init__(self, out: TextIO = sys.stderr, width: int = 24) -> None:
        self.out, self.width = out, width
        self.tty = out.isatty()
        self.start = time.monotonic()
        self._last = ""
        self._printed: tuple[str, int] | None = None  # (status, tens of percent) in a log

    def __call__(self, task: Task) -> None:
        pct = 100 if task.succeeded else (task.progress or 0)
        filled = int(self.width * pct / 100)
        bar = "#" * filled + "." * (self.width - filled)
        eta = f" · ETA {task.eta_seconds:.0f}s" if task.eta_seconds and not task.is_terminal \
            else ""
        line = (f"[{bar}] {pct:3d}% {task.status:<10} {time.monotonic() - self.start:5.1f}s"
                f"{eta}")
        if self.tty:
            self.out.write("\r" + line.ljust(len(self._last)))
            if task.is_terminal:
                self.out.write("\n")
        elif (task.status, pct // 10) != self._printed:
            self._printed = (task.status, pct // 10)
            self.out.write(line + "\n")
        self.out.flush()
        self._last = line


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        return False
    try:
        return input(question + " [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


async def _generate(a: argparse.Namespace) -> int:
    local = LocalInputs(a)  # local files are uploaded only once the price is accepted
    req = request_from_args(local.placeholders())
    history = History()
    if not history.available:
        print(history.problem, file=sys.stderr)  # said once, here; the run goes on unrecorded
    async with connect(history=history if history.available else False,
                       media_host=local.host) as client:
        est = estimate_price(req, catalog=client.catalog)
        print(f"{req.model} {req.operation}: {est.label()}")
        for note in est.assumptions:
            print(f"  - {note}")
        if client.demo:
            print(DEMO_NOTICE + ": no charge")
            if unused_base_url():
                print(unused_base_url())
        elif not a.yes and (est.usd is None or est.usd > a.confirm_above):
            why = ("its price is not known offline" if est.usd is None else
                   f"its estimate is above ${a.confirm_above:.2f} (--confirm-above)")
            if not _confirm(f"This run is not free and {why}. Submit and pay?"):
                print(f"not submitted: {why}; pass --yes to submit without asking",
                      file=sys.stderr)
                return 3
        if local.files:
            req = request_from_args(await local.publish(client))
        task = await client.create(req)
        print(f"task {task.id} created")
        try:
            task = await client.wait(task, timeout=a.timeout, on_update=ProgressBar())
        except TaskTimeoutError:
            print(f"still running after {a.timeout:g}s; finish it later with "
                  f"`seedance-widgets resume {task.id}`", file=sys.stderr)
            return 4
        except (KeyboardInterrupt, asyncio.CancelledError):
            print(f"\nstopped watching; task {task.id} keeps running: "
                  f"`seedance-widgets resume {task.id}`", file=sys.stderr)
            return 130
        if task.cost_usd is not None and not client.demo:
            bill = f" (billing transaction {task.billing_transaction_id})" \
                if task.billing_transaction_id else ""
            print(f"reported cost: ${task.cost_usd:.4f}{bill}")
        try:
            path = await client.download(task, a.out)
        except SeedanceError as exc:
            print(f"error: task {task.id} finished, but its video was not saved: {exc}\n"
                  f"  it is kept for about 24 h: `seedance-widgets resume {task.id} --out PATH`",
                  file=sys.stderr)
            return 1
        print(f"saved {path}")
        return 0


def _check_out(out: str) -> None:
    """Refuse an --out the video could not be written to, before anything is paid for."""
    path = Path(out).expanduser()
    folder = path if path.is_dir() or out.endswith(("/", os.sep)) else path.parent
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the nearest folder that exists must let us create the rest
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out!r}: cannot write into {probe} (not a writable folder)")


def cmd_generate(a: argparse.Namespace) -> int:
    _check_out(a.out)
    return asyncio.run(_generate(a))


async def _resume(a: argparse.Namespace) -> int:
    history = History()
    if not history.readable:
        print(history.problem, file=sys.stderr)
        return 1
    entry = history.get(a.task_id)
    if entry is None:
        print(f"task {a.task_id} is not in the history ({history.path})", file=sys.stderr)
        return 2
    async with connect() as client:
        if entry.server != client.server_label:
            print(f"task {a.task_id} was created on {entry.server}, but this session talks to "
                  f"{client.server_label}; set TOKENLAB_API_KEY/TOKENLAB_BASE_URL to match",
                  file=sys.stderr)
            return 2
        # None when today's rules refuse what was sent then: the task is still followed.
        req = VideoRequest.from_stored(history.full_request(entry.id))
        task = await client.wait(Task(id=entry.id, request=req), timeout=a.timeout,
                                 on_update=ProgressBar())
        path = await client.download(task, a.out)
        print(f"saved {path}")
        return 0


def cmd_resume(a: argparse.Namespace) -> int:
    return asyncio.run(_resume(a))


def cmd_emulator(a: argparse.Namespace) -> int:
    from .emulator import DEMO_API_KEY, Faults, Timings, serve

    keys = a.api_key or [DEMO_API_KEY]
    try:
        timings = Timings(queue_s=a.queue_s, run_s=a.run_s, asset_ready_s=a.asset_ready_s)
        faults = Faults.from_env()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        serve(a.port, keys, host=a.host, faults=faults, fetch_remote=a.fetch_remote,
              timings=timings)
    except OSError as exc:
        where = f"{a.host}:{a.port}"
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {a.port} is already in use on {a.host}; stop what uses it "
                             "or choose another with --port") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise UsageError(f"not allowed to listen on {where} (ports below 1024 need "
                             "privileges); choose another with --port") from None
        raise UsageError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistyped option is one line: the usage block buried the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="seedance-widgets",
        description="Drive TokenLab's Seedance 2.0 video models; offline on a built-in emulator "
                    "when TOKENLAB_API_KEY is not set.",
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the library's log (retries, warnings) on stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("estimate", help="validate a request and print its price estimate")
    add_request_arguments(p)
    p.set_defaults(func=cmd_estimate)

    p = sub.add_parser("generate", help="make a video: price, confirm, progress, save")
    add_request_arguments(p)
    p.add_argument("--out", default=".", help="file or folder for the video (default: .)")
    p.add_argument("--yes", action="store_true", help="do not ask before paying")
    p.add_argument("--confirm-above", type=_money_arg("--confirm-above"),
                   default=CONFIRM_ABOVE_USD, metavar="USD",
                   help="ask before submitting runs estimated above this (default %(default)s)")
    p.add_argument("--timeout", type=_seconds_arg(0), default=3600,
                   help="seconds to wait (default 3600)")
    p.set_defaults(func=cmd_generate)

    _cli_tasks.add_parser(sub)

    p = sub.add_parser("resume", help="finish a task of the history and save its video")
    p.add_argument("task_id")
    p.add_argument("--out", default=".", help="file or folder for the video (default: .)")
    p.add_argument("--timeout", type=_seconds_arg(0), default=3600)
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("emulator", help="serve the built-in TokenLab emulator on loopback")
    p.add_argument("--port", type=_port_arg, default=8787)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--api-key", action="append", metavar="KEY",
                   help="accept this key (repeatable; default: the printed demo key)")
    pause = _seconds_arg(0, 86400, zero=True)
    p.add_argument("--queue-s", type=pause, default=2.0, help="seconds a task stays pending")
    p.add_argument("--run-s", type=pause, default=8.0, help="seconds a task processes")
    p.add_argument("--asset-ready-s", type=pause, default=1.0,
                   help="seconds a material asset stays PROCESSING")
    p.add_argument("--fetch-remote", action="store_true",
                   help="also fetch generation input media from hosts other than loopback")
    p.set_defaults(func=cmd_emulator)
    return parser


@contextlib.contextmanager
def _cli_output(verbose: bool) -> Iterator[None]:
    """Output for a person, for the length of one command (main() may run in a host process,
    such as a test, whose logging must be left as it was)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            # Text a terminal cannot encode is shown escaped rather than crashing the CLI.
            reconfigure(errors="backslashreplace")
    saved = (log.level, log.propagate)
    if verbose:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.setLevel(logging.DEBUG)
    else:
        # The CLI prints each failure itself, once; the library's warnings would repeat it.
        handler = logging.NullHandler()
        log.propagate = False
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(saved[0])
        log.propagate = saved[1]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with _cli_output(args.verbose):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args) or 0)
    except ValidationError as err:
        print(format_validation_error(err), file=sys.stderr)
        return 2
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SeedanceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the last guard: a person gets a line, not a traceback
        log.debug("unexpected failure", exc_info=True)
        print(f"error: unexpected {type(err).__name__}: {err} (run with -v for details, and "
              "please report it)", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
