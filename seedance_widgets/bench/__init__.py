"""`python -m seedance_widgets.bench [--quick] [--json]`: what the package costs a notebook.

Measures, all on loopback against the built-in emulator (no account, no network):

- event-loop lag (p99 overshoot of a 5 ms ticker) while 50/200/500 tasks are polled by our
  client, beside an idle loop and a naive blocking loop of sync GETs on the loop thread;
- requests per task and detection latency of `PollSchedule` on 60 s tasks, with and without
  progress, beside fixed 1 s and 5 s polling, replayed in virtual time on the same timelines;
- process CPU per status poll (and a raw httpx GET beside it);
- saved-notebook growth per task for a `Gallery` and for one `TaskWidget` per task (nbclient);
- the size of the front-end bundle, and the import time against our dependencies' own;
- the task history with 10,000 runs: open + newest page, a text search and
  `seedance-widgets tasks` as a process, beside parsing the same history as JSON lines, and
  the durable writes of each create, beside the old journal's fsync'd append;
- the emulator's render time of a 5 s demo by what it shows (inputs, sound), beside the
  silent text-only render;
- bytes over the comm when one task of a gallery of 0/100/500 runs makes progress, beside
  the old design (the whole list resent), and `Gallery.from_history()` on a 10,000-run
  history: seconds and initial widget state, beside reading every run.

The loop-lag and CPU figures talk to an emulator in a subprocess, so its threads never share
our GIL or CPU account. Timing figures are printed, never asserted; each comes with a baseline
measured in the same run. `--json` prints exactly one JSON object on stdout (progress goes to
stderr); a measure that cannot be taken is null with a `<key>_reason` beside it.
"""


from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from collections.abc import Sequence
from typing import Any

from ._common import (
    FULL,
    QUICK,
    Config,
    emulator_process,
    guard,
    percentile,
    ratio_of_medians,
    say,
)
from ._history import history_bench
from ._loop import cpu_per_poll, loop_lag
from ._notebook import bundle_sizes, import_ratio, notebook_growth
from ._render import render_times
from ._report import TARGETS, render_table, verdicts
from ._schedules import POLICIES, Timeline, compare_schedules, make_timelines, replay
from ._widgets import from_history, update_bytes

__all__ = ["FULL", "POLICIES", "QUICK", "TARGETS", "Config", "Timeline", "bundle_sizes",
           "compare_schedules", "main", "make_timelines", "percentile", "ratio_of_medians",
           "render_table", "replay", "run", "verdicts"]


def machine() -> dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(),
            "implementation": platform.python_implementation()}


def run(cfg: Config, *, quick: bool) -> dict[str, Any]:
    began = time.perf_counter()
    result: dict[str, Any] = {"quick": quick, "machine": machine(),
                              "targets": {k: {kk: vv for kk, vv in v.items() if kk != "strict"}
                                          | {"compare": "<" if v.get("strict") else "<="}
                                          for k, v in TARGETS.items()}}
    say("schedules in virtual time")
    guard(result, ("requests_per_task", "detection_latency_p50_s", "detection_latency_p95_s"),
          lambda: compare_schedules(cfg.timelines))
    guard(result, ("bundle_bytes",), bundle_sizes)

    def live() -> dict[str, Any]:
        out: dict[str, Any] = {}
        with emulator_process(cfg.emu_queue_s, cfg.emu_run_s) as (base_url, key):
            say(f"emulator subprocess at {base_url}")
            guard(out, ("loop_lag_p99_ms", "loop_lag_p99_ms_blocking_baseline"),
                  lambda: asyncio.run(loop_lag(cfg, base_url, key)))
            say("cpu per poll")
            guard(out, ("cpu_ms_per_poll",), lambda: asyncio.run(
                cpu_per_poll(cfg, base_url, key)))
        return out

    guard(result, ("loop_lag_p99_ms", "loop_lag_p99_ms_blocking_baseline", "cpu_ms_per_poll"),
          live)
    say("widget updates over the comm")
    guard(result, ("update_bytes",), update_bytes)
    say("gallery from a large history")
    guard(result, ("from_history_s", "from_history_state_bytes"),
          lambda: from_history(cfg.gallery_history_runs))
    say("notebooks (nbclient)")
    guard(result, ("notebook_bytes_per_task",), lambda: notebook_growth(cfg))
    say("import time")
    guard(result, ("import_ratio",), lambda: import_ratio(cfg))
    say("task history")
    guard(result, ("history_open_page_ms", "history_search_ms", "history_tasks_cli_s",
                   "history_create_ms"), lambda: history_bench(cfg))
    say("emulator renders")
    guard(result, ("render_ms", "render_ratio"), lambda: render_times(cfg.render_reps))
    result["pass"] = verdicts(result)
    result["elapsed_s"] = round(time.perf_counter() - began, 1)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m seedance_widgets.bench",
        description="What seedance_widgets costs a notebook: event-loop lag, requests and "
                    "detection latency per task, CPU per poll, saved-notebook growth, bundle "
                    "size, import time and the task history at 10,000 runs, measured against "
                    "the built-in emulator.")
    parser.add_argument("--quick", action="store_true", help="smaller run (about 90 s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(QUICK if args.quick else FULL, quick=args.quick)
    print(json.dumps(result) if args.json else render_table(result))
    return 0
