"""Bringing an old `journal.jsonl` into the history, without losing anything it could read.

The import runs when a History opens and the journal has bytes it has not read yet: the first
time, all of it; if an older seedance-widgets appended since, only the new tail (an append
always starts where the file ended, even after a torn line). The file is kept. Applying a
record twice changes nothing, and an older record never overwrites newer state, so the import
is idempotent even if it is cut short or the file is replaced.

A line that cannot be used is skipped and counted, and one warning sums them up: torn lines
(cut by a killed writer), garbage, records of the wrong shape or types. A record appended to a
torn line (the old journal wrote it onto the same line) is recovered.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._task import TERMINAL_STATES
from ._blobs import BlobStore
from ._connection import Database
from ._entry import parse_time
from ._schema import now
from ._writes import SNAPSHOT_FIELDS, insert_submit, insert_task, merge_snapshot, settle_submit

log = logging.getLogger("seedance_widgets")

_EVENTS = ("created", "update", "submitting", "ambiguous")
_REQUIRED = {"created": ("id", "t"), "update": ("id", "t"), "submitting": ("attempt", "t"),
             "ambiguous": ("t",)}
_STR = ("id", "server", "fingerprint", "status", "attempt", "t", "video_url", "last_frame_url",
        "local_path", "error", "cause", "sent_at", "billing_transaction_id", "sha256")
_DECODER = json.JSONDecoder()


@dataclass
class ImportReport:
    source: Path
    tasks: int = 0
    records: int = 0
    salvaged: int = 0
    orphans: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        text = f"imported {self.tasks} task(s) from {self.source} (the file is kept)"
        if self.skipped:
            parts = ", ".join(f"{n} {why}" for why, n in self.skipped.most_common())
            text += f"; skipped {sum(self.skipped.values())} unreadable line(s): {parts}"
        if self.salvaged:
            text += f"; recovered {self.salvaged} record(s) written onto a torn line"
        if self.orphans:
            text += f"; ignored the updates of {self.orphans} task(s) it never created"
        return text


def _type_problem(rec: dict[str, Any]) -> bool:
    for key in _STR:
        if rec.get(key) is not None and not isinstance(rec[key], str):
            return True
    if rec.get("request") is not None and not isinstance(rec["request"], dict):
        return True
    progress, cost = rec.get("progress"), rec.get("cost_usd")
    if progress is not None and (isinstance(progress, bool) or not isinstance(progress, int)):
        return True
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float)):
        return True
    if rec.get("cancelled") is not None and not isinstance(rec["cancelled"], bool):
        return True
    if any(not rec.get(k) for k in _REQUIRED[rec["event"]]):
        return True
    moment = parse_time(rec["t"])
    if moment is None:
        return True
    rec["t"] = moment.isoformat(timespec="milliseconds")  # one spelling, for comparisons
    return False


def _salvage(line: str) -> dict[str, Any] | None:
    """A whole record that starts after a torn prefix on the same line."""
    start = line.find('{"event"', 1)
    while start != -1:
        try:
            rec, end = _DECODER.raw_decode(line, start)
        except ValueError:
            rec, end = None, -1
        if isinstance(rec, dict) and not line[end:].strip():
            return rec
        start = line.find('{"event"', start + 1)
    return None


def parse(data: bytes, report: ImportReport) -> list[tuple[dict[str, Any], str]]:
    """Usable records (with their line, for stable ids) in file order; the rest counted."""
    out: list[tuple[dict[str, Any], str]] = []
    for raw in data.splitlines():
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            continue
        try:
            rec: Any = json.loads(line)
        except ValueError:
            rec = _salvage(line)
            report.skipped["torn" if line.startswith("{") else "not JSON"] += 1
            if rec is None:
                continue
            report.salvaged += 1
        if not isinstance(rec, dict):
            report.skipped["not a record"] += 1
        elif rec.get("event") not in _EVENTS:
            report.skipped["of an unknown kind"] += 1
        elif _type_problem(rec):
            report.skipped["with wrong types or missing fields"] += 1
        else:
            out.append((rec, line))
    return out


def _apply(con: Any, rec: dict[str, Any], line: str, blobs: BlobStore, fts: bool,
           report: ImportReport) -> None:
    event, at = rec["event"], rec["t"]
    request = blobs.externalize(rec["request"], durable=True) if rec.get("request") else None
    server = rec.get("server") or ""
    if event == "created":
        if insert_task(con, task_id=rec["id"], server=server, created_at=at, request=request,
                       fingerprint=rec.get("fingerprint"), attempt=rec.get("attempt"),
                       status=rec.get("status") or "pending", model=None, fts=fts):
            report.tasks += 1
        if rec.get("attempt"):
            insert_submit(con, attempt=rec["attempt"], server=server, sent_at=at,
                          request=request, fingerprint=rec.get("fingerprint"))
            settle_submit(con, rec["attempt"], "created", at=at, task_id=rec["id"])
    elif event == "submitting":
        insert_submit(con, attempt=rec["attempt"], server=server, sent_at=at, request=request,
                      fingerprint=rec.get("fingerprint"))
    else:  # ambiguous; older journals wrote it without an attempt id
        attempt = rec.get("attempt") or "import-" + hashlib.sha256(line.encode()).hexdigest()[:24]
        sent = parse_time(rec.get("sent_at"))
        insert_submit(con, attempt=attempt, server=server,
                      sent_at=sent.isoformat(timespec="milliseconds") if sent else at,
                      request=request, fingerprint=rec.get("fingerprint"), outcome="ambiguous",
                      cause=rec.get("cause"))
        settle_submit(con, attempt, "ambiguous", at=at, cause=rec.get("cause"))
    report.records += 1


def _fold(pending: dict[str, tuple[dict[str, Any], str]], rec: dict[str, Any]) -> None:
    """Fold an update into the task's pending changes, by the rules `merge_snapshot` applies
    to the stored row: one write per task instead of one per line."""
    changes, _ = pending.get(rec["id"], ({}, rec["t"]))
    new = {k: rec[k] for k in SNAPSHOT_FIELDS if rec.get(k) is not None}
    if changes.get("status") in TERMINAL_STATES and \
            new.get("status", changes["status"]) not in TERMINAL_STATES:
        return
    if changes.get("cancelled"):
        new["cancelled"] = True
    changes.update(new)
    pending[rec["id"]] = (changes, rec["t"])


def import_journal(db: Database, blobs: BlobStore, source: Path) -> ImportReport | None:
    """Import what `source` holds beyond what was imported before; None when nothing is new."""
    try:
        size = source.stat().st_size
    except OSError:
        return None
    key = str(source.resolve())
    con = db.connection()
    row = con.execute("SELECT size FROM imports WHERE source = ?", (key,)).fetchone()
    done = row[0] if row else None
    if done == size:
        return None
    start = done if done is not None and done < size else 0  # smaller: a replaced file
    with source.open("rb") as fh:
        fh.seek(start)
        data = fh.read(size - start)
    report = ImportReport(source)
    records = parse(data, report)
    with db.writing(durable=True, opening=True) as tx:
        again = tx.execute("SELECT size FROM imports WHERE source = ?", (key,)).fetchone()
        if again is not None and again[0] != done:
            return None  # another process imported it meanwhile
        pending: dict[str, tuple[dict[str, Any], str]] = {}
        for rec, line in records:
            if rec["event"] == "update":
                _fold(pending, rec)
                report.records += 1
            else:
                _apply(tx, rec, line, blobs, db.fts, report)
        for task_id, (changes, at) in pending.items():
            if not merge_snapshot(tx, task_id, changes, at=at, only_if_newer=True):
                report.orphans += 1  # the old journal ignored these too
        tx.execute("INSERT INTO imports VALUES (?, ?, ?) ON CONFLICT(source) DO UPDATE SET "
                   "size = excluded.size, imported_at = excluded.imported_at",
                   (key, size, now()))
    if report.skipped:
        log.warning("%s", report.summary())
    elif report.records:
        log.info("%s", report.summary())
    return report
