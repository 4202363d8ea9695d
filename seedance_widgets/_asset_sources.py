"""Which URL each material asset was registered from, remembered across sessions.

The API never returns an asset's source URL, yet a gallery of assets wants a thumbnail and a
user wants to know what `asset-2026…` was. So the client writes down the URLs it registers,
per server, in a small JSON file in the data dir (public URLs only: no key, no file paths).
A file that cannot be read or written only loses the thumbnails, never an asset.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from ._files import write_atomic
from ._home import data_dir

log = logging.getLogger("seedance_widgets")

MAX_ENTRIES = 5000


class SourceBook:
    """`asset id -> source URL` for one server; `path=None` keeps it in memory only."""

    def __init__(self, server: str, path: Path | None) -> None:
        self.server = server
        self.path = path
        self._lock = threading.Lock()
        self._urls: dict[str, str] | None = None

    @classmethod
    def default(cls, server: str) -> SourceBook:
        return cls(server, data_dir() / "asset-sources.json")

    def _all(self) -> dict[str, dict[str, str]]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("asset sources file %s is unreadable (%s); starting afresh",
                        self.path, exc)
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, dict)}

    def _mine(self) -> dict[str, str]:
        if self._urls is None:
            raw = self._all().get(self.server, {})
            self._urls = {k: v for k, v in raw.items()
                          if isinstance(k, str) and isinstance(v, str)}
        return self._urls

    def get(self, asset_id: str) -> str | None:
        with self._lock:
            return self._mine().get(asset_id)

    def set(self, asset_id: str, url: str) -> None:
        with self._lock:
            mine = self._mine()
            if mine.get(asset_id) == url:
                return
            mine[asset_id] = url
            while len(mine) > MAX_ENTRIES:
                mine.pop(next(iter(mine)))
            if self.path is None:
                return
            try:
                everything = self._all()
                everything[self.server] = dict(mine)
                self.path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(self.path, json.dumps(everything).encode())
            except OSError as exc:
                log.warning("could not remember the source of asset %s: %s", asset_id, exc)
