"""Where server data enters: an answer's bytes and headers become plain, bounded, clean values.

Everything the API (or something pretending to be it) sends passes through `decode_json` and
`clean_headers` before the client looks at it, so the rules hold in one place:
- at most `MAX_ANSWER_BYTES`; a bigger answer is unreadable, not a memory problem;
- nesting deeper than `MAX_DEPTH` is cut off (replaced by null), so a 100,000-level body
  neither raises `RecursionError` nor hides a readable task id at the top;
- `NaN`, `Infinity` and numbers too large to be real become null, the same as "not given";
- every string is scrubbed of the API key (in every form it takes) and of lone surrogates.
What is left is typed by `Task.from_response` and the error classes; nothing else parses.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ._errors import clean_text, scrub

MAX_ANSWER_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32
# Strings (with their escapes) and brackets: the only tokens that decide depth.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def decode_json(content: bytes) -> Any:
    """The JSON value of an answer, cleaned and bounded; None when it is not readable JSON."""
    if not content or len(content) > MAX_ANSWER_BYTES:
        return None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    try:
        value = json.loads(_prune(text), parse_constant=_no_constant,
                           parse_float=_finite_float, parse_int=_bounded_int)
    except (ValueError, RecursionError):
        return None
    return scrub(value)


def clean_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Response headers as a plain dict, scrubbed like the body (a server may echo ours)."""
    return {clean_text(k): clean_text(v) for k, v in headers.items()}


def _prune(text: str) -> str:
    """`text` with every array/object deeper than MAX_DEPTH replaced by `null`."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return text  # cannot be too deep: the common case costs one count
    out: list[str] = []
    depth, kept_to, skip_from = 0, 0, -1
    for m in _TOKENS.finditer(text):
        tok = m.group()
        if tok in "[{":
            depth += 1
            if depth == MAX_DEPTH + 1 and skip_from < 0:
                skip_from = m.start()
        elif tok in "]}":
            if depth == MAX_DEPTH + 1 and skip_from >= 0:
                out += [text[kept_to:skip_from], "null"]
                kept_to, skip_from = m.end(), -1
            depth -= 1
    if skip_from >= 0:
        return "null"  # unbalanced beyond the cut: not JSON anyway
    out.append(text[kept_to:])
    return "".join(out)


def _no_constant(name: str) -> None:
    return None  # NaN, Infinity, -Infinity: not numbers the API can mean


def _finite_float(text: str) -> float | None:
    value = float(text)
    return value if math.isfinite(value) else None


def _bounded_int(text: str) -> int | None:
    # Python refuses to read ints over 4,300 digits (ValueError); none is a real value here.
    return int(text) if len(text) <= 40 else None
