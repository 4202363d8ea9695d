"""`python -m seedance_widgets.bench [--quick] [--json]`: what the package costs a notebook.

Measures, all on loopback against the built-in emulator (no account, no network):

- event-loop lag (p99 overshoot of a 5 ms ticker) while 50/200/500 tasks are polled by our
  client, beside an idle loop and a naive blocking loop of sync GETs on the loop thread;
- requests per task and detection latency of `PollSchedule` on 60 s tasks, with and without
  progress, beside fixed 1 s and 5 s polling, replayed in virtual time on the same timelines;
- process CPU per status poll (and a raw httpx GET beside it);
- saved-notebook growth per task for a `Gallery` and for one `TaskWidget` per task (nbclient);
- the size of the front-end bundle, and the import time against our dependencies' own.

The loop-lag and CPU figures talk to an emulator in a subprocess, so its threads never share
our GIL or CPU account. Timing figures are printed, never asserted; each comes with a baseline
measured in the same run. `--json` prints exactly one JSON object on stdout (progress goes to
stderr); a measure that cannot be taken is null with a `<key>_reason` beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import math
import os
import platform
import random
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

from ._schedule import PollSchedule

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
STATIC = Path(__file__).resolve().parent / "static"
KB = 1000  # targets are in decimal kilobytes, the stricter reading

TARGETS: dict[str, dict[str, Any]] = {
    "loop_lag_p99_ms@500": {"max": 10.0, "unit": "ms", "strict": True},
    "requests_per_task@ours_progress": {"max": 15.0, "unit": "req"},
    "detection_latency_p50_s@ours_progress": {"max": 1.0, "unit": "s"},
    "notebook_bytes_per_task@gallery": {"max": 10 * KB, "unit": "B"},
    "notebook_bytes_per_task@widget_per_task": {"max": 10 * KB, "unit": "B"},
    "bundle_bytes": {"max": 40 * KB, "unit": "B"},
    "import_ratio": {"max": 1.3, "unit": "x"},
}


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


FULL = Config()
# The loop-lag window stays as long as the full run's: p99 over a shorter window weighs the
# one burst of first polls more, and the figures would not compare.
QUICK = Config(blocking_counts=(50, 200), idle_window_s=1.0, timelines=100, cpu_polls=200,
               notebook_tasks=10, import_reps=7)


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


def bundle_sizes(static: Path = STATIC) -> dict[str, Any]:
    """Bytes of widget.js + widget.css, or None with the reason."""
    files = [static / "widget.js", static / "widget.css"]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        return {"bundle_bytes": None,
                "bundle_bytes_reason": f"missing {', '.join(missing)} in {static}: "
                                       "run `npm run build` in js/"}
    data = [f.read_bytes() for f in files]
    return {"bundle_bytes": sum(len(d) for d in data),
            "bundle_detail": {f.name: len(d) for f, d in zip(files, data, strict=True)}
            | {"gzip_total": sum(len(gzip.compress(d, 9)) for d in data)}}


# ====================================================================== poll schedules
@dataclass(frozen=True)
class Timeline:
    """One emulated task: pending for `queue_s`, then processing for `run_s`.

    Progress follows the emulator's `Task.phase` model (int percent, capped at 99 while
    processing) on a slightly uneven clock: each `seg_s` stretch runs at its own speed, so the
    progress is linear with small noise and still reaches 100 exactly at the finish.
    """

    queue_s: float
    run_s: float
    cum: tuple[float, ...]  # fraction done at each segment boundary; cum[0]=0, cum[-1]=1
    seg_s: float

    @property
    def finish(self) -> float:
        return self.queue_s + self.run_s

    def done(self, t: float) -> float:
        x = (t - self.queue_s) / self.seg_s
        i = min(int(x), len(self.cum) - 2)
        return self.cum[i] + (self.cum[i + 1] - self.cum[i]) * (x - i)

    def at(self, t: float, with_progress: bool) -> tuple[str, int | None]:
        if t < self.queue_s:
            return "pending", None
        if t < self.finish:
            return "processing", (min(99, int(self.done(t) * 100)) if with_progress else None)
        return "completed", (100 if with_progress else None)


def make_timelines(n: int, seed: int = 1, *, pending: tuple[float, float] = (0.0, 5.0),
                   run: tuple[float, float] = (55.0, 65.0), jitter: float = 0.15
                   ) -> list[Timeline]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        run_s = rng.uniform(*run)
        segments = max(1, round(run_s / 5))
        speeds = [rng.uniform(1 - jitter, 1 + jitter) for _ in range(segments)]
        total, acc, cum = sum(speeds), 0.0, [0.0]
        for s in speeds:
            acc += s / total
            cum.append(acc)
        cum[-1] = 1.0
        out.append(Timeline(rng.uniform(*pending), run_s, tuple(cum), run_s / segments))
    return out


def replay(tl: Timeline, policy: str, with_progress: bool) -> tuple[int, float]:
    """(status requests until the first poll at/after completion, detection latency s).

    `ours` asks `PollSchedule().next_delay(elapsed, status, progress)` after each snapshot,
    exactly as `AsyncSeedanceClient.watch` does, starting from the create answer (pending, no
    progress) at elapsed 0; `fixed_<n>s` polls every n seconds.
    """
    schedule = PollSchedule() if policy == "ours" else None
    fixed = None if schedule else float(policy.removeprefix("fixed_").removesuffix("s"))
    t, status, progress, n = 0.0, "pending", None, 0
    while n < 100_000:
        delay = schedule.next_delay(t, status, progress) if schedule else fixed
        assert delay is not None and delay > 0
        t += delay
        n += 1
        status, progress = tl.at(t, with_progress)
        if status == "completed":
            return n, t - tl.finish
    raise RuntimeError("policy never saw the task finish")


POLICIES = {"ours_progress": ("ours", True), "ours_no_progress": ("ours", False),
            "fixed_1s": ("fixed_1s", True), "fixed_5s": ("fixed_5s", True)}


def compare_schedules(n_timelines: int = 200, seed: int = 1) -> dict[str, Any]:
    """The virtual-time comparison: every policy on the same timelines."""
    timelines = make_timelines(n_timelines, seed)
    req: dict[str, float] = {}
    p50: dict[str, float] = {}
    p95: dict[str, float] = {}
    for name, (policy, with_progress) in POLICIES.items():
        runs = [replay(tl, policy, with_progress) for tl in timelines]
        req[name] = round(statistics.fmean(r for r, _ in runs), 2)
        lat = [x for _, x in runs]
        p50[name] = round(percentile(lat, 50), 3)
        p95[name] = round(percentile(lat, 95), 3)
    return {"requests_per_task": req, "detection_latency_p50_s": p50,
            "detection_latency_p95_s": p95,
            "schedule_detail": {"timelines": n_timelines, "pending_s": [0, 5],
                                "processing_s": [55, 65], "seed": seed}}


# ====================================================================== emulator subprocess
def _env(**extra: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEEDANCE_EMU_")}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def emulator_process(queue_s: float, run_s: float) -> Iterator[tuple[str, str]]:
    """`python -m seedance_widgets emulator` in a subprocess; yields (base_url, api_key)."""
    import httpx

    from .emulator import DEMO_API_KEY

    port = _free_port()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "seedance_widgets", "emulator", "--port", str(port),
             "--queue-s", str(queue_s), "--run-s", str(run_s)],
            env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
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


def _bench_request() -> Any:
    from ._request import VideoRequest

    # One request for every task: the emulator renders it once and serves the rest from its
    # render cache, so its CPU stays out of the way of what is measured.
    return VideoRequest(model="seedance-2.0-fast", prompt="bench", duration=4, seed=1,
                        resolution="480p", aspect_ratio="16:9")


# ====================================================================== loop lag
async def _ticker(window_s: float, period: float = 0.005) -> list[float]:
    """Overshoot (ms) of each `asyncio.sleep(period)` during the window."""
    lags: list[float] = []
    stop = time.perf_counter() + window_s
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        await asyncio.sleep(period)
        lags.append((time.perf_counter() - t0 - period) * 1000)
    return lags


def _lag_summary(lags: list[float], **extra: Any) -> dict[str, Any]:
    return {"p50_ms": round(percentile(lags, 50), 3), "p99_ms": round(percentile(lags, 99), 3),
            "max_ms": round(max(lags), 3), "samples": len(lags), **extra}


async def _create_many(client: Any, n: int) -> list[Any]:
    gate = asyncio.Semaphore(32)
    req = _bench_request()

    async def one() -> Any:
        async with gate:
            return await client.create(req)

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def _ours(client: Any, tasks: list[Any], window_s: float) -> dict[str, Any]:
    counted = [0]

    async def count(_response: Any) -> None:
        counted[0] += 1

    client._http.event_hooks["response"].append(count)
    waits = [asyncio.create_task(client.wait(t)) for t in tasks]
    try:
        lags = await _ticker(window_s)
    finally:
        ended_early = sum(1 for w in waits if w.done())
        for w in waits:
            w.cancel()
        results = await asyncio.gather(*waits, return_exceptions=True)
        client._http.event_hooks["response"].remove(count)
    errors = sum(1 for r in results
                 if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError))
    return _lag_summary(lags, requests=counted[0], ended_early=ended_early, errors=errors)


async def _blocking(base_url: str, key: str, ids: list[str], window_s: float
                    ) -> dict[str, Any]:
    """A naive notebook loop: sync GETs for every task, time.sleep(1), on the loop thread."""
    import httpx

    counted = [0]
    stop = time.perf_counter() + window_s

    with httpx.Client(base_url=base_url, timeout=30,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        def one_round() -> None:  # what `for t in tasks: requests.get(...)` does to a kernel
            for tid in ids:
                http.get(f"/v1/tasks/{tid}").json()
                counted[0] += 1
            time.sleep(1)

        async def naive() -> None:
            while time.perf_counter() < stop:
                one_round()
                # A cell loop would never yield; yielding 5 ms between rounds lets the ticker
                # take one sample per round, so this understates the harm, if anything.
                await asyncio.sleep(0.005)

        runner = asyncio.create_task(naive())
        lags = await _ticker(window_s)
        await runner
    return _lag_summary(lags, requests=counted[0])


async def _loop_lag(cfg: Config, base_url: str, key: str) -> dict[str, Any]:
    from ._client import AsyncSeedanceClient
    from ._journal import Journal

    out: dict[str, Any] = {"loop_lag_p99_ms": {}, "loop_lag_p99_ms_blocking_baseline": {},
                           "loop_lag_detail": {}}
    with tempfile.TemporaryDirectory() as tmp:
        # A real journal (in a scratch folder): its appends are part of what watch costs.
        client = AsyncSeedanceClient(key, base_url, journal=Journal(Path(tmp) / "j.jsonl"))
        async with client:
            idle = _lag_summary(await _ticker(cfg.idle_window_s))
            out["loop_lag_p99_ms_idle"] = idle["p99_ms"]
            out["loop_lag_detail"]["idle"] = idle
            say(f"loop lag idle p99 {idle['p99_ms']:.2f} ms")
            for n in cfg.lag_counts:
                t0 = time.perf_counter()
                tasks = await _create_many(client, n)
                created_s = time.perf_counter() - t0
                ours = await _ours(client, tasks, cfg.lag_window_s)
                ours["create_s"] = round(created_s, 2)
                out["loop_lag_p99_ms"][str(n)] = ours["p99_ms"]
                out["loop_lag_detail"][f"ours_{n}"] = ours
                say(f"loop lag {n} tasks (ours) p99 {ours['p99_ms']:.2f} ms, "
                    f"{ours['requests']} requests")
                if n in cfg.blocking_counts:
                    blk = await _blocking(base_url, key, [t.id for t in tasks], cfg.lag_window_s)
                    out["loop_lag_p99_ms_blocking_baseline"][str(n)] = blk["p99_ms"]
                    out["loop_lag_detail"][f"blocking_{n}"] = blk
                    say(f"loop lag {n} tasks (blocking) p99 {blk['p99_ms']:.0f} ms")
    return out


# ====================================================================== CPU per poll
async def _cpu_per_poll(cfg: Config, base_url: str, key: str) -> dict[str, Any]:
    """CPU per status GET through our client, beside a raw httpx GET of the same URL; the two
    run in alternating blocks so that both see the same noise, and each reports the median
    block."""
    import httpx

    from ._client import AsyncSeedanceClient

    blocks, per_block = 8, max(1, cfg.cpu_polls // 8)
    ours_cpu: list[float] = []
    ours_wall: list[float] = []
    raw_cpu: list[float] = []
    raw_wall: list[float] = []
    async with (AsyncSeedanceClient(key, base_url, journal=False) as client,
                httpx.AsyncClient(base_url=base_url,
                                  headers={"Authorization": f"Bearer {key}"}) as raw):
        task = await client.create(_bench_request())
        url = f"/v1/tasks/{task.id}"

        async def ours_block() -> None:
            nonlocal task
            for _ in range(per_block):
                task = await client.get(task)

        async def raw_block() -> None:
            for _ in range(per_block):
                (await raw.get(url)).json()

        await ours_block()
        await raw_block()  # warm both connections and code paths
        for _ in range(blocks):
            for block, cpu, wall in ((ours_block, ours_cpu, ours_wall),
                                     (raw_block, raw_cpu, raw_wall)):
                c0, w0 = time.process_time(), time.perf_counter()
                await block()
                cpu.append((time.process_time() - c0) / per_block * 1000)
                wall.append((time.perf_counter() - w0) / per_block * 1000)
    med = statistics.median
    return {"cpu_ms_per_poll": round(med(ours_cpu), 3),
            "cpu_detail": {"polls": blocks * per_block, "blocks": blocks,
                           "wall_ms_per_poll": round(med(ours_wall), 3),
                           "raw_httpx_cpu_ms_per_get": round(med(raw_cpu), 3),
                           "raw_httpx_wall_ms_per_get": round(med(raw_wall), 3)}}


# ====================================================================== notebook growth
_NB_SETUP = """\
import asyncio
from seedance_widgets import Gallery, TaskWidget, VideoRequest, connect

