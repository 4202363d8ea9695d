"""An offline TokenLab video API: a real local HTTP server for Seedance 2.0 models.

It speaks the contract in `shared/contract` (create, poll, cancel, models, pricing, material
assets), renders real MP4s that show the request's inputs (with sound) behind signed, expiring
URLs, and can misbehave on request (`Faults`) so clients can be tested against latency, 5xx,
429 bursts, dropped connections and failed tasks.

    from seedance_widgets.emulator import Emulator, Timings
    with Emulator(timings=Timings(queue_s=0.5, run_s=2)) as emu:
        ...  # point a client at emu.base_url with emu.api_key
"""

from __future__ import annotations

from ._app import LogEntry
from ._config import DEMO_API_KEY, Faults, Timings
from ._emulator import Emulator, serve

__all__ = ["DEMO_API_KEY", "Emulator", "Faults", "LogEntry", "Timings", "serve"]
