"""`Emulator`: a TokenLab video API on a local port, started and stopped from Python; `serve`
runs one in the foreground for the command line."""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from .._catalog import Catalog, default_catalog
from ._app import App, LogEntry
from ._assets import AssetStore
from ._config import DEMO_API_KEY, Dice, Faults, Timings
from ._server import EmulatorHTTPServer
from ._state import TaskStore


class Emulator:
    """A real HTTP server speaking the TokenLab video contract, with injectable faults.

    Use it as a context manager, or call `start()` and `stop()`::

        with Emulator(timings=Timings(queue_s=0.2, run_s=0.5)) as emu:
            client = httpx.Client(base_url=emu.base_url,
                                  headers={"Authorization": f"Bearer {emu.api_key}"})
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: Sequence[str] = (DEMO_API_KEY,),
        timings: Timings | None = None,
        faults: Faults | None = None,
        result_ttl_s: float = 3600.0,
        balance_usd: float | None = None,
        catalog: Catalog | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        fetch_remote: bool = False,
    ) -> None:
        """`state_dir` keeps tasks, assets and results on disk, so a new Emulator on the same
        folder (a restarted kernel in demo mode) carries on with them.

        A generation's input media are fetched from loopback URLs (and `data:` / `asset://`);
        `fetch_remote` lets the emulator fetch them from other hosts too. Material asset
        sources are fetched from any host."""
        keys = tuple(api_keys)
        if not keys or any(not isinstance(k, str) or not k.strip() for k in keys):
            raise ValueError("api_keys must be one or more non-empty strings")
        if result_ttl_s <= 0:
            raise ValueError("result_ttl_s must be > 0")
        self.catalog = catalog if catalog is not None else default_catalog()
        self.timings = timings if timings is not None else Timings()
        faults = faults if faults is not None else Faults()
        self._store = TaskStore(catalog=self.catalog, timings=self.timings,
                                result_ttl_s=result_ttl_s, balance_usd=balance_usd,
                                state_dir=Path(state_dir) if state_dir else None)
        self._assets = AssetStore(timings=self.timings,
                                  state_dir=Path(state_dir) if state_dir else None)
        self._app = App(api_keys=keys, store=self._store, assets=self._assets,
                        catalog=self.catalog, faults=faults, dice=Dice(faults.seed),
                        fetch_remote=fetch_remote)
        self._address = (host, port)
        self._lock = threading.Lock()
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Emulator:
        """Serve on a daemon thread; port 0 picks a free port. Returns self."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("this Emulator was stopped; create a new one")
            if self._server is None:
                server = EmulatorHTTPServer(self._address, self._app)
                thread = threading.Thread(
                    target=server.serve_forever, kwargs={"poll_interval": 0.05},
                    name=f"seedance-emulator:{server.server_address[1]}", daemon=True,
                )
                thread.start()
                self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections; safe to call more than once."""
        with self._lock:
            server, thread = self._server, self._thread
            already = self._stopped
            self._stopped = True
        if already:
            return
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._store.close()
        self._assets.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ------------------------------------------------------------------ facts
    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`; the emulator must be started."""
        if self._server is None:
            raise RuntimeError("call start() first: the port is chosen when serving begins")
        return self._server.base_url

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("call start() first")
        return int(self._server.server_address[1])

    @property
    def api_key(self) -> str:
        """The first accepted key."""
        return self._app.api_keys[0]

    @property
    def api_keys(self) -> tuple[str, ...]:
        return self._app.api_keys

    @property
    def request_log(self) -> list[LogEntry]:
        """A copy of the log: (time, method, path, status, key_index), never a key."""
        return self._app.log()

    @property
    def faults(self) -> Faults:
        return self._app.faults

    def set_faults(self, faults: Faults) -> None:
        """Change the fault knobs while serving; a seed restarts the random pattern."""
        self._app.set_faults(faults)

    def task_count(self) -> int:
        return self._store.count()

    def tasks_snapshot(self) -> list[dict[str, Any]]:
        return self._store.snapshot()

    def assets_snapshot(self) -> list[dict[str, Any]]:
        """Every material asset of every key, as `SeedanceMaterialAsset` bodies plus
        `key_index` and `auto` (prepared from an inline image)."""
        return self._assets.snapshot()

    def __repr__(self) -> str:
        where = self._server.base_url if self._server else "not started"
        return f"Emulator({where}, {len(self._app.api_keys)} key(s))"


def shown_key(key: str) -> str:
    """The demo key in full (it is public), any other key masked."""
    return key if key == DEMO_API_KEY else key[:6] + "…"


def _active_faults(faults: Faults) -> list[str]:
    default = Faults()
    return [f"{f.name}={getattr(faults, f.name)}" for f in dataclasses.fields(faults)
            if getattr(faults, f.name) != getattr(default, f.name)]


def serve(
    port: int,
    api_keys: Sequence[str] = (DEMO_API_KEY,),
    *,
    host: str = "127.0.0.1",
    timings: Timings | None = None,
    faults: Faults | None = None,
    result_ttl_s: float = 3600.0,
    balance_usd: float | None = None,
    catalog: Catalog | None = None,
    fetch_remote: bool = False,
    out: TextIO | None = None,
) -> None:
    """Serve in the foreground until Ctrl-C: prints the base URL and the accepted key(s).

    Faults default to the `SEEDANCE_EMU_*` environment variables.
    """
    out = out or sys.stdout
    emu = Emulator(host=host, port=port, api_keys=tuple(api_keys) or (DEMO_API_KEY,),
                   timings=timings, faults=faults if faults is not None else Faults.from_env(),
                   result_ttl_s=result_ttl_s, balance_usd=balance_usd, catalog=catalog,
                   fetch_remote=fetch_remote)
    emu.start()
    try:
        print(f"Seedance emulator (TokenLab video API) at {emu.base_url}", file=out)
        for key in emu.api_keys:
            print(f"  accepted API key: {shown_key(key)}", file=out)
        active = _active_faults(emu.faults)
        if active:
            print("  faults: " + ", ".join(active), file=out)
        print("Press Ctrl-C to stop.", file=out, flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