def request(i):
    return VideoRequest(model="seedance-2.0-fast", duration=4, seed=i,
                        prompt=f"a paper boat drifting down a rainy street, take {i}")

async def settle(trackers):
    # The widgets' own polls may be a step behind client.wait: let them show the end.
    for _ in range(400):
        if all(t.task.is_terminal and (t.saved_path or not t.save_videos) for t in trackers):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("widgets did not reach the end")
"""

_NB_GALLERY = """\
gallery = Gallery()
client = gallery.client
tasks = []
for i in range({n}):
    tasks.append(await client.create(request(i)))
    gallery.add(tasks[-1])
for t in tasks:
    await client.wait(t)
await settle(gallery.trackers)
gallery
"""

_NB_WIDGETS = """\
from IPython.display import display
client = connect()
widgets = []
for i in range({n}):
    widgets.append(TaskWidget(await client.create(request(i)), client=client))
for w in widgets:
    await client.wait(w.snapshot)
await settle([w.tracker for w in widgets])
for w in widgets:
    display(w)
"""


def _run_notebook(code: str, workdir: Path, name: str) -> tuple[int, dict[str, Any]]:
    import nbclient
    import nbformat

    home = workdir / f"home-{name}"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(_NB_SETUP), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    env = _env(SEEDANCE_WIDGETS_HOME=str(home), TOKENLAB_API_KEY=None, TOKENLAB_BASE_URL=None,
               SEEDANCE_EMU_QUEUE_S="0.1", SEEDANCE_EMU_RUN_S="0.3")
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits os.environ
    try:
        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                store_widget_state=True,
                                resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    path = workdir / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    states = nb.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    esm = [len(str(s.get("state", {}).get("_esm", ""))) for s in states.values()]
    css = [len(str(s.get("state", {}).get("_css", ""))) for s in states.values()]
    return path.stat().st_size, {"widget_models": len(states),
                                 "bundle_copies": sum(1 for e in esm if e),
                                 "bundle_bytes_in_state": sum(esm) + sum(css)}


def _notebook_growth(cfg: Config) -> dict[str, Any]:
    n = cfg.notebook_tasks
    sizes: dict[str, int] = {}
    detail: dict[str, Any] = {"tasks": n}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, code in (("gallery_0", _NB_GALLERY.format(n=0)),
                           (f"gallery_{n}", _NB_GALLERY.format(n=n)),
                           ("widgets_1", _NB_WIDGETS.format(n=1)),
                           (f"widgets_{n}", _NB_WIDGETS.format(n=n))):
            t0 = time.perf_counter()
            sizes[name], detail[name] = _run_notebook(code, work, name)
            say(f"notebook {name}: {sizes[name]} B in {time.perf_counter() - t0:.1f} s")
    detail["sizes"] = sizes
    return {"notebook_bytes_per_task": {
        "gallery": round((sizes[f"gallery_{n}"] - sizes["gallery_0"]) / n),
        "widget_per_task": round((sizes[f"widgets_{n}"] - sizes["widgets_1"]) / (n - 1)),
    }, "notebook_detail": detail | {
        "baseline": "gallery: (size_N - size of a Gallery of 0) / N; widget_per_task: "
                    "(size_N - size of 1 TaskWidget) / (N - 1)"}}


# ====================================================================== import time
def _wall(code: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _import_ratio(cfg: Config) -> dict[str, Any]:
    env = _env(TOKENLAB_API_KEY=None)
    ours_code, deps_code = "import seedance_widgets", "import anywidget, httpx, pydantic"
    _wall(ours_code, env), _wall(deps_code, env)  # warm caches and bytecode
    ours: list[float] = []
    deps: list[float] = []
    for i in range(cfg.import_reps):  # alternate (and swap the order) so both share the noise
        for code, bucket in ((ours_code, ours), (deps_code, deps))[:: 1 if i % 2 else -1]:
            bucket.append(_wall(code, env))
    return {"import_ratio": round(ratio_of_medians(ours, deps), 3),
            "import_ms": {"seedance_widgets": round(statistics.median(ours) * 1000, 1),
                          "anywidget_httpx_pydantic": round(statistics.median(deps) * 1000, 1),
                          "reps": cfg.import_reps}}


# ====================================================================== the run
def _guard(result: dict[str, Any], keys: Sequence[str], fn: Callable[[], dict[str, Any]]
           ) -> None:
    try:
        result.update(fn())
    except Exception as exc:
        say(f"could not measure {', '.join(keys)}: {type(exc).__name__}: {exc}")
        for key in keys:
            result.setdefault(key, None)
            result[f"{key}_reason"] = f"{type(exc).__name__}: {exc}"[:500]


def machine() -> dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "implementation": platform.python_implementation()}


def _lookup(result: dict[str, Any], target: str) -> Any:
    key, _, sub = target.partition("@")
    value = result.get(key)
    return value.get(sub) if sub and isinstance(value, dict) else value


def verdicts(result: dict[str, Any]) -> dict[str, bool | None]:
    out: dict[str, bool | None] = {}
    for name, spec in TARGETS.items():
        value = _lookup(result, name)
        if value is None:
            out[name] = None
        else:
            out[name] = value < spec["max"] if spec.get("strict") else value <= spec["max"]
    return out


def run(cfg: Config, *, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    result: dict[str, Any] = {"quick": quick, "machine": machine(),
                              "targets": {k: {kk: vv for kk, vv in v.items() if kk != "strict"}
                                          | {"compare": "<" if v.get("strict") else "<="}
                                          for k, v in TARGETS.items()}}
    say("schedules in virtual time")
    _guard(result, ("requests_per_task", "detection_latency_p50_s", "detection_latency_p95_s"),
           lambda: compare_schedules(cfg.timelines))
    _guard(result, ("bundle_bytes",), bundle_sizes)

    def live() -> dict[str, Any]:
        out: dict[str, Any] = {}
        with emulator_process(cfg.emu_queue_s, cfg.emu_run_s) as (base_url, key):
            say(f"emulator subprocess at {base_url}")
            _guard(out, ("loop_lag_p99_ms", "loop_lag_p99_ms_blocking_baseline"),
                   lambda: asyncio.run(_loop_lag(cfg, base_url, key)))
            say("cpu per poll")
            _guard(out, ("cpu_ms_per_poll",), lambda: asyncio.run(
                _cpu_per_poll(cfg, base_url, key)))
        return out

    _guard(result, ("loop_lag_p99_ms", "loop_lag_p99_ms_blocking_baseline", "cpu_ms_per_poll"),
           live)
    say("notebooks (nbclient)")
    _guard(result, ("notebook_bytes_per_task",), lambda: _notebook_growth(cfg))
    say("import time")
    _guard(result, ("import_ratio",), lambda: _import_ratio(cfg))
    result["pass"] = verdicts(result)
    result["elapsed_s"] = round(time.perf_counter() - began, 1)
    return result


# ====================================================================== the table
def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render_table(result: dict[str, Any]) -> str:
    """Aligned rows: measure, value, unit, target, verdict."""
    verdict = result.get("pass") or verdicts(result)
    rows: list[tuple[str, str, str, str, str]] = []

    def target_of(name: str) -> tuple[str, str]:
        if name not in TARGETS:
            return "", ""
        spec = TARGETS[name]
        mark = verdict.get(name)
        return (f"{'<' if spec.get('strict') else '≤'} {_fmt(spec['max'])}",
                "n/a" if mark is None else ("pass" if mark else "MISS"))

    def add(label: str, value: Any, unit: str, target: str = "", digits: int = 2) -> None:
        rows.append((label, _fmt(value, digits), unit, *target_of(target)))

    lag = result.get("loop_lag_p99_ms") or {}
    blk = result.get("loop_lag_p99_ms_blocking_baseline") or {}
    add("loop lag p99, idle loop (baseline)", result.get("loop_lag_p99_ms_idle"), "ms")
    detail = result.get("loop_lag_detail") or {}
    for n in ("50", "200", "500"):
        add(f"loop lag p99, {n} tasks, our client", lag.get(n), "ms",
            "loop_lag_p99_ms@500" if n == "500" else "")
        add(f"loop lag max, {n} tasks, our client",
            (detail.get(f"ours_{n}") or {}).get("max_ms"), "ms", digits=1)
        if n in blk:
            add(f"loop lag p99, {n} tasks, blocking loop", blk.get(n), "ms", digits=0)
    req = result.get("requests_per_task") or {}
    p50 = result.get("detection_latency_p50_s") or {}
    p95 = result.get("detection_latency_p95_s") or {}
    for pol in POLICIES:
        add(f"60 s task, {pol}: requests", req.get(pol), "req/task",
            "requests_per_task@ours_progress" if pol == "ours_progress" else "", 1)
        add(f"60 s task, {pol}: detection p50", p50.get(pol), "s",
            "detection_latency_p50_s@ours_progress" if pol == "ours_progress" else "")
        add(f"60 s task, {pol}: detection p95", p95.get(pol), "s")
    cpu = result.get("cpu_detail") or {}
    add("CPU per status poll, our client", result.get("cpu_ms_per_poll"), "ms", digits=3)
    add("CPU per GET, raw httpx (baseline)", cpu.get("raw_httpx_cpu_ms_per_get"), "ms", digits=3)
    nbg = result.get("notebook_bytes_per_task") or {}
    add("notebook growth, Gallery", nbg.get("gallery"), "B/task",
        "notebook_bytes_per_task@gallery")
    add("notebook growth, TaskWidget each", nbg.get("widget_per_task"), "B/task",
        "notebook_bytes_per_task@widget_per_task")
    add("bundle widget.js + widget.css", result.get("bundle_bytes"), "B", "bundle_bytes")
    imp = result.get("import_ms") or {}
    add("import seedance_widgets (median)", imp.get("seedance_widgets"), "ms", digits=1)
    add("import anywidget+httpx+pydantic", imp.get("anywidget_httpx_pydantic"), "ms", digits=1)
    add("import ratio", result.get("import_ratio"), "x", "import_ratio", 3)

    head = ("measure", "value", "unit", "target", "verdict")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    lines = []
    for i, r in enumerate([head, *rows]):
        lines.append("  ".join((c.rjust(w) if j == 1 else c.ljust(w))
                               for j, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    m = result.get("machine") or {}
    lines.append("")
    lines.append(f"machine: {m.get('cpu_count')} CPUs, {m.get('platform')}, Python "
                 f"{m.get('python')}; {'quick' if result.get('quick') else 'full'} run, "
                 f"{result.get('elapsed_s')} s")
    for key, value in result.items():
        if key.endswith("_reason"):
            lines.append(f"not measured: {key.removesuffix('_reason')}: {value}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m seedance_widgets.bench",
        description="What seedance_widgets costs a notebook: event-loop lag, requests and "
                    "detection latency per task, CPU per poll, saved-notebook growth, bundle "
                    "size and import time, measured against the built-in emulator.")
    parser.add_argument("--quick", action="store_true", help="smaller run (about 90 s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(QUICK if args.quick else FULL, quick=args.quick)
    print(json.dumps(result) if args.json else render_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
