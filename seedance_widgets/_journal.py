"""The task journal: an append-only JSON-lines file so that no paid task is ever lost.

A create is written (and fsync'd) as soon as the API answers, before anything else happens;
updates are appended. Reading folds the lines by task id and skips a torn last line, which is
what a killed process leaves behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOME_ENV = "SEEDANCE_WIDGETS_HOME"
DEMO_SERVER = "demo"


def data_dir() -> Path:
    """Where the journal and saved videos live: $SEEDANCE_WIDGETS_HOME or the user data dir."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("seedance-widgets", appauthor=False))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass
class JournalEntry:
    """Everything known about one task, folded from its journal lines."""

    id: str
    server: str
    request: dict[str, Any] | None = None
    fingerprint: str | None = None
    created_at: str | None = None
    status: str = "pending"
    progress: int | None = None
    video_url: str | None = None
    last_frame_url: str | None = None
    local_path: str | None = None
    error: str | None = None
    cancelled: bool = False
    cost_usd: float | None = None
    updated_at: str | None = None
    events: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        return self.status in ("completed", "failed")

    @property
    def prompt(self) -> str:
        return str((self.request or {}).get("prompt") or "")


class Journal:
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else data_dir() / "journal.jsonl"
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def _append(self, record: dict[str, Any], *, durable: bool) -> None:
        line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write per line with O_APPEND keeps lines whole across processes.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)

    def created(self, *, task_id: str, server: str, request: dict[str, Any], fingerprint: str,
                status: str = "pending", attempt: str | None = None) -> None:
        self._append({"event": "created", "t": _now(), "id": task_id, "server": server,
                      "request": request, "fingerprint": fingerprint, "status": status,
                      "attempt": attempt}, durable=True)

    def submitting(self, *, attempt: str, server: str, request: dict[str, Any],
                   fingerprint: str) -> None:
        """A durable note that a create is about to be sent, written before the POST.

        If the process dies while the request is in the air, the note (fingerprint and time)
        is what lets the user find the task the server may have made.
        """
        self._append({"event": "submitting", "t": _now(), "attempt": attempt,
                      "server": server, "request": request, "fingerprint": fingerprint},
                     durable=True)

    def ambiguous(self, *, server: str, request: dict[str, Any], fingerprint: str,
                  sent_at: str, cause: str, attempt: str | None = None) -> None:
        self._append({"event": "ambiguous", "t": _now(), "server": server, "request": request,
                      "fingerprint": fingerprint, "sent_at": sent_at, "cause": cause,
                      "attempt": attempt}, durable=True)

    def update(self, task_id: str, **fields: Any) -> None:
        self._append({"event": "update", "t": _now(), "id": task_id,
                      **{k: v for k, v in fields.items() if v is not None}}, durable=False)

    def records(self) -> Iterator[dict[str, Any]]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        for raw in data.splitlines():
            try:
                rec = json.loads(raw)
            except ValueError:
                continue  # a torn line from a killed writer: the rest is still good
            if isinstance(rec, dict):
                yield rec

    def entries(self) -> list[JournalEntry]:
        """Tasks in creation order, each with its latest known state."""
        out: dict[str, JournalEntry] = {}
        for rec in self.records():
            tid = rec.get("id")
            if not tid:
                continue
            if rec.get("event") == "created":
                out[tid] = JournalEntry(id=tid, server=rec.get("server", ""),
                                        request=rec.get("request"),
                                        fingerprint=rec.get("fingerprint"),
                                        created_at=rec.get("t"),
                                        status=rec.get("status", "pending"))
            entry = out.get(tid)
            if entry is None:
                continue
            entry.events += 1
            for key in ("status", "progress", "video_url", "last_frame_url", "local_path",
                        "error", "cancelled", "cost_usd"):
                if key in rec:
                    setattr(entry, key, rec[key])
            entry.updated_at = rec.get("t")
        return list(out.values())

    def get(self, task_id: str) -> JournalEntry | None:
        return next((e for e in self.entries() if e.id == task_id), None)

    def ambiguous_submits(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("event") == "ambiguous"]

    def unresolved_submits(self) -> list[dict[str, Any]]:
        """Creates that were sent but never answered: the process died mid-request, or the
        answer was ambiguous. Each may or may not have made a (paid) task."""
        settled: set[str] = set()
        intents: dict[str, dict[str, Any]] = {}
        for rec in self.records():
            attempt = rec.get("attempt")
            if not attempt:
                continue
            if rec.get("event") == "submitting":
                intents[attempt] = rec
            elif rec.get("event") == "created":
                settled.add(attempt)
        return [r for a, r in intents.items() if a not in settled]

    def unfinished(self) -> list[JournalEntry]:
        return [e for e in self.entries() if not e.is_terminal]


def history(journal: Journal | None = None) -> list[JournalEntry]:
    """Every journaled task, oldest first, with its latest known state."""
    return (journal or Journal()).entries()
