"""Where results land on disk, decided by us and never by the server.

A task id comes from the server, so it only ever contributes a *file name*, made safe by
`safe_filename`: an allow-list of characters, a length cap, no leading dot, and a short hash
of the original id whenever anything was changed (so two different ids never share a file).
`destination` keeps the result inside the folder it was meant for, and every file-system
failure on the way is a `SaveError`, inside the client's exception tree.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from pathlib import Path

from ._errors import SaveError

MAX_STEM = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Names Windows refuses whatever the extension; harmless elsewhere, so refused everywhere.
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                       *(f"lpt{i}" for i in range(10))})


def safe_filename(task_id: str, suffix: str = ".mp4") -> str:
    """A file name for a task's result: the id itself when it is plainly safe, else a cleaned
    id plus 8 hex digits of its SHA-256 (`../../x` -> `x-1a2b3c4d.mp4`)."""
    stem = _UNSAFE.sub("_", task_id).strip("._-")[:MAX_STEM]
    if stem.split(".")[0].lower() in _RESERVED:
        stem = f"task_{stem}"
    if stem != task_id or not stem:
        digest = hashlib.sha256(task_id.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem or 'task'}-{digest}"
    return stem + suffix


def destination(task_id: str, path_or_dir: str | os.PathLike[str] | None,
                default_dir: Path) -> Path:
    """The file a result goes to: `<folder>/<safe name>` for a folder (or none: the default
    videos folder), the exact path the caller named otherwise. Never outside the folder."""
    if path_or_dir is None:
        folder = default_dir
    else:
        try:
            path = Path(path_or_dir).expanduser()
            is_dir = path.is_dir() or str(path_or_dir).endswith(("/", os.sep))
        except (OSError, ValueError, RuntimeError) as exc:
            raise SaveError(f"cannot use {str(path_or_dir)!r} as a place to save: {exc}"
                            ) from None
        if not is_dir:
            return path  # the caller chose this file; the server chose nothing
        folder = path
    dest = folder / safe_filename(task_id)
    if dest.parent != folder or dest.name in ("", ".", ".."):  # belt and braces
        raise SaveError(f"refusing to save task {task_id!r} outside {folder}")
    return dest


def prepare_folder(dest: Path) -> None:
    """Create the folder a result goes into, or raise SaveError saying why not."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SaveError(f"cannot create the folder {dest.parent}: {exc.strerror or exc}"
                        ) from None
    if not os.access(dest.parent, os.W_OK):
        raise SaveError(f"cannot write into {dest.parent}: permission denied")


def write_atomic(path: Path, data: bytes, *, durable: bool = False, mode: int = 0o666) -> None:
    """Write `data` to `path` whole or not at all: a reader never sees half a file, and two
    writers never mix (each writes its own temporary file, then renames it into place).
    `durable` fsyncs the file and its folder before returning; `mode` is before the umask."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the file itself is synced
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SaveError(f"cannot write {path}: {exc.strerror or exc}") from None
