"""Demo mode: with no TOKENLAB_API_KEY, everything runs on a built-in emulator in this process.

The emulator is started once per process, on 127.0.0.1, and says so: a demo must never be
mistaken for paid output.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from ._client import KEY_ENV, AsyncSeedanceClient
from ._home import DEMO_SERVER, data_dir

log = logging.getLogger("seedance_widgets")
DEMO_NOTICE = "demo mode: synthetic videos from the built-in emulator (set TOKENLAB_API_KEY " \
              "for real ones)"

_lock = threading.Lock()
_emulator: Any = None


def shared_emulator() -> Any:
    """The process-wide demo emulator, started on first use.

    Its tasks are kept under the data dir, so a restarted kernel can resume the history's
    demo tasks (in memory only when that folder is read-only). Timings come from
    SEEDANCE_EMU_QUEUE_S / SEEDANCE_EMU_RUN_S when set.
    """
    global _emulator
    with _lock:
        if _emulator is None:
            from .emulator import Emulator, Faults, Timings

            timings = Timings(queue_s=float(os.environ.get("SEEDANCE_EMU_QUEUE_S", "2")),
                              run_s=float(os.environ.get("SEEDANCE_EMU_RUN_S", "8")))
            _emulator = Emulator(timings=timings, faults=Faults.from_env(),
                                 state_dir=_writable(data_dir() / "emulator")).start()
            log.info("%s at %s", DEMO_NOTICE, _emulator.base_url)
        return _emulator


def _writable(folder: Path) -> Path | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK | os.X_OK) else None


def connect(api_key: str | None = None, base_url: str | None = None, **kwargs: Any
            ) -> AsyncSeedanceClient:
    """A client for the real API when a key is given or set, else for the demo emulator."""
    if api_key or os.environ.get(KEY_ENV):
        return AsyncSeedanceClient(api_key, base_url, **kwargs)
    emu = shared_emulator()
    return AsyncSeedanceClient(emu.api_key, emu.base_url, server_label=DEMO_SERVER, **kwargs)


def connect_sync(api_key: str | None = None, base_url: str | None = None, **kwargs: Any) -> Any:
    """The blocking SeedanceClient counterpart of `connect`."""
    from ._sync import SeedanceClient

    if api_key or os.environ.get(KEY_ENV):
        return SeedanceClient(api_key, base_url, **kwargs)
    emu = shared_emulator()
    return SeedanceClient(emu.api_key, emu.base_url, server_label=DEMO_SERVER, **kwargs)
