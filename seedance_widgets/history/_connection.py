"""The database file: opening it safely, one connection per thread, and write transactions.

Opening never raises for I/O. It ends in one of four modes:
- `rw`: the history is kept;
- `ro`: the folder or file is read-only (or the disk is full, or it stayed locked): earlier
  tasks can be read, new ones are not recorded;
- `off`: nothing can be opened (and reads find nothing, when there is no file);
- `broken`: the file is corrupt or from a newer schema: reads and writes raise HistoryError,
  and the file is never touched.

Write transactions start with BEGIN IMMEDIATE, so two processes never deadlock upgrading a
read lock; WAL lets readers run beside the single writer, and a busy timeout makes writers
queue instead of failing. Writers of one process also queue on a lock, so the busy timeout is
only ever spent waiting for other processes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from .._errors import HistoryError
from ._problems import history_error
from ._schema import (
    SCHEMA_VERSION,
    build_has_fts5,
    current_version,
    fts_state,
    migrate,
    newer_schema_error,
    read_as_current,
    rebuild_fts,
)

T = TypeVar("T")
_HAS_FTS5: bool | None = None


def has_fts5() -> bool:
    global _HAS_FTS5
    if _HAS_FTS5 is None:
        _HAS_FTS5 = build_has_fts5()
    return _HAS_FTS5


def _writable(path: Path) -> bool:
    folder_ok = os.access(path.parent, os.W_OK | os.X_OK)
    return folder_ok and (not path.exists() or os.access(path, os.W_OK))


class Database:
    """The SQLite file behind a History; see the module docstring for its modes."""

    def __init__(self, path: Path, *, timeout: float,
                 prepare: Callable[[Database], None]) -> None:
        self.path = path
        self.timeout = timeout
        self.mode = "off"
        self.error: HistoryError | None = None
        self.write_problem: str | None = None
        self.fts = False
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._open(prepare)

    # ------------------------------------------------------------------ opening
    def _open(self, prepare: Callable[[Database], None]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not _writable(self.path):
                where = self.path if os.access(self.path.parent, os.W_OK) else self.path.parent
                raise PermissionError(errno.EACCES, "read-only", str(where))
            con = self.connection()
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                con.execute("PRAGMA journal_mode=WAL")
            version = current_version(con)
            if version > SCHEMA_VERSION:
                raise newer_schema_error(self.path, version)
            if version < SCHEMA_VERSION:
                with self.writing(durable=True, opening=True) as tx:
                    migrate(tx, self.path)
            self._ensure_fts(con)
            self.mode = "rw"
            prepare(self)
        except (sqlite3.Error, OSError, HistoryError) as exc:
            self.close()
            self.mode = "off"
            self._fail(history_error(exc, self.path))

    def _ensure_fts(self, con: sqlite3.Connection) -> None:
        table, stale = fts_state(con)
        if has_fts5() and (stale or not table):
            with self.writing(durable=False, opening=True) as tx:
                rebuild_fts(tx)
            table = True
        self.fts = has_fts5() and table

    def _fail(self, err: HistoryError) -> None:
        self.error = err
        if err.kind in ("corrupt", "newer-schema"):
            self.mode = "broken"
            return
        if self.path.exists() and self._open_read_only():
            self.mode = "ro"
            self.error = HistoryError(f"{err.message}; earlier tasks can still be read",
                                      kind=err.kind, path=err.path)

    def _open_read_only(self) -> bool:
        try:
            con = self._connect_read_only()
        except HistoryError as exc:
            if exc.kind in ("corrupt", "newer-schema"):
                self.error, self.mode = exc, "broken"
            return False
        table, _ = fts_state(con)
        self.fts = table and has_fts5()
        self._adopt(con)
        return True

    def _connect_read_only(self) -> sqlite3.Connection:
        # A WAL file in a read-only folder cannot get its -shm beside it; `immutable` reads
        # the file as it is, which is right when nobody can write there either.
        uri = self.path.resolve().as_uri()
        last: BaseException | None = None
        for query in ("mode=ro", "immutable=1"):
            try:
                con = sqlite3.connect(f"{uri}?{query}", uri=True, timeout=self.timeout,
                                      isolation_level=None, check_same_thread=False)
                version = current_version(con)
            except sqlite3.Error as exc:
                last = exc
                if history_error(exc, self.path).kind == "corrupt":
                    break
                continue
            if version > SCHEMA_VERSION:
                con.close()
                raise newer_schema_error(self.path, version)
            if version == 0:
                con.close()
                raise HistoryError(f"{self.path} holds no history yet", kind="missing",
                                   path=str(self.path))
            read_as_current(con, version)
            con.execute("PRAGMA query_only = ON")
            return con
        raise history_error(last or OSError("cannot open"), self.path)

    # ------------------------------------------------------------------ connections
    def _adopt(self, con: sqlite3.Connection) -> sqlite3.Connection:
        self._local.con, self._local.pid = con, os.getpid()
        with self._connections_lock:
            self._connections.append(con)
        return con

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (a process forked from ours opens its own)."""
        con = getattr(self._local, "con", None)
        if con is not None and self._local.pid == os.getpid():
            return con
        if self.mode == "ro":
            return self._adopt(self._connect_read_only())
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                              check_same_thread=False)
        con.execute("PRAGMA synchronous = NORMAL")
        return self._adopt(con)

    def _discard(self, con: sqlite3.Connection) -> None:
        # After an I/O error SQLite may keep state it cannot trust; the next use reconnects.
        with contextlib.suppress(sqlite3.Error):
            con.close()
        if getattr(self._local, "con", None) is con:
            self._local.con = None

    def close(self) -> None:
        with self._connections_lock:
            cons, self._connections = self._connections, []
        for con in cons:
            with contextlib.suppress(sqlite3.Error):
                con.close()
        self._local = threading.local()

    # ------------------------------------------------------------------ state
    @property
    def problem(self) -> str | None:
        if self.error is not None:
            return f"history is off: {self.error.message}"
        return self.write_problem

    @property
    def readable(self) -> bool:
        return self.mode in ("rw", "ro")

    def require(self, action: str) -> None:
        if self.mode == "rw" or (action == "read" and self.mode == "ro"):
            return
        assert self.error is not None
        raise HistoryError(f"cannot {action} the history: {self.error.message}",
                           kind=self.error.kind, path=self.error.path)

    # ------------------------------------------------------------------ transactions
    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        self.require("read")
        try:
            yield self.connection()
        except sqlite3.Error as exc:
            raise history_error(exc, self.path) from exc

    @contextlib.contextmanager
    def writing(self, *, durable: bool, opening: bool = False
                ) -> Iterator[sqlite3.Connection]:
        """One write transaction; `durable` commits with synchronous=FULL (fsync'd)."""
        if not opening:
            self.require("write")
        with self._write_lock, self.failures():
            con = self.connection()
            if durable:
                con.execute("PRAGMA synchronous = FULL")
            try:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                    con.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        if con.in_transaction:
                            con.execute("ROLLBACK")
                    raise
            finally:
                if durable:
                    with contextlib.suppress(sqlite3.Error):
                        con.execute("PRAGMA synchronous = NORMAL")
        self.write_problem = None

    @contextlib.contextmanager
    def failures(self) -> Iterator[None]:
        """Low-level failures of a write become a HistoryError and the current problem."""
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            err = history_error(exc, self.path)
            self.write_problem = f"history could not record the last change: {err.message}"
            con = getattr(self._local, "con", None)
            if con is not None and err.kind in ("io", "full", "corrupt"):
                self._discard(con)
            raise err from exc

    def read(self, fn: Callable[[sqlite3.Connection], T], default: T) -> T:
        """`fn(connection)`, or `default` when history is off and there is no file at all."""
        if self.mode == "off" and not self.path.exists():
            return default
        with self.reading() as con:
            return fn(con)
