"""Retry maths, in one place: which failures retry, how long to wait, and when to give up.

`Attempts` drives every retry loop of the client (API calls, creates, downloads): it numbers
the attempts, sleeps between them (the server's wait, else full-jitter backoff) and stops at
the attempt budget or, when the caller has a deadline, at the deadline, whichever applies.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import DeadlineExceeded

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Full-jitter exponential backoff: wait ~ U(0, min(cap, base * 2**attempt)).

    A server-requested wait longer than `max_server_wait` is not slept through: the call
    raises instead, so a notebook never hangs for minutes on a rate limit.
    """

    max_attempts: int = 6
    base: float = 0.5
    cap: float = 8.0
    max_server_wait: float = 120.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.cap, self.base * (2 ** attempt))
        return (rng or random).uniform(0, ceiling)


def server_wait(body: Any, headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The wait the server asked for: body `retry_after`, then `Retry-After`, then
    `X-RateLimit-Reset` (a unix time). None when it asked for nothing."""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        seconds = _seconds(err.get("retry_after"))
        if seconds is not None:
            return seconds
    now = time.time() if now is None else now
    lower = {k.lower(): v for k, v in headers.items()}
    value = lower.get("retry-after")
    if value:
        seconds = _seconds(value)
        if seconds is not None:
            return seconds
        try:
            return _seconds(email.utils.parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError, OverflowError, IndexError):
            pass  # an unreadable date is no instruction; fall through to the reset header
    reset = lower.get("x-ratelimit-reset")
    if reset:
        stamp = _seconds(reset)
        return None if stamp is None else max(0.0, stamp - now)
    return None


def _seconds(value: Any) -> float | None:
    """A wait in seconds from a number or its text; NaN, infinity and junk are no wait."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip()) if len(value) <= 32 else None
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


class Attempts:
    """One retry loop: `async for attempt in Attempts(policy, ...)`.

    The body returns on success, or calls `retry(error, wait)` and falls through to go round
    again; the next iteration sleeps first. When no attempt is left the last error is raised:
    - with `deadline` (a `time.monotonic()` value) the loop runs until the deadline, and a wait
      that would cross it raises `DeadlineExceeded` at once instead of sleeping in vain;
    - `max_attempts` caps the count; by default the policy's count, or no count at all when
      there is a deadline (then the deadline alone bounds the retries);
    - without a deadline, a server wait above `policy.max_server_wait` is not slept through:
      the error is raised (with one, the caller chose how long to wait).
    """

    def __init__(self, policy: RetryPolicy, rng: random.Random | None = None, *,
                 deadline: float | None = None, max_attempts: int | None = None,
                 what: str = "the request") -> None:
        self.policy, self.rng, self.deadline, self.what = policy, rng, deadline, what
        if max_attempts is None and deadline is None:
            max_attempts = policy.max_attempts
        self.max_attempts = max_attempts
        self.attempt = -1
        self.error: BaseException | None = None
        self._wait: float | None = None

    def __aiter__(self) -> Attempts:
        return self

    def retry(self, error: BaseException, wait: float | None = None) -> None:
        """Record a failure worth another attempt (after `wait` s when the server asked)."""
        self.error, self._wait = error, wait

    def left(self) -> float | None:
        """Seconds to the deadline (None without one)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    async def __anext__(self) -> int:
        if self.attempt >= 0:
            error = self.error
            if error is None:
                raise StopAsyncIteration
            if self.max_attempts is not None and self.attempt + 1 >= self.max_attempts:
                raise error
            delay = self._wait if self._wait is not None else self.policy.backoff(
                self.attempt, self.rng)
            left = self.left()
            if left is not None and delay >= left:
                raise DeadlineExceeded(
                    f"{self.what}: the deadline passes before the next attempt "
                    f"(last: {error})", error) from None
            if left is None and self._wait is not None and self._wait > self.policy.max_server_wait:
                raise error  # without a deadline, a long server wait is not slept through
            await asyncio.sleep(delay)
        self.attempt += 1
        self.error, self._wait = None, None
        return self.attempt
