"""Shared by every bench section: config, stats helpers and the emulator subprocess."""

from __future__ import annotations

import contextlib
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent
STATIC = Path(__file__).resolve().parent.parent / "static"
KB = 1000  # targets are in decimal kilobytes, the stricter reading


@dataclass(frozen=True)
class Config:
    lag_counts: tuple[int, ...] = (50, 200, 500)
    blocking_counts: tuple[int, ...] = (50, 200, 500)
    lag_window_s: float = 5.0
    idle_window_s: float = 2.0
    emu_queue_s: float = 0.5
    emu_run_s: float = 15.0
    timelines: int = 200
    cpu_polls: int = 400
    notebook_tasks: int = 20
    import_reps: int = 9
    history_runs: int = 10_000
    history_reps: int = 15
    history_creates: int = 200
    render_reps: int = 5
    gallery_history_runs: int = 10_000


FULL = Config()
# The loop-lag window stays as long as the full run's: p99 over a shorter window weighs the
# one burst of first polls more, and the figures would not compare.
QUICK = Config(blocking_counts=(50, 200), idle_window_s=1.0, timelines=100, cpu_polls=200,
               notebook_tasks=10, import_reps=7, history_reps=7, history_creates=60,
               render_reps=5, gallery_history_runs=2_000)


def say(*parts: Any) -> None:
    print("[bench]", *parts, file=sys.stderr, flush=True)


# ====================================================================== small pure helpers
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def ratio_of_medians(ours: Sequence[float], theirs: Sequence[float]) -> float:
    return statistics.median(ours) / statistics.median(theirs)


def child_env(**extra: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDANCE_EMU_")}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def emulator_process(queue_s: float, run_s: float) -> Iterator[tuple[str, str]]:
    """`python -m seedance_widgets emulator` in a subprocess; yields (base_url, api_key)."""
    import httpx

    from ..emulator import DEMO_API_KEY

    port = free_port()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "seedance_widgets", "emulator", "--port", str(port),
             "--queue-s", str(queue_s), "--run-s", str(run_s)],
            env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    err.seek(0)
                    raise RuntimeError(f"emulator exited {proc.returncode}: {err.read()[-500:]}")
                with contextlib.suppress(httpx.HTTPError):
                    r = httpx.get(base + "/v1/models", timeout=2,
                                  headers={"Authorization": f"Bearer {DEMO_API_KEY}"})
                    if r.status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("emulator did not start within 60 s")
                time.sleep(0.1)
            yield base, DEMO_API_KEY
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def bench_request() -> Any:
    from .._request import VideoRequest

    # One request for every task: the emulator renders it once and serves the rest from its
    # render cache, so its CPU stays out of the way of what is measured.
    return VideoRequest(model="seedance-2.0-fast", prompt="bench", duration=4, seed=1,
                        resolution="480p", aspect_ratio="16:9")



def guard(result: dict[str, Any], keys: Sequence[str], fn: Callable[[], dict[str, Any]]
           ) -> None:
    try:
        result.update(fn())
    except Exception as exc:
        say(f"could not measure {', '.join(keys)}: {type(exc).__name__}: {exc}")
        for key in keys:
            result.setdefault(key, None)
            result[f"{key}_reason"] = f"{type(exc).__name__}: {exc}"[:500]

