"""Large inline inputs (data: URLs of dropped images) kept out of the history's rows.

Each one is stored once, in a file named by the SHA-256 of its decoded bytes under `blobs/`
beside the database, and the request JSON keeps a short reference in its place:
`blob:sha256:<hex>:data:image/png;base64`. `restore` puts the exact data URL back for a re-run.
A blob file is written (and, for records that protect money, fsync'd) before the row that
refers to it is committed, so a committed row never points at a missing file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from pathlib import Path
from typing import Any

from .._errors import HistoryError
from .._files import write_atomic

# Data URLs up to this many characters stay in the row: a reference saves nothing there.
INLINE_LIMIT = 4096
_DATA_URL = re.compile(r"^(data:[^,]{1,200};base64),([A-Za-z0-9+/]*={0,2})$", re.S)
_REF = re.compile(r"^blob:sha256:([0-9a-f]{64}):(data:[^,]{1,200};base64)$")


def is_reference(value: Any) -> bool:
    return isinstance(value, str) and _REF.match(value) is not None


class BlobStore:
    """Content-addressed files: one per distinct input, whatever the number of tasks using it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        # Only our own hex digests name files: checked, so no stored value can pick a path.
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest

    def put(self, data: bytes, *, durable: bool) -> str:
        digest = hashlib.sha256(data).hexdigest()
        dest = self.path(digest)
        if dest.is_file() and dest.stat().st_size == len(data):
            return digest
        dest.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(dest, data, durable=durable, mode=0o600)
        return digest

    def get(self, digest: str) -> bytes:
        path = self.path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise HistoryError(f"the input file {path} is missing from the history, so this "
                               "request cannot be rebuilt as it was sent", kind="missing",
                               path=str(path)) from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise HistoryError(f"the input file {path} no longer matches its SHA-256; it was "
                               "changed after it was stored", kind="corrupt", path=str(path))
        return data

    def externalize(self, value: Any, *, durable: bool) -> Any:
        """A copy of `value` with every large base64 data URL replaced by a reference."""
        if isinstance(value, dict):
            return {k: self.externalize(v, durable=durable) for k, v in value.items()}
        if isinstance(value, list):
            return [self.externalize(v, durable=durable) for v in value]
        if isinstance(value, str) and len(value) > INLINE_LIMIT and value.startswith("data:"):
            m = _DATA_URL.match(value)
            if m is None:
                return value
            try:
                data = base64.b64decode(m.group(2), validate=True)
            except (binascii.Error, ValueError):
                return value
            if base64.b64encode(data).decode() != m.group(2):
                return value  # not canonical base64: a reference could not give it back exactly
            return f"blob:sha256:{self.put(data, durable=durable)}:{m.group(1)}"
        return value

    def restore(self, value: Any) -> Any:
        """The inverse of `externalize`: references become their data URLs again."""
        if isinstance(value, dict):
            return {k: self.restore(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.restore(v) for v in value]
        if isinstance(value, str) and value.startswith("blob:sha256:"):
            m = _REF.match(value)
            if m is not None:
                return f"{m.group(2)},{base64.b64encode(self.get(m.group(1))).decode()}"
        return value


def has_references(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_references(v) for v in value.values())
    if isinstance(value, list):
        return any(has_references(v) for v in value)
    return is_reference(value)
