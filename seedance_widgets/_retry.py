"""Retry maths, in one place: which failures retry, how long to wait, and when to give up."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    if isinstance(err, dict) and isinstance(err.get("retry_after"), int | float):
        return max(0.0, float(err["retry_after"]))
    now = time.time() if now is None else now
    lower = {k.lower(): v for k, v in headers.items()}
    value = lower.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass  # an unreadable date is no instruction; fall through to the reset header
    reset = lower.get("x-ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None
