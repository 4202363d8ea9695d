"""How each kind of input value is checked: text, whole numbers, URLs, ids; and how a refusal
is worded (naming its field once, quoting values safely).

`VideoRequest` applies these per field; they live apart so its module reads as the rules of
the request, and so the panel, the CLI and the emulator word problems the same way.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from ._catalog import ReferenceLimits
from ._errors import UsageError

# URL kinds: which schemes each field may carry.
IMAGE_FIELDS = ("image_url", "start_image", "end_image", "reference_images")
IMAGE_MIME = ("png", "jpeg", "jpg", "webp", "gif", "bmp", "tiff")
MAX_IMAGE_BYTES = 30 * 1024 * 1024
# Matched with fullmatch: `$` would let a trailing newline through.
_ASSET_URI = re.compile(r"asset://asset-\d{14}-[A-Za-z0-9]+")
_ASSET_ID = re.compile(r"asset-\d{14}-[A-Za-z0-9]+")
_DATA_IMAGE = re.compile(r"data:image/([a-z0-9.+-]+);base64,(.*)", re.I | re.S)
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
# An http(s) URL with a host and nothing a browser or a shell could misread (spaces, controls,
# backslashes): what an input may carry and what a result URL must be (`_task`).
HTTP_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f/?#\\]+[^\s\x00-\x1f\x7f\\]*", re.I)

PROMPT_MIN_VISIBLE = 2  # the commonly documented minimum (seedance-facts.md: 2-3,000)
# Characters that draw nothing although Unicode files them as letters or symbols: the Hangul
# fillers, the braille blank, the Mongolian vowel separator, the combining grapheme joiner.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u034f")
PROMPT_CONTROLS_OK = frozenset("\t\n\r")
# Whole-number fields: the contract's ranges. Checked before anything prints the value, since
# Python cannot even print an int of 5,000 digits.
WHOLE_NUMBER_RANGES: dict[str, tuple[int, int, str]] = {
    "duration": (-1, 60, "seconds"),
    "seed": (-1, 4294967295, ""),
    "priority": (0, 9, ""),
    "execution_expires_after": (3600, 259200, "seconds"),
}



def err(field: str, kind: str, message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError(kind, braces(message)), loc=(field,),
                            input=value)


def braces(message: str) -> str:
    # Braces in user text would be read as format fields by PydanticCustomError.
    return message.replace("{", "{{").replace("}", "}}")


def shown(value: Any, limit: int = 60) -> str:
    """A value as an error message may quote it: repr (escapes newlines and lone
    surrogates), cut short, and never an exception (an int of 5,000 digits has no repr)."""
    try:
        text = repr(value)
    except ValueError:
        return "a number too large to show"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listed(values: Any) -> str:
    return ", ".join(str(v) for v in values)


def raise_all(errors: list[InitErrorDetails]) -> None:
    if errors:
        raise ValidationError.from_exception_data("VideoRequest", errors)


def short(value: Any, limit: int = 60) -> str:
    text = str(value) if isinstance(value, str) else shown(value, limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def visible_count(text: str) -> int:
    return sum(1 for c in text if not (c.isspace() or c in _BLANK_LOOKING or
                                       unicodedata.category(c) in ("Cc", "Cf", "Cs", "Mn",
                                                                   "Zs", "Zl", "Zp")))


def encoding_problem(field: str, text: str) -> str | None:
    for i, c in enumerate(text):
        if "\ud800" <= c <= "\udfff":
            return (f"{field} has a character that cannot be encoded (a lone surrogate, "
                    f"U+{ord(c):04X}, at position {i + 1}); retype or paste it again")
    return None


def control_problem(field: str, text: str, allowed: frozenset[str] = frozenset()) -> str | None:
    for i, c in enumerate(text):
        if unicodedata.category(c) == "Cc" and c not in allowed:
            what = "a line break" if c in "\r\n" else f"a control character (U+{ord(c):04X})"
            return f"{field} has {what} at position {i + 1}; remove it"
    return None


def whole_number(field: str, value: Any) -> int | None:
    """`value` as a whole number within the field's range, or a PydanticCustomError."""
    if value is None:
        return None
    low, high, unit = WHOLE_NUMBER_RANGES[field]
    span = f"{low} to {high}" + (f" {unit}" if unit else "")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("whole_number", braces(
            f"{field} must be a whole number ({span}), not {type(value).__name__} "
            f"{shown(value, 30)}"))
    if isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise PydanticCustomError("whole_number", braces(
                f"{field} must be a whole number ({span}), not {shown(value, 30)}"))
        value = int(value)
    if not low <= value <= high:
        quoted = f" {value}" if abs(value) < 10**20 else ""
        raise PydanticCustomError("number_out_of_range", braces(
            f"{field}{quoted} is out of range; allowed: {span}"))
    return value


