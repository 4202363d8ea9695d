"""Dropped image files: decoded with Pillow before they are accepted, kept out of synced state.

The browser sends the bytes over the comm; what reaches the form is an `upload://<hash>` key,
and the data URL it stands for stays in the kernel. A file that does not decode as the image
its type claims (say, 500 zero bytes named `.png`) is refused with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Mapping
from typing import Any

from .._inputs import IMAGE_MIME, MAX_IMAGE_BYTES
from ._form import make_ref

UPLOAD = "upload://"
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP", "gif": "GIF",
                "bmp": "BMP", "tiff": "TIFF"}


class UploadRefused(ValueError):
    pass


def decode_image(name: str, mime: str, data: bytes) -> tuple[str, str]:
    """(upload key, data URL) of a dropped image, or UploadRefused saying why not."""
    kind = mime.split("/")[-1].lower() if mime.startswith("image/") else ""
    if kind not in IMAGE_MIME:
        raise UploadRefused(f"{name}: only image files can be dropped here "
                            f"({', '.join(IMAGE_MIME)}); video and audio need a public URL "
                            "(drop them on References with a media host, or paste a URL)")
    if len(data) > MAX_IMAGE_BYTES:
        raise UploadRefused(f"{name} is {len(data) / 2**20:.1f} MB; images must be under "
                            f"{MAX_IMAGE_BYTES // 2**20} MB")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            img.verify()  # reads the whole file: a truncated or corrupt one fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRefused(f"{name} is not a readable {kind.upper()} image "
                            f"({type(exc).__name__}); pick another file") from None
    real = next((k for k, v in _PIL_FORMATS.items() if v == fmt and k != "jpg"), fmt.lower())
    if _PIL_FORMATS.get(kind) != fmt:
        mime = f"image/{real}"  # trust the bytes, not the file name
    key = hashlib.sha256(data).hexdigest()[:16]
    return key, f"data:{mime};base64,{base64.b64encode(data).decode()}"


def add_image(form: Mapping[str, Any], msg: Mapping[str, Any], buffers: list[Any],
              uploads: dict[str, str]) -> tuple[dict[str, Any], str]:
    """The form with a dropped image added (to the field it was dropped on, else as a
    reference) and a note; its data URL goes into `uploads` under its key."""
    name = str(msg.get("name") or "image")
    if not buffers:
        raise UploadRefused(f"{name}: the file arrived empty")
    key, data_url = decode_image(name, str(msg.get("mime") or ""), bytes(buffers[0]))
    uploads[key] = data_url
    url = UPLOAD + key
    target = msg.get("field")
    new = dict(form)
    if target in ("image_url", "start_image", "end_image"):
        new[target] = url
    else:
        new["references"] = [*new.get("references", []), make_ref("image", url, name)]
    return new, f"added {name} ({len(buffers[0]) / 1024:.0f} KB)"
