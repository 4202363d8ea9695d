"""Why the history cannot be used, in one plain line: SQLite and OS errors sorted by cause.

A person reading "history is off" wants the reason and the way out, not an errno, so each
failure is sorted into a `kind` (read-only, full, locked, corrupt, newer-schema, io) with a
sentence for it.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from .._errors import HistoryError
from .._home import HOME_ENV

_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def kind_of(exc: BaseException) -> str:
    """The cause of a failed open, read or write."""
    if isinstance(exc, HistoryError):
        return exc.kind
    if isinstance(exc, OSError):
        if exc.errno in _READ_ONLY:
            return "read-only"
        return "full" if exc.errno in _FULL else "io"
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc).lower()
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
            return "locked"
        if name == "SQLITE_FULL" or "disk is full" in text:
            return "full"
        if name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_CANTOPEN")) or \
                "readonly" in text or "unable to open" in text:
            return "read-only"
        if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "not a database" in text or \
                "malformed" in text:
            return "corrupt"
    return "io"


def describe(kind: str, path: Path, detail: str = "", where: str | None = None) -> str:
    """One sentence: what is wrong with the history at `path`, and what to do about it."""
    folder = path.parent
    why = f" ({detail})" if detail else ""
    if kind == "read-only":
        return (f"{where or folder} is not writable{why}; set {HOME_ENV} to a writable folder "
                "to keep a history")
    if kind == "full":
        return f"the disk holding {folder} is full{why}; free some space"
    if kind == "locked":
        return (f"{path} stayed locked by another process for too long{why}; try again when "
                "that process is done")
    if kind == "corrupt":
        return (f"{path} is not a readable SQLite database{why}; nothing was changed. Move it "
                f"aside (rename it to {path.name}.broken) and a new history starts there")
    return f"{path} could not be read or written{why}"


def history_error(exc: BaseException, path: Path) -> HistoryError:
    """A HistoryError for a low-level failure, naming the file and the way out."""
    if isinstance(exc, HistoryError):
        return exc
    kind = kind_of(exc)
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    where = exc.filename if isinstance(exc, OSError) and exc.filename else None
    return HistoryError(describe(kind, path, detail, where), kind=kind, path=str(path))
