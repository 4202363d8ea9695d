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
        out.append(f"  sent {_when(s.sent_at)}  on {s.server}  ({why})  fingerprint "
                   f"{s.fingerprint}  {_short(s.prompt, 40)}")
    if len(submits) > 10:
        out.append(f"  … and {len(submits) - 10} earlier")
    out.append("")


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
