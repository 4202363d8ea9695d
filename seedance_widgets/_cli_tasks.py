"""`seedance-widgets tasks`: the task history from the command line, newest first.

Creates that may have made a task the list cannot show (sent, never answered) come first,
because each may be a paid task: the user should look for it before submitting again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from typing import Any

from ._catalog import OPERATIONS, default_catalog
from ._home import DEMO_SERVER
from .history import STATUS_FILTERS, History, HistoryEntry, SubmitRecord
from .history._query import MAX_PAGE

PROMPT_WIDTH = 50
DEFAULT_LIMIT = 50
SHOWN_ID = 8  # characters of an attempt id shown beside an unresolved create
MIN_PREFIX = 6


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("tasks", help="list the task history, newest first",
                       description="List the task history, newest first. Filters combine.")
    p.add_argument("--status", choices=STATUS_FILTERS, help="only tasks in this state")
    p.add_argument("--model", choices=default_catalog().ids(), help="only this model")
    p.add_argument("--operation", choices=OPERATIONS, help="only this workflow")
    p.add_argument("--search", metavar="TEXT",
                   help="only prompts with every word of TEXT (prefixes match: fox → foxes)")
    p.add_argument("--starred", action="store_true", help="only starred tasks")
    p.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                   help="show at most N tasks (default %(default)s)")
    p.add_argument("--dismiss", action="append", metavar="ID",
                   help="stop listing an unresolved create once you have looked for its task: "
                        "the ID shown beside it (a prefix of 6+ characters will do), or 'all'. "
                        "Its record stays in the history. May be repeated.")
    p.set_defaults(func=cmd_tasks)


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


def _short(text: str, width: int = PROMPT_WIDTH) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _cost(entry: HistoryEntry) -> str:
    if entry.server == DEMO_SERVER:
        return "demo"
    return f"${entry.cost_usd:.2f}" if entry.cost_usd is not None else "—"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1]
            for r in rows]


def _unresolved(submits: list[SubmitRecord], out: list[str]) -> None:
    out.append(f"{len(submits)} create request(s) were sent but never clearly answered, so the "
               "server may have made (and charged) tasks that are not listed below. Look for "
               "them before submitting the same request again:")
    for s in submits[-10:]:
        why = f"ambiguous: {s.cause}" if s.outcome == "ambiguous" and s.cause else \
            "no answer recorded" if s.outcome == "in_flight" else s.outcome
        out.append(f"  {s.attempt[:SHOWN_ID]}  sent {_when(s.sent_at)}  on {s.server}  ({why})  "
                   f"fingerprint {s.fingerprint}  {_short(s.prompt, 40)}")
    if len(submits) > 10:
        out.append(f"  … and {len(submits) - 10} earlier")
    out.append("Once you have looked for one, `seedance-widgets tasks --dismiss ID` (or "
               "`--dismiss all`) stops listing it; its record stays.")
    out.append("")


def _to_dismiss(wanted: Sequence[str], unresolved: list[SubmitRecord]) -> list[str] | str:
    """The attempt ids the user named, or a one-line reason none is dismissed."""
    if any(w.strip().lower() == "all" for w in wanted):
        return [s.attempt for s in unresolved]
    known = ", ".join(s.attempt[:SHOWN_ID] for s in unresolved) or "none"
    chosen: list[str] = []
    for raw in wanted:
        w = raw.strip().lower()
        if len(w) < MIN_PREFIX:
            return (f"--dismiss {raw!r}: give at least {MIN_PREFIX} characters of the ID shown "
                    f"beside an unresolved create (unresolved now: {known}), or 'all'")
        hits = [s.attempt for s in unresolved if s.attempt.startswith(w)]
        if len(hits) != 1:
            what = f"{len(hits)} unresolved creates have" if hits else "no unresolved create has"
            return f"--dismiss {raw!r}: {what} that ID (unresolved now: {known})"
        chosen += hits
    return chosen


def _newest(history: History, limit: int, filters: dict[str, Any]) -> list[HistoryEntry]:
    out: list[HistoryEntry] = []
    cursor = None
    while len(out) < limit:
        page = history.page(min(limit - len(out), MAX_PAGE), cursor, **filters)
        out += page.entries
        cursor = page.next_cursor
        if cursor is None:
            break
    return out


def cmd_tasks(a: argparse.Namespace) -> int:
    if a.limit < 1:
        print(f"error: --limit must be a positive integer, got {a.limit}", file=sys.stderr)
        return 2
    history = History()
    if not history.available:
        print(history.problem, file=sys.stderr)
        if not history.readable:
            return 1
    filters = {"status": a.status, "model": a.model, "operation": a.operation,
               "search": a.search, "starred": True if a.starred else None}
    entries = _newest(history, a.limit, filters)
    total = history.count(**filters)
    out: list[str] = []
    unresolved = history.unresolved_submits()
    if a.dismiss and not history.available:
        print("error: --dismiss needs a history it can write to", file=sys.stderr)
        return 1
    if a.dismiss:
        chosen = _to_dismiss(a.dismiss, unresolved)
        if isinstance(chosen, str):
            print(f"error: {chosen}", file=sys.stderr)
            return 2
        done = history.dismiss_submits(chosen)
        out.append(f"dismissed {done} unresolved create(s); their records stay in the history")
        unresolved = history.unresolved_submits()
    if unresolved:
        _unresolved(unresolved, out)
    filtered = any(v is not None for v in filters.values())
    if not entries:
        out.append(f"no {'matching tasks' if filtered else 'tasks yet'} (history: "
                   f"{history.path})")
    else:
        rows = [("ID", "TIME", "STATUS", "MODEL", "OPERATION", "COST", "PROMPT")]
        rows += [(e.id, _when(e.created_at), e.display_status, e.model, e.operation, _cost(e),
                  _short(e.prompt or (e.local_path or ""))) for e in entries]
        out += _table(rows)
        more = f"; --limit {total} shows all" if total > len(entries) else ""
        out.append(f"{len(entries):,} of {total:,} {'matching ' if filtered else ''}"
                   f"task(s), newest first (history: {history.path}){more}")
    print("\n".join(out))
    return 0
