"""`History`: every task ever created, kept in one SQLite file that any process can share.

The client records a create in two durable steps (the intent before the POST, the answer as
soon as it arrives), then merges status snapshots as it polls. The widgets and the CLI read it
in pages. See the package docstring for the file layout.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import HistoryError
from .._home import data_dir
from . import _query as q
from ._blobs import BlobStore, has_references
from ._connection import Database
from ._entry import HistoryEntry, HistoryPage, SubmitRecord
from ._import_jsonl import ImportReport, import_journal
from ._schema import now
from ._writes import insert_submit, insert_task, merge_snapshot, settle_submit

if TYPE_CHECKING:
    from .._task import Task

log = logging.getLogger("seedance_widgets")
FILE_NAME = "history.sqlite3"
OLD_JOURNAL = "journal.jsonl"
DEFAULT_TIMEOUT_S = 5.0


def _paths(path: str | os.PathLike[str] | None) -> tuple[Path, Path]:
    """(database, old journal to import). A `.jsonl` path names an old journal: the
    database is the `.sqlite3` beside it."""
    if path is None:
        home = data_dir().absolute()
        return home / FILE_NAME, home / OLD_JOURNAL
    p = Path(path).expanduser().absolute()
    if p.suffix == ".jsonl":
        return p.with_suffix(".sqlite3"), p
    return p, p.parent / OLD_JOURNAL


def _iso(value: dt.datetime | str | None) -> str:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    return value or now()


class History:
    """The task history at `$SEEDANCE_WIDGETS_HOME/history.sqlite3` (or `path`).

    Construction never raises for I/O: when the history cannot be kept, `available` is False
    and `problem` says why in one line; the client then runs without recording. A corrupt file
    or one from a newer version is never reset: its reads and writes raise HistoryError.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.path, self.journal_path = _paths(path)
        self.blobs = BlobStore(self.path.parent / "blobs")
        self.last_import: ImportReport | None = None
        self._db = Database(self.path, timeout=timeout, prepare=self._import_old_journal)

    def _import_old_journal(self, db: Database) -> None:
        # The journal is kept and the import is idempotent: a failed one is tried again at
        # the next open, and the history works meanwhile.
        try:
            self.last_import = import_journal(db, self.blobs, self.journal_path)
        except (HistoryError, OSError) as exc:
            log.warning("could not import %s yet (%s); it is kept, and the import is tried "
                        "again next time the history opens", self.journal_path, exc)

    def __repr__(self) -> str:
        state = "on" if self.available else "off"
        return f"History({str(self.path)!r}, {state})"

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @property
    def available(self) -> bool:
        """True when new tasks are recorded."""
        return self._db.mode == "rw"

    @property
    def readable(self) -> bool:
        """True when earlier tasks can be read, even if new ones are not recorded."""
        return self._db.readable or (self._db.mode == "off" and not self.path.exists())

    @property
    def problem(self) -> str | None:
        """One plain line: why history is off, or why the last write failed; else None."""
        return self._db.problem

    @property
    def full_text_search(self) -> bool:
        """True when search uses SQLite's FTS5 index (else a LIKE scan)."""
        return self._db.fts

    # ------------------------------------------------------------------ create path
    def submitting(self, *, attempt: str, server: str, request: dict[str, Any],
                   fingerprint: str) -> None:
        """Durably note a create about to be sent (before the POST): if the process dies while
        it is in the air, this is what lets the user find the task the server may have made."""
        with self._db.failures():
            light = self.blobs.externalize(request, durable=True)
        with self._db.writing(durable=True) as con:
            insert_submit(con, attempt=attempt, server=server, sent_at=now(), request=light,
                          fingerprint=fingerprint)

    def created(self, task: Task, *, attempt: str | None, server: str,
                request: dict[str, Any], fingerprint: str) -> None:
        """Durably record the create's answer; raises HistoryError when it cannot."""
        with self._db.failures():
            light = self.blobs.externalize(request, durable=True)
        at = now()
        with self._db.writing(durable=True) as con:
            insert_task(con, task_id=task.id, server=server, created_at=at, request=light,
                        fingerprint=fingerprint, attempt=attempt, status=task.status,
                        model=task.model, fts=self._db.fts)
            merge_snapshot(con, task.id, _snapshot(task), at=at)
            if attempt:
                insert_submit(con, attempt=attempt, server=server, sent_at=at, request=light,
                              fingerprint=fingerprint)
                settle_submit(con, attempt, "created", at=at, task_id=task.id)

    def refused(self, attempt: str, status_code: int) -> None:
        """The server answered the create with a 4xx: no task was made."""
        with self._db.writing(durable=False) as con:
            settle_submit(con, attempt, "refused", at=now(), status_code=status_code)

    def never_sent(self, attempt: str) -> None:
        """No connection was ever made for the create: it cannot have reached the server."""
        with self._db.writing(durable=False) as con:
            settle_submit(con, attempt, "never_sent", at=now())

    def ambiguous(self, *, server: str, request: dict[str, Any], fingerprint: str,
                  sent_at: dt.datetime | str, cause: str, attempt: str | None = None) -> None:
        """The create may or may not have reached the server; durable, it is the user's lead."""
        attempt = attempt or uuid.uuid4().hex
        with self._db.failures():
            light = self.blobs.externalize(request, durable=True)
        at = now()
        with self._db.writing(durable=True) as con:
            insert_submit(con, attempt=attempt, server=server, sent_at=_iso(sent_at),
                          request=light, fingerprint=fingerprint, outcome="ambiguous",
                          cause=cause)
            settle_submit(con, attempt, "ambiguous", at=at, cause=cause)

    # ------------------------------------------------------------------ snapshots
    def record(self, task: Task, *, server: str | None = None) -> None:
        """Merge a status snapshot. A task the history does not know is added when `server`
        is given (a task created elsewhere and followed here), else ignored."""
        at = now()
        with self._db.writing(durable=False) as con:
            if not merge_snapshot(con, task.id, _snapshot(task), at=at) and server:
                body = task.request.to_body() if task.request is not None else None
                insert_task(con, task_id=task.id, server=server, created_at=at,
                            request=body and self.blobs.externalize(body, durable=False),
                            fingerprint=task.request.fingerprint() if task.request else None,
                            attempt=None, status=task.status, model=task.model,
                            fts=self._db.fts)
                merge_snapshot(con, task.id, _snapshot(task), at=at)

    def set_local_path(self, task_id: str, path: str | os.PathLike[str],
                       sha256: str | None = None) -> None:
        with self._db.writing(durable=False) as con:
            merge_snapshot(con, task_id, {"local_path": str(path), "sha256": sha256}, at=now())

    # ------------------------------------------------------------------ reads
    def get(self, task_id: str) -> HistoryEntry | None:
        return self._db.read(lambda con: q.get(con, task_id), None)

    def page(self, limit: int = 24, cursor: str | None = None, *,
             status: str | Sequence[str] | None = None, model: str | None = None,
             operation: str | None = None, starred: bool | None = None,
             search: str | None = None, server: str | None = None, tag: str | None = None
             ) -> HistoryPage:
        """Up to `limit` entries, newest first, matching every filter given; pass
        `page.next_cursor` back as `cursor` for the next (older) page."""
        f = q.Filters(status, model, operation, starred, search, server, tag)
        return self._db.read(
            lambda con: q.page(con, f, limit=limit, cursor=cursor, fts=self._db.fts),
            HistoryPage(()))

    def count(self, *, status: str | Sequence[str] | None = None, model: str | None = None,
              operation: str | None = None, starred: bool | None = None,
              search: str | None = None, server: str | None = None, tag: str | None = None
              ) -> int:
        f = q.Filters(status, model, operation, starred, search, server, tag)
        return self._db.read(lambda con: q.count(con, f, fts=self._db.fts), 0)

    def entries(self) -> list[HistoryEntry]:
        """Every task, oldest first, with its latest known state."""
        return self._db.read(q.entries, [])

    def unfinished(self, server: str | None = None) -> list[HistoryEntry]:
        """Tasks not yet in a terminal state (of one server, when given), oldest first."""
        return self._db.read(lambda con: q.unfinished(con, server), [])

    def submits(self, outcome: str | Sequence[str] | None = None) -> list[SubmitRecord]:
        """Create attempts in the order they were sent, optionally of some outcomes."""
        wanted = [outcome] if isinstance(outcome, str) else outcome
        return self._db.read(lambda con: q.submits(con, wanted), [])

    def ambiguous_submits(self) -> list[SubmitRecord]:
        return self.submits("ambiguous")

    def unresolved_submits(self, min_age_s: float = 60.0) -> list[SubmitRecord]:
        """Creates that may have made a task the history does not list: every ambiguous
        attempt, and attempts still in flight after `min_age_s` (the process died, or the
        answer could not be recorded). Refused and never-sent creates are not among them."""
        return self._db.read(lambda con: q.unresolved(con, min_age_s), [])

    def dismiss_submits(self, attempts: Sequence[str]) -> int:
        """Stop listing these unresolved creates, once their possible task has been looked
        for. The attempts stay in `submits()` with `dismissed_at` set; a created, refused or
        never-sent attempt is left as it is. Returns how many were dismissed."""
        if isinstance(attempts, str) or not all(isinstance(a, str) for a in attempts):
            raise TypeError("attempts must be a list of attempt ids, e.g. [record.attempt]")
        at = now()
        with self._db.writing(durable=False) as con:
            return sum(con.execute(
                "UPDATE submits SET dismissed_at = ? WHERE attempt = ? AND dismissed_at IS NULL "
                "AND outcome IN ('ambiguous', 'in_flight')", (at, a)).rowcount for a in attempts)

    def full_request(self, task: str | HistoryEntry) -> dict[str, Any] | None:
        """The create body exactly as sent, inline images restored, for a re-run (None when
        the task is not in the history)."""
        entry = self.get(task) if isinstance(task, str) else task
        if entry is None:
            return None
        if not has_references(entry.request):
            return dict(entry.request)
        with self._db.failures():
            return self.blobs.restore(entry.request)

    # ------------------------------------------------------------------ user metadata
    def star(self, task_id: str, starred: bool = True) -> None:
        self._meta(task_id, "starred", 1 if starred else 0)

    def set_note(self, task_id: str, note: str) -> None:
        if not isinstance(note, str):
            raise TypeError(f"note must be a str, got {type(note).__name__}")
        self._meta(task_id, "note", note)

    def set_tags(self, task_id: str, tags: Sequence[str]) -> None:
        """Replace the task's tags (blank ones dropped, duplicates folded)."""
        if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
            raise TypeError("tags must be a list of strings, e.g. ['keeper', 'fox']")
        clean = sorted({t.strip() for t in tags if t.strip()})
        with self._db.writing(durable=False) as con:
            self._require_task(con, task_id)
            con.execute("DELETE FROM task_tags WHERE task_id = ?", (task_id,))
            con.executemany("INSERT INTO task_tags VALUES (?, ?)", [(task_id, t) for t in clean])

    def _meta(self, task_id: str, column: str, value: Any) -> None:
        with self._db.writing(durable=False) as con:
            self._require_task(con, task_id)
            con.execute(f"INSERT INTO task_meta (task_id, {column}, updated_at) VALUES (?, ?, ?) "
                        f"ON CONFLICT(task_id) DO UPDATE SET {column} = excluded.{column}, "
                        "updated_at = excluded.updated_at", (task_id, value, now()))

    def _require_task(self, con: Any, task_id: str) -> None:
        if con.execute("SELECT 1 FROM tasks WHERE id = ?", (task_id,)).fetchone() is None:
            raise HistoryError(f"no task {task_id!r} in the history ({self.path})",
                               kind="missing", path=str(self.path))


def _snapshot(task: Task) -> dict[str, Any]:
    return {"status": task.status, "progress": task.progress, "video_url": task.video_url,
            "last_frame_url": task.last_frame_url,
            "error": task.error.message if task.error else None,
            "cancelled": task.cancelled, "cost_usd": task.cost_usd,
            "billing_transaction_id": task.billing_transaction_id}

