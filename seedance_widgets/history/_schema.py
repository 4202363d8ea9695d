"""The history's tables, its schema version and the migrations between versions.

`schema_version` holds one row per applied migration; a file whose version is above
`SCHEMA_VERSION` was written by a newer seedance_widgets and is refused, never rewritten.
Full-text search over prompts uses FTS5 where this SQLite has it. The index is filled by our
own writes (no triggers), so a build without FTS5 can still write the file: it marks the index
stale and the next build with FTS5 rebuilds it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

from .._errors import HistoryError

SCHEMA_VERSION = 2
SUBMIT_OUTCOMES = ("in_flight", "created", "refused", "never_sent", "ambiguous")

_V1 = f"""
CREATE TABLE tasks (
    n INTEGER PRIMARY KEY,                -- insertion order: pages run newest first on it
    id TEXT NOT NULL UNIQUE,
    server TEXT NOT NULL,
    created_at TEXT NOT NULL,             -- ISO 8601, UTC, milliseconds
    updated_at TEXT NOT NULL,
    request TEXT,                         -- JSON; large data: URLs replaced by blob references
    fingerprint TEXT,
    attempt TEXT,
    model TEXT,
    operation TEXT,
    prompt TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    shown_status TEXT NOT NULL,           -- display_status(status, cancelled), for filters
    progress INTEGER,
    video_url TEXT,
    last_frame_url TEXT,
    local_path TEXT,
    sha256 TEXT,
    cost_usd REAL,
    billing_transaction_id TEXT,
    error TEXT,
    cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_by_status ON tasks(shown_status, n);
CREATE INDEX tasks_by_model ON tasks(model, n);
CREATE INDEX tasks_by_operation ON tasks(operation, n);
CREATE INDEX tasks_by_server ON tasks(server, status);

CREATE TABLE submits (
    attempt TEXT PRIMARY KEY,
    server TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    request TEXT,
    fingerprint TEXT,
    prompt TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL CHECK (outcome IN ({", ".join(f"'{o}'" for o in SUBMIT_OUTCOMES)})),
    status_code INTEGER,
    cause TEXT,
    task_id TEXT
);
CREATE INDEX submits_by_outcome ON submits(outcome, sent_at);
CREATE INDEX submits_by_fingerprint ON submits(fingerprint);

CREATE TABLE task_meta (
    task_id TEXT PRIMARY KEY,
    starred INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE INDEX task_meta_starred ON task_meta(task_id) WHERE starred = 1;

CREATE TABLE task_tags (
    task_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (task_id, tag)
) WITHOUT ROWID;
CREATE INDEX task_tags_by_tag ON task_tags(tag, task_id);

CREATE TABLE imports (                    -- old journal.jsonl files already read, and how far
    source TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

FTS_DDL = ("CREATE VIRTUAL TABLE tasks_fts USING fts5(prompt, "
           "tokenize = 'unicode61 remove_diacritics 2')")

def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def _run_script(con: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT first; statements one by one stay in our transaction.
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            con.execute(statement)
            statement = ""


# v2: a person can say they have looked for an unresolved create's task; the attempt stays.
_V2 = "ALTER TABLE submits ADD COLUMN dismissed_at TEXT;\n"

MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: lambda con: _run_script(con, _V1),
    2: lambda con: _run_script(con, _V2),
}


def read_as_current(con: sqlite3.Connection, version: int) -> None:
    """Let a file of an older schema that cannot be migrated (a read-only folder) be read by
    today's queries: temp views, shaped like today's tables, shadow the old ones."""
    if version < 2:
        con.execute("CREATE TEMP VIEW submits AS "
                    "SELECT *, NULL AS dismissed_at FROM main.submits")


def current_version(con: sqlite3.Connection) -> int:
    row = con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                      "name = 'schema_version'").fetchone()
    if row is None:
        return 0
    value = con.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    return int(value or 0)


def newer_schema_error(path: Path, version: int) -> HistoryError:
    return HistoryError(
        f"{path} was written by a newer seedance-widgets (history schema {version}; this "
        f"version reads up to {SCHEMA_VERSION}); nothing was changed. Upgrade seedance-widgets "
        "(pip install -U seedance-widgets), or set SEEDANCE_WIDGETS_HOME to another folder",
        kind="newer-schema", path=str(path))


def migrate(con: sqlite3.Connection, path: Path) -> None:
    """Bring the file up to SCHEMA_VERSION; the caller holds a write transaction."""
    version = current_version(con)
    if version > SCHEMA_VERSION:
        raise newer_schema_error(path, version)
    if version == 0:
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                    "applied_at TEXT NOT NULL)")
    for target in range(version + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[target](con)
        con.execute("INSERT INTO schema_version VALUES (?, ?)", (target, now()))


def build_has_fts5() -> bool:
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def fts_state(con: sqlite3.Connection) -> tuple[bool, bool]:
    """(the file has the FTS table, the index is marked stale)."""
    has = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'tasks_fts'").fetchone()
    stale = con.execute("SELECT value FROM settings WHERE key = 'fts_stale'").fetchone()
    return has is not None, stale is not None and stale[0] == "1"


def rebuild_fts(con: sqlite3.Connection) -> None:
    """Create (if needed) and refill the index; the caller holds a write transaction."""
    has, _ = fts_state(con)
    if not has:
        con.execute(FTS_DDL)
    con.execute("DELETE FROM tasks_fts")
    con.execute("INSERT INTO tasks_fts(rowid, prompt) SELECT n, prompt FROM tasks")
    con.execute("DELETE FROM settings WHERE key = 'fts_stale'")
