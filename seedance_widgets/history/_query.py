"""Reading the history: filters turned into SQL, pages newest first, counts, create attempts.

Every function takes an open connection; `History` owns the connections and the locking.
Pages use a keyset cursor on the insertion order, so page N costs the same as page 1.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .._task import KNOWN_STATES, TERMINAL_STATES
from ._entry import SUBMIT_COLUMNS, TASK_COLUMNS, HistoryEntry, HistoryPage, SubmitRecord

# What `status=` filters on: the word a person sees (display_status), so "cancelled" works.
STATUS_FILTERS = (*sorted(KNOWN_STATES), "cancelled")
MAX_PAGE = 1000
_SELECT = ("SELECT " + ", ".join(f"t.{c}" for c in TASK_COLUMNS)
           + ", m.starred, m.note, t.n FROM tasks t LEFT JOIN task_meta m ON m.task_id = t.id")
_TERMINAL = tuple(sorted(TERMINAL_STATES))
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Filters:
    status: str | Sequence[str] | None = None
    model: str | None = None
    operation: str | None = None
    starred: bool | None = None
    search: str | None = None
    server: str | None = None
    tag: str | None = None


def _statuses(value: str | Sequence[str]) -> list[str]:
    wanted = [value] if isinstance(value, str) else list(value)
    for s in wanted:
        if s not in STATUS_FILTERS:
            raise ValueError(f"status {s!r} is not a task status; allowed: "
                             f"{', '.join(STATUS_FILTERS)}")
    return wanted


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def fts_query(text: str) -> str:
    """User text as an FTS5 query: every word must appear, each as a prefix (fox → foxes)."""
    return " ".join('"' + tok.replace('"', '""') + '"*'
                    for tok in text.split() if _WORD.search(tok))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def where(f: Filters, *, fts: bool) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if f.status is not None:
        wanted = _statuses(f.status)
        clauses.append(f"t.shown_status IN ({_marks(len(wanted))})")
        args += wanted
    for column, value in (("model", f.model), ("operation", f.operation),
                          ("server", f.server)):
        if value is not None:
            clauses.append(f"t.{column} = ?")
            args.append(value)
    if f.starred is not None:
        clauses.append(("t.id IN" if f.starred else "t.id NOT IN") +
                       " (SELECT task_id FROM task_meta WHERE starred = 1)")
    if f.tag is not None:
        clauses.append("t.id IN (SELECT task_id FROM task_tags WHERE tag = ?)")
        args.append(f.tag)
    if f.search and f.search.strip():
        words = f.search.split()
        query = fts_query(f.search) if fts else ""
        if query:
            clauses.append("t.n IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ?)")
            args.append(query)
        # Without FTS5 every word is a LIKE; with it, only what the index cannot see
        # (words of punctuation alone).
        for word in words if not query else [w for w in words if not _WORD.search(w)]:
            clauses.append("t.prompt LIKE ? ESCAPE '\\'")
            args.append(_like(word))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def _tags(con: sqlite3.Connection, ids: Sequence[str] | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    if ids is None:
        rows = con.execute("SELECT task_id, tag FROM task_tags ORDER BY task_id, tag")
    elif not ids:
        return out
    else:
        rows = con.execute(f"SELECT task_id, tag FROM task_tags WHERE task_id IN "
                           f"({_marks(len(ids))}) ORDER BY tag", list(ids))
    for task_id, tag in rows:
        out[task_id].append(tag)
    return out


def _entries(con: sqlite3.Connection, rows: list[Any], *, all_tags: bool = False
             ) -> list[HistoryEntry]:
    width = len(TASK_COLUMNS)
    tags = _tags(con, None if all_tags else [r[0] for r in rows])
    return [HistoryEntry.from_row(r[:width], starred=r[width], note=r[width + 1],
                                  tags=tags.get(r[0], ())) for r in rows]


def parse_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not isinstance(cursor, str) or not cursor.isdigit():
        raise ValueError(f"cursor {cursor!r} did not come from History.page(); pass "
                         "page.next_cursor, or None for the newest page")
    return int(cursor)


def page(con: sqlite3.Connection, f: Filters, *, limit: int, cursor: str | None, fts: bool
         ) -> HistoryPage:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be an integer from 1 to {MAX_PAGE}, got {limit!r}")
    after = parse_cursor(cursor)
    sql, args = where(f, fts=fts)
    if after is not None:
        sql += (" AND " if sql else " WHERE ") + "t.n < ?"
        args.append(after)
    rows = con.execute(f"{_SELECT}{sql} ORDER BY t.n DESC LIMIT ?", [*args, limit + 1]
                       ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = str(rows[-1][-1]) if more and rows else None
    return HistoryPage(tuple(_entries(con, rows)), next_cursor)


def count(con: sqlite3.Connection, f: Filters, *, fts: bool) -> int:
    sql, args = where(f, fts=fts)
    return int(con.execute("SELECT count(*) FROM tasks t LEFT JOIN task_meta m "
                           f"ON m.task_id = t.id{sql}", args).fetchone()[0])


def get(con: sqlite3.Connection, task_id: str) -> HistoryEntry | None:
    rows = con.execute(f"{_SELECT} WHERE t.id = ?", (task_id,)).fetchall()
    return _entries(con, rows)[0] if rows else None


def entries(con: sqlite3.Connection) -> list[HistoryEntry]:
    rows = con.execute(f"{_SELECT} ORDER BY t.n").fetchall()
    return _entries(con, rows, all_tags=True)


def unfinished(con: sqlite3.Connection, server: str | None) -> list[HistoryEntry]:
    sql = f"{_SELECT} WHERE t.status NOT IN ({_marks(len(_TERMINAL))})"
    args: list[Any] = list(_TERMINAL)
    if server is not None:
        sql += " AND t.server = ?"
        args.append(server)
    return _entries(con, con.execute(sql + " ORDER BY t.n", args).fetchall())


def submits(con: sqlite3.Connection, outcomes: Iterable[str] | None = None
            ) -> list[SubmitRecord]:
    sql = f"SELECT {', '.join(SUBMIT_COLUMNS)} FROM submits"
    args: list[Any] = []
    if outcomes is not None:
        wanted = list(outcomes)
        sql += f" WHERE outcome IN ({_marks(len(wanted))})"
        args = wanted
    return [SubmitRecord.from_row(r) for r in con.execute(sql + " ORDER BY sent_at, rowid", args)]


def unresolved(con: sqlite3.Connection, min_age_s: float) -> list[SubmitRecord]:
    """Ambiguous attempts at once; in-flight ones once they are older than `min_age_s`, since
    a younger one may still be waiting for its answer in another process. Dismissed ones (the
    user looked for their task) are left out."""
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=min_age_s)
              ).isoformat(timespec="milliseconds")
    rows = con.execute(f"SELECT {', '.join(SUBMIT_COLUMNS)} FROM submits WHERE "
                       "dismissed_at IS NULL AND (outcome = 'ambiguous' OR "
                       "(outcome = 'in_flight' AND sent_at <= ?)) "
                       "ORDER BY sent_at, rowid", (cutoff,))
    return [SubmitRecord.from_row(r) for r in rows]
