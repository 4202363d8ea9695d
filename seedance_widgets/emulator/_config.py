"""The emulator's knobs: how long tasks take (`Timings`) and what goes wrong (`Faults`).

Both are plain dataclasses so tests can build them inline; `Faults.from_env()` lets the CLI and
notebooks turn faults on without code. `Dice` is the one random source behind every fault, so a
seeded run misbehaves the same way each time.
"""

from __future__ import annotations

import dataclasses
import os
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

# A public demo credential: printed by `serve` on purpose so anyone can try the emulator.
DEMO_API_KEY = "sk-emulator-demo"

ENV_PREFIX = "SEEDANCE_EMU_"

_T = TypeVar("_T")


@dataclass
class Timings:
    """How long a task waits in the queue and then runs, in seconds."""

    queue_s: float = 1.0
    run_s: float = 3.0
    # The contract sends `progress` only "when real"; turning it off exercises clients that
    # must cope with status alone.
    report_progress: bool = True
    # Material assets stay PROCESSING this long after they are created (or their source is
    # replaced), then turn ACTIVE, or FAILED when the source fails the deeper check.
    asset_ready_s: float = 1.0
    # How long a create that uses a PROCESSING asset is held before it answers 409
    # seedance_material_preparing; the contract's bound is 60 s.
    material_hold_s: float = 60.0

    def __post_init__(self) -> None:
        for name in ("queue_s", "run_s", "asset_ready_s", "material_hold_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


@dataclass
class Faults:
    """Misbehaviour to inject; everything is off by default.

    Rates are fractions in [0, 1] of the requests they apply to (see each field).
    """

    latency_s: float = 0.0  # added to every request
    error_rate: float = 0.0  # GET/DELETE on /v1 answered 500/502/503 with a ServerError body
    reset_rate: float = 0.0  # GET/DELETE on /v1 whose connection is closed with no response
    create_error_rate: float = 0.0  # creates answered 500 after the task was created
    drop_after_create_rate: float = 0.0  # creates whose socket is closed after the task exists
    rate_limit_every: int = 0  # every Nth /v1 request (0 = off) starts a burst of 429s ...
    rate_limit_burst: int = 0  # ... this many long (at least 1 when rate_limit_every is set)
    rate_limit_retry_after_s: float = 0.2
    malformed_rate: float = 0.0  # 200 answers to GET /v1 whose JSON body is cut short
    download_bytes_per_s: float = 0.0  # throttle for /files downloads (0 = unthrottled)
    task_failure_rate: float = 0.0  # tasks that end `failed` with an error object
    slow_rate: float = 0.0  # GET/DELETE on /v1 held for `slow_s` before answering (timeouts)
    slow_s: float = 0.0  # how long a slow answer is held
    seed: int | None = None  # seeds the fault RNG so a pattern repeats run to run

    _RATES = (
        "error_rate", "reset_rate", "create_error_rate", "drop_after_create_rate",
        "malformed_rate", "task_failure_rate", "slow_rate",
    )

    def __post_init__(self) -> None:
        for name in self._RATES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        for name in ("latency_s", "rate_limit_retry_after_s", "download_bytes_per_s", "slow_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.rate_limit_every < 0 or self.rate_limit_burst < 0:
            raise ValueError("rate_limit_every and rate_limit_burst must be >= 0")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Faults:
        """Read `SEEDANCE_EMU_<FIELD>` (e.g. SEEDANCE_EMU_ERROR_RATE=0.1); unset fields keep
        their defaults, and a value that does not parse is an error naming the variable."""
        env = os.environ if environ is None else environ
        values: dict[str, float | int | None] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or not raw.strip():
                continue
            kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            try:
                values[f.name] = float(raw) if kind == "float" else int(raw)
            except ValueError:
                raise ValueError(
                    f"{ENV_PREFIX}{f.name.upper()}={raw!r} is not a valid {kind.split()[0]}"
                ) from None
        return cls(**values)  # type: ignore[arg-type]


class Dice:
    """One seeded RNG behind a lock: handler threads roll it concurrently."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._rng.seed(seed)

    def chance(self, rate: float) -> bool:
        # A zero rate consumes nothing, so enabling one fault does not shift another's pattern.
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def choice(self, options: Sequence[_T]) -> _T:
        with self._lock:
            return self._rng.choice(options)

    def randint(self, low: int, high: int) -> int:
        with self._lock:
            return self._rng.randint(low, high)
