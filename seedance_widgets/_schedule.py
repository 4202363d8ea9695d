"""When to ask again: a poll schedule that aims at the predicted finish.

With progress, the finish is predicted from the progress rate and each wait covers half the
remaining time, so requests grow with log(duration) and the finish is seen within `floor` s.
Without progress, waits grow geometrically to `cap`. Fixed intervals either hammer the API
(1 s) or see the result late (5 s); the benchmark compares all three on the same timelines.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


async def pause(delay: float, deadline: float | None) -> bool:
    """Sleep `delay` s, cut short at `deadline` (monotonic); False, without sleeping, when the
    deadline has passed, so every poll loop ends by its deadline the same way."""
    if deadline is not None:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        delay = min(delay, left)
    await asyncio.sleep(delay)
    return True


@dataclass
class PollSchedule:
    floor: float = 0.5       # never poll faster than this
    first: float = 1.0       # first wait after create
    growth: float = 1.5      # backoff factor without progress
    cap: float = 5.0         # longest wait without progress
    progress_cap: float = 30.0  # longest wait while progress predicts a far finish
    _samples: list[tuple[float, int]] = field(default_factory=list)
    _blind: float = 0.0
    _last_pending: float | None = None  # elapsed at the last poll that saw no progress yet
    _start: float = 0.0  # best guess of when processing began

    def next_delay(self, elapsed: float, status: str, progress: int | None) -> float:
        """Seconds to wait after a snapshot taken `elapsed` s after the task started."""
        if progress is not None and status == "processing" and 0 < progress < 100:
            if not self._samples:
                # Processing began somewhere between the last queued poll and this one;
                # counting the queue time as slow progress would push the guess far out.
                last = self._last_pending
                self._start = 0.0 if last is None else (last + elapsed) / 2
            if not self._samples or self._samples[-1][1] != progress:
                self._samples.append((elapsed, progress))
            eta = self.predicted_finish()
            if eta is not None:
                remaining = eta - elapsed
                if remaining > 0:
                    self._blind = 0.0
                    return min(self.progress_cap, max(self.floor, remaining / 2))
                # Past the prediction: the end is near, look often but back off gently.
                self._blind = max(self.floor, self._blind * 1.25 or self.floor)
                return min(self._blind, 2.0)
        if not self._samples:
            self._last_pending = elapsed
        self._blind = self.first if not self._blind else min(self.cap, self._blind * self.growth)
        return self._blind

    def predicted_finish(self) -> float | None:
        """Elapsed seconds at which progress should reach 100, from the samples so far."""
        if len(self._samples) < 2:
            if len(self._samples) == 1:
                t, p = self._samples[0]
                ran = t - self._start
                return t + (100 - p) * ran / p if ran > 0 else None
            return None
        (t0, p0), (t1, p1) = self._samples[0], self._samples[-1]
        if p1 <= p0 or t1 <= t0:
            return None
        rate = (p1 - p0) / (t1 - t0)
        return t1 + (100 - p1) / rate

    def eta(self, elapsed: float) -> float | None:
        """Seconds left, when progress allows a prediction."""
        finish = self.predicted_finish()
        return None if finish is None else max(0.0, finish - elapsed)
