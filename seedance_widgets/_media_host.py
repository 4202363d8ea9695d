"""Media hosts: how a local file becomes the public URL TokenLab needs.

TokenLab takes video and audio references only as public URLs, so a local clip must be put
somewhere the service can fetch it. A `MediaHost` does that: `upload(path)` returns the URL.
`FsspecMediaHost` writes to any fsspec filesystem (`s3://bucket/prefix`, `gcs://...`, a local
folder that a web server publishes) and returns the file's URL under a public base URL, or a
presigned URL where the filesystem can sign one.

Uploads happen only when asked for (`client.media.upload(...)`, the CLI's `--media-host`),
report progress, and never involve the API key: the host uses its own storage credentials,
and nothing here ever sees the client's headers.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, urlsplit

from ._errors import MediaHostError

HOST_ENV, BASE_URL_ENV, PRESIGN_ENV = ("SEEDANCE_MEDIA_HOST", "SEEDANCE_MEDIA_BASE_URL",
                                       "SEEDANCE_MEDIA_PRESIGN")
CHUNK = 1 << 20
ProgressCallback = Callable[[int, int], Any]  # (bytes sent, total bytes)

NO_HOST_HELP = (
    "TokenLab takes video and audio only as public URLs, so a local file must be uploaded to "
    "a media host first, and none is configured. Give one:\n"
    "  Python:  AsyncSeedanceClient(..., media_host=FsspecMediaHost("
    "'s3://my-bucket/seedance', 'https://my-bucket.s3.amazonaws.com/seedance/'))\n"
    "  CLI:     --media-host s3://my-bucket/seedance "
    "--media-base-url https://my-bucket.s3.amazonaws.com/seedance/\n"
    f"  or set {HOST_ENV} and {BASE_URL_ENV} the same way.\n"
    "A folder served by a web server works too: --media-host file:///srv/media "
    "--media-base-url https://media.example.org/ (the base URL must be reachable by the "
    "service; with the built-in emulator, a loopback URL such as http://127.0.0.1:8000/ is "
    f"enough). Where the filesystem can sign URLs (s3, gcs), --media-presign SECONDS "
    f"({PRESIGN_ENV}) replaces the base URL."
)

_KINDS = {"image": "image", "video": "video", "audio": "audio"}
_EXTRA_TYPES = {".mov": "video/quicktime", ".m4a": "audio/mp4", ".webp": "image/webp"}


@runtime_checkable
class MediaHost(Protocol):
    """Anything that publishes a local file and says where: `upload(path) -> public URL`."""

    def upload(self, path: Path, *, progress: ProgressCallback | None = None) -> str:
        """Copy `path` to the host (blocking) and return the URL it is served at."""
        ...


def media_kind(path: str | os.PathLike[str]) -> str | None:
    """"image", "video" or "audio" by file name, or None."""
    name = str(path)
    mime = _EXTRA_TYPES.get(Path(name).suffix.lower()) or mimetypes.guess_type(name)[0] or ""
    return _KINDS.get(mime.split("/", 1)[0])


def safe_name(name: str) -> str:
    """A file name any store and URL accept: letters, digits, dot, dash, underscore."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).name).strip(".-") or "file"
    return stem[-80:]


def stand_in_url(name: str) -> str:
    """The kind of URL a local file gets once published, to validate and price a request
    before it is (`.invalid` resolves nowhere, and such a request is never sent)."""
    return "https://media-host.invalid/" + safe_name(name)


