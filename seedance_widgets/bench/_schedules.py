"""Poll schedules replayed in virtual time: ours beside fixed 1 s and 5 s polling."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Any

from .._schedule import PollSchedule
from ._common import percentile


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


