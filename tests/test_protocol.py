"""The kernel and the page speak one protocol: the JSDoc module mirrors the TypedDicts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_type_hints

from seedance_widgets.widgets import _protocol as protocol

JS = (Path(__file__).resolve().parents[1] / "js" / "src" / "protocol.js").read_text()


def _js_table(name: str) -> dict[str, list[str]]:
    body = re.search(rf"export const {name} = \{{(.*?)\n\}};", JS, re.S)
    assert body, name
    pairs = re.findall(r"(\w+): \[([^\]]*)\]", body.group(1))
    return {k: json.loads(f"[{v}]") for k, v in pairs}


def _js_typedef(name: str) -> set[str]:
    m = re.search(r"@typedef \{\{((?:(?!@typedef).)*?)\}\} " + name + r"\b", JS, re.S)
    assert m, name
    text = re.sub(r"\s*\*\s*", " ", m.group(1))
    return set(re.findall(r"(\w+): ", text))


def test_message_tables_agree() -> None:
    assert _js_table("TO_KERNEL") == {k: list(v) for k, v in protocol.TO_KERNEL.items()}
    assert _js_table("TO_PAGE") == {k: list(v) for k, v in protocol.TO_PAGE.items()}


def test_state_typedefs_agree() -> None:
    for name in ("FormState", "PriceState", "GenerateState", "BudgetState", "NoticeState",
                 "SourceOption", "CardInfo", "CardLive", "GalleryStatus", "Ref", "AssetItem",
                 "AssetsState", "RegisterState", "MediaState", "UploadState"):
        assert _js_typedef(name) == set(get_type_hints(getattr(protocol, name))), name


def test_unknown_messages_are_logged_not_dropped_silently(caplog) -> None:
    assert protocol.parse({"type": "teleport"}) is None
    assert "unknown message type 'teleport'" in caplog.text
    assert protocol.parse({"type": "cancel"}) is None and "without id" in caplog.text
    assert protocol.parse({"type": "cancel", "id": "t"}) == {"type": "cancel", "id": "t"}
