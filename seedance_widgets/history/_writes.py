"""The statements that change the history, shared by the live store and the journal import.

Each runs inside a write transaction the caller holds. Snapshots merge rather than overwrite:
a value the new snapshot lacks keeps the old one, `cancelled` only ever turns on, and a
terminal state is never replaced by a running one (a slow poll from another process, or a
snapshot that arrives late, cannot move a finished task backwards).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .._task import TERMINAL_STATES, display_status

SNAPSHOT_FIELDS = ("status", "progress", "video_url", "last_frame_url", "local_path", "sha256",
                   "error", "cancelled", "cost_usd", "billing_transaction_id")


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _index_prompt(con: sqlite3.Connection, n: int, prompt: str, fts: bool) -> None:
    if fts:
        con.execute("INSERT INTO tasks_fts(rowid, prompt) VALUES (?, ?)", (n, prompt))
    else:
        # This SQLite has no FTS5: the next one that has it rebuilds the index.
        con.execute("INSERT OR REPLACE INTO settings VALUES ('fts_stale', '1')")


def insert_task(con: sqlite3.Connection, *, task_id: str, server: str, created_at: str,
                request: dict[str, Any] | None, fingerprint: str | None, attempt: str | None,
                status: str, model: str | None, fts: bool) -> bool:
    """Add a task unless its id is already there; True when it was added."""
    body = request or {}
    prompt = str(body.get("prompt") or "")
    cur = con.execute(
        "INSERT INTO tasks (id, server, created_at, updated_at, request, fingerprint, attempt, "
        "model, operation, prompt, status, shown_status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?) ON CONFLICT(id) DO NOTHING",
        (task_id, server, created_at, created_at, to_json(body) if request is not None else None,
         fingerprint, attempt, body.get("model") or model, body.get("operation"), prompt,
         status, display_status(status, False)))
    if cur.rowcount != 1:
        return False
    assert cur.lastrowid is not None
    _index_prompt(con, cur.lastrowid, prompt, fts)
    return True


def merge_snapshot(con: sqlite3.Connection, task_id: str, changes: dict[str, Any], *,
                   at: str, only_if_newer: bool = False) -> bool:
    """Merge what a snapshot says into the task; False when the task is not there.

    `only_if_newer`: skip a record older than what is stored (an import run twice, or a
    journal replaced by an older copy, never moves state backwards).
    """
    row = con.execute("SELECT status, cancelled, updated_at FROM tasks WHERE id = ?",
                      (task_id,)).fetchone()
    if row is None:
        return False
    status, cancelled, updated_at = row
    if only_if_newer and updated_at > at:
        return True
    new = {k: v for k, v in changes.items() if k in SNAPSHOT_FIELDS and v is not None}
    if status in TERMINAL_STATES and new.get("status", status) not in TERMINAL_STATES:
        return True
    on = bool(cancelled) or bool(new.get("cancelled"))
    new["cancelled"] = int(on)
    new["shown_status"] = display_status(str(new.get("status", status)), on)
    new["updated_at"] = at
    sets = ", ".join(f"{k} = ?" for k in new)
    con.execute(f"UPDATE tasks SET {sets} WHERE id = ?", [*new.values(), task_id])
    return True


def insert_submit(con: sqlite3.Connection, *, attempt: str, server: str, sent_at: str,
                  request: dict[str, Any] | None, fingerprint: str | None,
                  outcome: str = "in_flight", cause: str | None = None) -> None:
    body = request or {}
    con.execute(
        "INSERT INTO submits (attempt, server, sent_at, updated_at, request, fingerprint, "
        "prompt, outcome, cause) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(attempt) DO NOTHING",
        (attempt, server, sent_at, sent_at, to_json(body), fingerprint,
         str(body.get("prompt") or ""), outcome, cause))


def settle_submit(con: sqlite3.Connection, attempt: str, outcome: str, *, at: str,
                  status_code: int | None = None, cause: str | None = None,
                  task_id: str | None = None) -> int:
    """Record how an attempt ended; a `created` attempt is never changed again."""
    return con.execute(
        "UPDATE submits SET outcome = ?, status_code = coalesce(?, status_code), "
        "cause = coalesce(?, cause), task_id = coalesce(?, task_id), updated_at = ? "
        "WHERE attempt = ? AND outcome != 'created'",
        (outcome, status_code, cause, task_id, at, attempt)).rowcount
