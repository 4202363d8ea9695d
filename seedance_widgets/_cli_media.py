"""Local files on the command line: `--reference clip.mp4 --media-host ... --media-base-url ...`.

Any input option (`--image`, `--start-image`, `--end-image`, `--video`, `--reference`,
`--reference-video`, `--reference-audio`) may name a local file instead of a URL. With a media
host, each is uploaded (after the price is confirmed) and its public URL is sent; without one,
images travel inline as `data:` URLs and video or audio is refused with the exact settings to
give, because TokenLab accepts those only as public URLs. `--reference` sorts a local file
into images, videos or audio by its type.
"""

from __future__ import annotations

import argparse
import base64
import copy
import mimetypes
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ._errors import MediaHostError
from ._inputs import MAX_IMAGE_BYTES
from ._media_host import (
    BASE_URL_ENV,
    HOST_ENV,
    NO_HOST_HELP,
    FsspecMediaHost,
    MediaHost,
    media_kind,
    stand_in_url,
)

# option attribute -> the kind of file it takes (None: sorted by the file's type)
OPTIONS: dict[str, str | None] = {
    "image": "image", "start_image": "image", "end_image": "image", "video": "video",
    "reference": None, "reference_video": "video", "reference_audio": "audio",
}
_BY_KIND = {"image": "reference", "video": "reference_video", "audio": "reference_audio"}
_A = {"image": "an image", "video": "a video", "audio": "an audio"}


def add_media_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "local files", "input options also take local files; video and audio need a media "
        "host that publishes them (images go inline without one)")
    g.add_argument("--media-host", metavar="FSSPEC_URL",
                   help=f"where to upload local files: s3://bucket/prefix, gcs://bucket/prefix, "
                        f"file:///srv/media or a folder (default: ${HOST_ENV})")
    g.add_argument("--media-base-url", metavar="URL",
                   help=f"the public http(s) URL the media host's files are served from "
                        f"(default: ${BASE_URL_ENV})")
    g.add_argument("--media-presign", type=float, metavar="SECONDS",
                   help="return presigned URLs valid this long (s3, gcs) instead of base URLs")


def _is_local(value: str) -> bool:
    return "://" not in value and not value.startswith(("data:", "asset:"))


@dataclass(frozen=True)
class LocalFile:
    option: str  # the attribute it ends up in
    index: int | None  # its position in a list option
    path: Path
    kind: str


class LocalInputs:
    """The local files an invocation names, and how to turn them into URLs."""

    def __init__(self, args: argparse.Namespace, *, uploading: bool = True) -> None:
        """`uploading=False` (estimates) accepts local video and audio without a host."""
        self.args = copy.copy(args)
        self.files: list[LocalFile] = []
        self.host = self._host(args)
        self._sort()
        for f in self.files:
            if uploading and f.kind != "image" and self.host is None:
                flag = "--" + f.option.replace("_", "-")
                raise MediaHostError(f"{flag} {f.path} is a local {f.kind} file. {NO_HOST_HELP}")

    @staticmethod
    def _host(args: argparse.Namespace) -> MediaHost | None:
        target = getattr(args, "media_host", None)
        if not target:
            return FsspecMediaHost.from_env()
        return FsspecMediaHost(target, getattr(args, "media_base_url", None),
                               presign=getattr(args, "media_presign", None))

    def _sort(self) -> None:
        a = self.args
        for option, wanted in OPTIONS.items():
            value = getattr(a, option, None)
            if not value:
                continue
            items = list(value) if isinstance(value, list) else [value]
            keep = []
            for item in items:
                if not _is_local(item):
                    keep.append(item)
                    continue
                path = Path(item).expanduser()
                flag = "--" + option.replace("_", "-")
                if not path.is_file():
                    raise MediaHostError(f"{flag} {item}: no such file (give a URL or a path "
                                         "to a local file)")
                kind = media_kind(path)
                if kind is None or (wanted is not None and kind != wanted):
                    what = _A.get(wanted or "", "an image, video or audio")
                    raise MediaHostError(f"{flag} {item}: expected {what} file, got "
                                         f"{mimetypes.guess_type(item)[0] or 'an unknown type'}")
                target = _BY_KIND[kind] if wanted is None else option
                if target == option:
                    keep.append(item)
                    index = len(keep) - 1 if isinstance(value, list) else None
                else:  # --reference clip.mp4 joins the reference videos
                    moved = list(getattr(a, target) or [])
                    moved.append(item)
                    setattr(a, target, moved)
                    index = len(moved) - 1
                self.files.append(LocalFile(target, index, path, kind))
            setattr(a, option, keep if isinstance(value, list) else (keep[0] if keep else None))

    def _with(self, urls: list[str]) -> argparse.Namespace:
        out = copy.copy(self.args)
        for f, url in zip(self.files, urls, strict=True):
            if f.index is None:
                setattr(out, f.option, url)
            else:
                values = list(getattr(out, f.option))
                values[f.index] = url
                setattr(out, f.option, values)
        return out

    def placeholders(self) -> argparse.Namespace:
        """The arguments with a stand-in URL for each local file: to validate and price."""
        return self._with([stand_in_url(f.path.name) for f in self.files])

    async def publish(self, client: Any, out: TextIO = sys.stderr) -> argparse.Namespace:
        """Upload each local file (or inline an image) and return the arguments with URLs."""
        urls = []
        for f in self.files:
            if self.host is None:  # only images get here
                urls.append(_inline(f.path))
                continue
            progress = _Progress(f.path, out)
            urls.append(await client.media.upload(f.path, progress=progress))
            progress.done()
        return self._with(urls)


def _inline(path: Path) -> str:
    data = path.read_bytes()
    if len(data) > MAX_IMAGE_BYTES:
        raise MediaHostError(f"{path} is over {MAX_IMAGE_BYTES // 2**20} MB; images that large "
                             f"need a media host. {NO_HOST_HELP}")
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


class _Progress:
    def __init__(self, path: Path, out: TextIO) -> None:
        self.path, self.out = path, out
        self.tty = out.isatty()
        self.shown = -1

    def __call__(self, sent: int, total: int) -> None:
        pct = 100 if total == 0 else sent * 100 // total
        if pct == self.shown or (not self.tty and pct not in (0, 100)):
            return
        self.shown = pct
        line = f"uploading {self.path.name} ({total / 1e6:.1f} MB): {pct:3d}%"
        self.out.write(("\r" + line) if self.tty else line + "\n")
        self.out.flush()

    def done(self) -> None:
        if self.tty:
            self.out.write("\n")
            self.out.flush()
