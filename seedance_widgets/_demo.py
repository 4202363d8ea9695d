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

from ._client import BASE_URL_ENV, KEY_ENV, AsyncSeedanceClient
from ._errors import SeedanceError
from ._home import DEMO_SERVER, data_dir

log = logging.getLogger("seedance_widgets")
DEMO_NOTICE = "demo mode: synthetic videos from the built-in emulator (set TOKENLAB_API_KEY " \
              "for real ones)"



def unused_base_url() -> str:
    """A TOKENLAB_BASE_URL set without a key is named, not silently ignored ("" when none);
    its value is not repeated, since a URL may carry credentials."""
    if os.environ.get(BASE_URL_ENV, "").strip():
        return f"{BASE_URL_ENV} is set but not used without {KEY_ENV}"
    return ""


def demo_notice() -> str:
    """What demo mode says, with the unused base URL when there is one."""
    unused = unused_base_url()
    return f"{DEMO_NOTICE}; {unused}" if unused else DEMO_NOTICE


def _wants_real(api_key: str | None, base_url: str | None) -> bool:
    if api_key or os.environ.get(KEY_ENV):
        return True
    if base_url:  # a server was named: running the emulator instead would mislead
        raise SeedanceError(f"base_url was given but no API key: pass api_key=... or set "
                            f"{KEY_ENV} (without base_url, connect() runs demo mode on the "
                            "built-in emulator)")
    return False


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
    if _wants_real(api_key, base_url):
        return AsyncSeedanceClient(api_key, base_url, **kwargs)
    emu = shared_emulator()
    return AsyncSeedanceClient(emu.api_key, emu.base_url, server_label=DEMO_SERVER, **kwargs)


def connect_sync(api_key: str | None = None, base_url: str | None = None, **kwargs: Any) -> Any:
    """The blocking SeedanceClient counterpart of `connect`."""
    from ._sync import SeedanceClient

    if _wants_real(api_key, base_url):
        return SeedanceClient(api_key, base_url, **kwargs)
    emu = shared_emulator()
    return SeedanceClient(emu.api_key, emu.base_url, server_label=DEMO_SERVER, **kwargs)