def named(field: str, message: str) -> str:
    """`message` naming its field once: pydantic's own "Input should be ..." gets the name."""
    if re.match(rf"{re.escape(field)}\b", message):
        return message
    for lead in ("Input should", "String should", "List should", "Value should"):
        if message.startswith(lead):
            return field + message[len(lead.split()[0]):]
    return f"{field}: {message}"


def error_lines(error: ValidationError) -> list[str]:
    """One line per problem, each naming its field once (for a terminal or a log)."""
    out = []
    for e in error.errors(include_url=False):
        field = str(e["loc"][0]) if e["loc"] else "request"
        out.append(named(field, str(e["msg"])))
    return out


def url_problem(field: str, value: str) -> str | None:
    """Why `value` may not stand in `field`, or None when it may."""
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    if value != value.strip():
        return (f"{shown(value)} has spaces or a line break around it; remove them "
                "(a URL or id copied with its newline?)")
    if field == "material_asset_ids":
        return None if _ASSET_ID.fullmatch(value) else (
            "material asset ids look like asset-YYYYMMDDHHMMSS-xxxxx")
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    is_image = field in IMAGE_FIELDS or field == "image"
    if field == "image":
        allowed = "data:image/... URL"
    elif is_image:
        allowed = "http(s) URL, data:image/... URL or asset://asset-... material id"
    else:
        allowed = "http(s) URL"
    if scheme in ("http", "https") and field != "image":
        return None if HTTP_URL.fullmatch(value) else f"{shown(value)} is not a valid URL"
    if scheme == "data" and is_image:
        return _data_image_problem(value)
    if scheme == "asset" and is_image and field != "image":
        return None if _ASSET_URI.fullmatch(value) else (
            "asset URIs look like asset://asset-YYYYMMDDHHMMSS-xxxxx")
    what = shown(f"{scheme}:" if scheme else short(value, 30))
    return f"{what} is not allowed here; allowed: {allowed}"


def _data_image_problem(value: str) -> str | None:
    m = _DATA_IMAGE.fullmatch(value)
    if not m:
        return "data URLs must be data:image/<type>;base64,<data>"
    kind, payload = m.group(1).lower(), m.group(2)
    if kind not in IMAGE_MIME:
        return f"image type {shown(kind)} is not accepted; allowed: {listed(IMAGE_MIME)}"
    if not payload:
        return "the data URL has no image data after 'base64,'"
    if len(payload) * 3 // 4 > MAX_IMAGE_BYTES:
        return f"image is over {MAX_IMAGE_BYTES // (1024 * 1024)} MB"
    if not _BASE64.fullmatch(payload):
        return "data URL payload is not valid base64 (no spaces or line breaks)"
    return None


def money(value: Any, name: str) -> float:
    """A money figure (a budget, a confirm-above threshold, a cap) as a float, or `UsageError`.

    It must be a finite number >= 0: NaN compares false with everything, so a NaN budget would
    silently switch the guard off, and infinity is no limit at all. Strings are read as numbers
    (the CLI's arguments arrive as text); bools are refused.
    """
    number: float | None = None
    if isinstance(value, str):
        try:
            number = float(value.strip().lstrip("$"))
        except ValueError:
            number = None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = None
    if number is None or not math.isfinite(number) or number < 0:
        raise UsageError(f"{name} must be a finite amount of US dollars, 0 or more "
                         f"(for example 5 or 0.50), not {shown(value, 40)}")
    return number


def reference_count_problems(model: str, lim: ReferenceLimits, images: int, videos: int, audios: int
                             ) -> list[InitErrorDetails]:
    """The reference-to-video count rules (images include material assets)."""
    errors = []
    if images == 0 and videos == 0:
        field = "audio_urls" if audios else "reference_images"
        msg = ("audio_urls: audio is only a reference beside at least one image or video; "
               "add reference_images or video_urls" if audios else
               "reference-to-video needs at least one reference image or video "
               "(reference_images, video_urls)")
        errors.append(err(field, "missing_reference", msg, None))
    for field, n, cap, what in (
        ("reference_images", images, lim.images, "images"),
        ("video_urls", videos, lim.videos, "videos"),
        ("audio_urls", audios, lim.audios, "audios"),
    ):
        if n > cap:
            errors.append(err(field, "too_many_references",
                              f"{field} has {n} {what}; {model} allows at most {cap}", n))
    total = images + videos + audios
    if total > lim.files:
        errors.append(err("reference_images", "too_many_files",
                          f"reference_images: {total} reference files in all; at most "
                          f"{lim.files} (images + videos + audios)", total))
    return errors


def with_named_fields(error: ValidationError) -> ValidationError:
    """The same errors, each message naming its field once (pydantic's own do not)."""
    errors = [InitErrorDetails(
        type=PydanticCustomError(str(e["type"]), braces(
            named(str(e["loc"][0]) if e["loc"] else "request", str(e["msg"])))),
        loc=e["loc"], input=e.get("input")) for e in error.errors(include_url=False)]
    return ValidationError.from_exception_data(error.title, errors)
