"""Text on emulator frames: the default font at a size, word wrap and short labels."""

from __future__ import annotations

import functools

from PIL import ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

PROMPT_CHARS = 80


@functools.lru_cache(maxsize=16)
def font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font; a small one still works
        return ImageFont.load_default()


def text_width(f: Font, text: str) -> float:
    return f.getlength(text)


def line_height(f: Font, factor: float, fallback: int) -> int:
    return round(f.size * factor) if hasattr(f, "size") else fallback


def wrap(text: str, f: Font, max_width: float, max_lines: int) -> list[str]:
    """Greedy word wrap; words wider than a line (URLs, CJK) are split by character."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if text_width(f, candidate) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:
            if current and text_width(f, current + ch) > max_width:
                lines.append(current)
                current = ch
            else:
                current += ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = ellipsize(lines[-1] + "…", f, max_width)
    return lines


def ellipsize(text: str, f: Font, max_width: float) -> str:
    """`text` cut with an ellipsis so that it fits `max_width`."""
    if text_width(f, text) <= max_width:
        return text
    body = text.removesuffix("…")
    while body and text_width(f, body + "…") > max_width:
        body = body[:-1]
    return body.rstrip() + "…"


def prompt_excerpt(prompt: str) -> str:
    text = " ".join(prompt.split())
    if not text:
        return "(empty prompt)"
    if len(text) > PROMPT_CHARS:
        return text[: PROMPT_CHARS - 1].rstrip() + "…"
    return text


def fmt_seconds(duration_s: float) -> str:
    return f"{duration_s:g}s"