class FsspecMediaHost:
    """A media host on any fsspec filesystem.

    `target` is an fsspec URL (`s3://bucket/prefix`, `gcs://bucket/prefix`,
    `file:///srv/media` or a plain folder path); `public_base_url` is where that location is
    served over http(s). `presign` (seconds) returns signed URLs instead, where the
    filesystem supports them. Files are stored as `<first 16 hex of sha256>/<name>`, so a
    re-upload of the same file is skipped and two files never overwrite each other.
    """

    def __init__(self, target: str, public_base_url: str | None = None, *,
                 presign: float | None = None,
                 storage_options: Mapping[str, Any] | None = None) -> None:
        import fsspec

        if public_base_url is None and not presign:
            raise MediaHostError(f"media host {target!r} needs the public base URL it is "
                                 "served from (or presign=SECONDS where the store can sign)")
        if public_base_url is not None and urlsplit(public_base_url).scheme not in ("http",
                                                                                   "https"):
            raise MediaHostError(f"public_base_url must be http(s), got {public_base_url!r}")
        self.target = target
        self.public_base_url = public_base_url
        self.presign = presign
        self._fs, self._root = fsspec.core.url_to_fs(target, **dict(storage_options or {}))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FsspecMediaHost | None:
        """The host named by SEEDANCE_MEDIA_HOST / _BASE_URL / _PRESIGN, or None."""
        env = os.environ if environ is None else environ
        target = (env.get(HOST_ENV) or "").strip()
        if not target:
            return None
        presign = (env.get(PRESIGN_ENV) or "").strip()
        try:
            seconds = float(presign) if presign else None
        except ValueError:
            raise MediaHostError(f"{PRESIGN_ENV}={presign!r} is not a number of seconds") \
                from None
        return cls(target, (env.get(BASE_URL_ENV) or "").strip() or None, presign=seconds)

    def __repr__(self) -> str:
        where = self.public_base_url or f"presigned for {self.presign:g} s"
        return f"FsspecMediaHost({self.target!r} -> {where})"

    def key_for(self, path: Path) -> str:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                digest.update(chunk)
        return f"{digest.hexdigest()[:16]}/{safe_name(path.name)}"

    def upload(self, path: Path, *, progress: ProgressCallback | None = None) -> str:
        path = Path(path).expanduser()
        if not path.is_file():
            raise MediaHostError(f"{path}: no such file")
        total = path.stat().st_size
        key = self.key_for(path)
        remote = f"{self._root.rstrip('/')}/{key}"
        try:
            if not (self._fs.exists(remote) and self._fs.size(remote) == total):
                self._fs.makedirs(remote.rsplit("/", 1)[0], exist_ok=True)
                self._copy(path, remote, total, progress)
            elif progress is not None:
                progress(total, total)  # already there: nothing to send
            return self._url(key, remote)
        except MediaHostError:
            raise
        except (OSError, ValueError, NotImplementedError) as exc:
            raise MediaHostError(f"could not upload {path.name} to {self.target}: "
                                 f"{type(exc).__name__}: {exc}") from None

    def _copy(self, path: Path, remote: str, total: int,
              progress: ProgressCallback | None) -> None:
        sent = 0
        if progress is not None:
            progress(0, total)
        with path.open("rb") as src, self._fs.open(remote, "wb") as dst:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                dst.write(chunk)
                sent += len(chunk)
                if progress is not None:
                    progress(sent, total)

    def _url(self, key: str, remote: str) -> str:
        if self.presign:
            try:
                return str(self._fs.sign(remote, expiration=int(self.presign)))
            except NotImplementedError:
                if self.public_base_url is None:
                    raise MediaHostError(
                        f"{self.target} cannot presign URLs; give the public base URL its "
                        "files are served from instead") from None
        assert self.public_base_url is not None
        return self.public_base_url.rstrip("/") + "/" + quote(key)


class AsyncMedia:
    """`client.media`: the client's media host, used only when asked."""

    def __init__(self, host: MediaHost | None) -> None:
        self.host = host

    @property
    def configured(self) -> bool:
        return self.host is not None

    async def upload(self, path: str | os.PathLike[str], *,
                     progress: ProgressCallback | None = None) -> str:
        """Publish a local file on the media host and return its public URL.

        The copy runs in a worker thread; `progress(sent, total)` is called on this event
        loop's thread, in order, so a widget may update itself from it.
        """
        if self.host is None:
            raise MediaHostError(NO_HOST_HELP)
        loop = asyncio.get_running_loop()
        hop = None
        if progress is not None:
            def hop(sent: int, total: int) -> None:
                loop.call_soon_threadsafe(progress, sent, total)
        url = await asyncio.to_thread(self.host.upload, Path(path), progress=hop)
        await asyncio.sleep(0)  # let the last progress call run before returning
        return url

    async def upload_bytes(self, data: bytes, name: str, *,
                           progress: ProgressCallback | None = None) -> str:
        """`upload` for bytes in memory (a file dropped in the browser), published as `name`."""
        if self.host is None:
            raise MediaHostError(NO_HOST_HELP)
        with tempfile.TemporaryDirectory(prefix="seedance-upload-") as tmp:
            path = Path(tmp) / safe_name(name)
            await asyncio.to_thread(path.write_bytes, data)
            return await self.upload(path, progress=progress)


class Media:
    """Blocking twin of `AsyncMedia` (`SeedanceClient.media`)."""

    def __init__(self, aio: AsyncMedia, run: Callable[[Any], Any]) -> None:
        self._aio = aio
        self._run = run

    @property
    def host(self) -> MediaHost | None:
        return self._aio.host

    @property
    def configured(self) -> bool:
        return self._aio.configured

    def upload(self, path: str | os.PathLike[str], *,
               progress: ProgressCallback | None = None) -> str:
        return self._run(self._aio.upload(path, progress=progress))

    def upload_bytes(self, data: bytes, name: str, *,
                     progress: ProgressCallback | None = None) -> str:
        return self._run(self._aio.upload_bytes(data, name, progress=progress))
