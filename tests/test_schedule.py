"""The poll schedule replayed in virtual time: few requests, prompt detection."""

from __future__ import annotations

import pytest

from seedance_widgets._schedule import PollSchedule


def replay(queue_s: float, run_s: float, *, progress: bool = True) -> tuple[int, float]:
    """(status requests, detection latency) for a task queued then processing linearly."""
    schedule, t, n = PollSchedule(), 0.0, 0
    status, pct = "pending", None
    while True:
        t += schedule.next_delay(t, status, pct)
        n += 1
        if t >= queue_s + run_s:
            return n, t - (queue_s + run_s)
        status = "pending" if t < queue_s else "processing"
        pct = int(100 * (t - queue_s) / run_s) if progress and t >= queue_s else None


@pytest.mark.parametrize(("queue_s", "run_s", "max_requests"), [
    (2, 8, 10), (1.5, 6, 10), (0.3, 1.5, 6), (5, 60, 15), (0, 60, 15), (10, 120, 18),
])
def test_progress_lets_us_poll_near_the_finish(queue_s: float, run_s: float,
                                               max_requests: int) -> None:
    requests, late = replay(queue_s, run_s)
    assert requests <= max_requests and late <= 1.0, (requests, late)


def test_queue_time_does_not_pass_for_slow_progress() -> None:
    # A long queue before a short run: the first progress sample must not predict a far end.
    requests, late = replay(20, 8)
    assert late <= 1.0 and requests <= 16, (requests, late)


def test_without_progress_waits_grow_to_the_cap() -> None:
    schedule = PollSchedule()
    delays = [schedule.next_delay(i, "processing", None) for i in range(10)]
    assert delays[0] == schedule.first and max(delays) == schedule.cap
    assert delays == sorted(delays)
    requests, late = replay(5, 60, progress=False)
    assert requests < 60 / schedule.first and late <= schedule.cap
