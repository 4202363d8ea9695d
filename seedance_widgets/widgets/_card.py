"""The card model: one child model per task, shared by every view that shows the task.

A `CardModel` is a plain ipywidgets model (no bundle) with two synced dicts: `info`, sent once,
and `live`, the only thing a poll changes. The panel, a `TaskWidget` and the gallery all point
at the same `CardModel`, so one poll of one task sends one small message however many views
and runs there are (the lonboard way). The code snippets, the diff and the script-free HTML of
a card are built here too.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shlex
from pathlib import Path
from typing import Any

import ipywidgets
import traitlets

from ._protocol import ACTIONS, CardInfo, CardLive
from ._session import Session, alive, session
from ._tracker import TaskTracker

PARAM_FIELDS = ("resolution", "duration", "aspect_ratio", "seed", "output_audio",
                "return_last_frame")
_DATA_URL = re.compile(r"^data:(image/[a-z0-9.+-]+);base64,(.*)$", re.I | re.S)
_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif",
        "image/bmp": "bmp", "image/tiff": "tiff"}


def _ms(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if value else None


def uploads_dir() -> Path:
    from .._home import data_dir

    return data_dir() / "uploads"


def inline_file(url: str) -> tuple[Path, str] | None:
    """The file holding a dropped image's bytes (written once, named by content hash)."""
    m = _DATA_URL.match(url)
    if not m:
        return None
    mime = m.group(1).lower()
    data = base64.b64decode(m.group(2))
    path = uploads_dir() / f"{hashlib.sha256(data).hexdigest()[:16]}.{_EXT.get(mime, 'png')}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path, mime


def _shown_body(body: dict[str, Any]) -> dict[str, Any]:
    """The body as cards show it: inline images become a mention of their file."""
    def one(v: Any) -> Any:
        if isinstance(v, list):
            return [one(x) for x in v]
        if isinstance(v, str) and v.startswith("data:"):
            found = inline_file(v)
            return f"data:{found[1]};base64,<contents of {found[0]}>" if found else "data:…"
        return v
    return {k: one(v) for k, v in body.items()}


# ---------------------------------------------------------------------- code snippets
def python_code(body: dict[str, Any], *, demo: bool) -> str:
    """Python that runs as it is: demo mode uses `connect_sync()`, dropped images are read
    from the file the panel saved."""
    if not body:
        return ""
    uses_files = False

    def lit(v: Any) -> str:
        nonlocal uses_files
        if isinstance(v, list):
            return "[" + ", ".join(lit(x) for x in v) + "]"
        if isinstance(v, str) and (found := inline_file(v)):
            uses_files = True
            return f"data_url({str(found[0])!r}, {found[1]!r})"
        return repr(v)

    args = "".join(f"    {k}={lit(v)},\n" for k, v in body.items())
    head = "from seedance_widgets import VideoRequest, " + (
        "connect_sync\n" if demo else "SeedanceClient\n")
    helper = ""
    if uses_files:
        head = "import base64\nfrom pathlib import Path\n\n" + head
        helper = ("\n\ndef data_url(path: str, mime: str) -> str:  # an image you dropped\n"
                  "    return f\"data:{mime};base64,\" + "
                  "base64.b64encode(Path(path).read_bytes()).decode()\n")
    opener = ("with connect_sync() as client:  # demo: the built-in emulator, no key, no cost\n"
              if demo else "with SeedanceClient() as client:  # reads TOKENLAB_API_KEY\n")
    return (f"{head}{helper}\nrequest = VideoRequest(\n{args})\n{opener}"
            "    task = client.wait(client.create(request))\n"
            "    print(task.status, client.download(task, \".\"))\n")


def curl_code(body: dict[str, Any], *, base_url: str, demo: bool) -> str:
    files: dict[str, str] = {}

    def one(v: Any) -> Any:
        if isinstance(v, list):
            return [one(x) for x in v]
        if isinstance(v, str) and (found := inline_file(v)):
            mark = f"__SEEDANCE_FILE_{len(files)}__"
            files[mark] = f"data:{found[1]};base64,$(base64 -w0 {shlex.quote(str(found[0]))})"
            return mark
        return v

    text = json.dumps({k: one(v) for k, v in body.items()}, indent=2, ensure_ascii=False)
    # The heredoc expands $(...) for the files, so everything else is escaped for the shell.
    text = text.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`")
    for mark, sub in files.items():
        text = text.replace(mark, sub)
    if demo:
        from ..emulator import DEMO_API_KEY

        auth = f'-H "Authorization: Bearer {DEMO_API_KEY}"'
        where = f"{base_url}  # this kernel's demo emulator: it lives as long as the kernel"
    else:
        auth = '-H "Authorization: Bearer $TOKENLAB_API_KEY"'
        where = base_url
    return (f"# {where}\n"
            f"curl -sS -X POST {shlex.quote(base_url + '/v1/videos/generations')} \\\n"
            f"  {auth} \\\n  -H \"Content-Type: application/json\" \\\n"
            f"  --data-binary @- <<JSON\n{text}\nJSON\n")


def json_code(body: dict[str, Any]) -> str:
    return json.dumps(_shown_body(body), indent=2, ensure_ascii=False)


# ---------------------------------------------------------------------- diff
def request_diff(body: dict[str, Any] | None, parent: dict[str, Any] | None) -> list[str]:
    """What changed from the run this one was derived from, one line per field."""
    if not body or not parent:
        return []
    lines = []
    for key in dict.fromkeys([*parent, *body]):
        a, b = parent.get(key), body.get(key)
        if a != b:
            lines.append(f"{key}: {_brief(a)} → {_brief(b)}")
    return lines


def _brief(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str) and value.startswith("data:"):
        value = "an inline image"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


# ---------------------------------------------------------------------- the model
class CardModel(ipywidgets.Widget):
    """One task as the front end sees it. Build with `card_for(tracker)`."""

    info = traitlets.Dict().tag(sync=True)
    live = traitlets.Dict().tag(sync=True)

    def __init__(self, tracker: TaskTracker, *, parent: dict[str, Any] | None = None,
                 parent_id: str | None = None, parent_action: str | None = None,
                 video_src: str = "url") -> None:
        super().__init__()
        self.tracker = tracker
        self.video_src = video_src
        self.starred = False
        self.note = ""
        self.history_on = False
        self.parent_id, self.parent_action = parent_id, parent_action
        self._parent_body = parent
        self.info = self._info()
        self.live = self._live()
        tracker.subscribe(self._changed)

    @property
    def id(self) -> str:
        return self.tracker.id

    def _info(self) -> CardInfo:
        t, body = self.tracker.task, self.tracker.request_body or {}
        return {"id": t.id, "model": str(t.model or body.get("model") or ""),
                "operation": str(body.get("operation") or ""),
                "prompt": str(body.get("prompt") or ""),
                "params": {k: body[k] for k in PARAM_FIELDS if k in body},
                "parent_id": self.parent_id,
                "parent_action": self.parent_action,
                "diff": request_diff(body, self._parent_body),
                "estimate_label": self.tracker.estimate_label,
                "created_ms": _ms(t.created_at)}

    def _live(self) -> CardLive:
        tr, t = self.tracker, self.tracker.task
        cancelled = t.cancelled
        demo = tr.client.demo
        cost = None if demo else t.cost_usd
        if cancelled:
            cost_label = "no charge"
        elif cost is not None:
            cost_label = f"${cost:.2f} charged"
        elif t.status == "failed":
            cost_label = "no charge"
        else:
            cost_label = tr.estimate_label
        actions = [a for a in ACTIONS if t.is_terminal and (
            a == "rerun" or (t.succeeded and not cancelled
                             and (a != "use_last_frame" or t.last_frame_url)))]
        error = t.error.message if t.error and not cancelled else (tr.note or None)
        return {"status": t.status, "display_status": t.display_status,
                "terminal": t.is_terminal, "succeeded": t.succeeded and not cancelled,
                "progress": t.progress, "eta_s": t.eta_seconds, "eta_at_ms": tr.eta_at_ms,
                "finished_ms": tr.finished_ms, "error": error, "cost_label": cost_label,
                "charged": cost is not None,
                "billing_id": t.billing_transaction_id or "",
                "video_url": t.video_url or "",
                "last_frame_url": t.last_frame_url or "",
                "video_src": "kernel" if self.video_src == "kernel" else "url",
                "can_cancel": t.status == "pending" and not cancelled,
                "cancel_message": tr.cancel_message,
                "saved_path": str(tr.saved_path) if tr.saved_path else None,
                "actions": actions, "starred": self.starred, "note": self.note,
                "history": self.history_on}

    def _changed(self, _tracker: TaskTracker) -> None:
        live = self._live()
        if live != self.live:
            self.live = live
        if self.info.get("created_ms") is None and self.tracker.task.created_at:
            self.info = self._info()

    def refresh(self) -> None:
        self._changed(self.tracker)

    def code(self, *, base_url: str) -> dict[str, str]:
        body, demo = self.tracker.request_body or {}, self.tracker.client.demo
        return {"python": python_code(body, demo=demo),
                "curl": curl_code(body, base_url=base_url, demo=demo),
                "json": json_code(body)}

    def static_html(self) -> str:
        """Script-free HTML of the card as it is now, for nbconvert and VS Code."""
        i, lv, e = self.info, self.live, html.escape
        parts = ["<div style='border:1px solid #ccc;padding:6px;margin:4px 0;max-width:640px'>"]
        url, saved = lv.get("video_url") or "", lv.get("saved_path") or ""
        if lv.get("succeeded") and (url.lower().startswith(("http://", "https://")) or saved):
            sources = "".join(f"<source src='{e(s)}'>" for s in (url, saved) if s)
            parts.append(f"<video controls preload=metadata width=100%>{sources}</video>")
        parts.append(f"<div><b>{e(lv.get('display_status', ''))}</b> · {e(i.get('model', ''))}"
                     f" · {e(i.get('operation', ''))} · {e(lv.get('cost_label', ''))}</div>")
        parts.append(f"<div><i>{e(i.get('prompt', ''))}</i></div>")
        if lv.get("error"):
            parts.append(f"<div style='color:#b00'>{e(str(lv['error']))}</div>")
        if saved:
            parts.append(f"<div><code>{e(saved)}</code></div>")
        parts.append(f"<small><code>{e(i.get('id', ''))}</code></small></div>")
        return "".join(parts)

    def close(self) -> None:
        self.tracker.unsubscribe(self._changed)
        super().close()


def card_for(tracker: TaskTracker, *, scope: Session | None = None, **kwargs: Any) -> CardModel:
    """The session's one CardModel of this task (made on first use): views share it, so its
    state is sent and saved once."""
    cards = (scope or session()).cards
    card = cards.get(tracker.id)
    if alive(card):
        return card
    if card is None:
        card = cards[tracker.id] = CardModel(tracker, **kwargs)
        return card
    # Closed by the front end (a marimo cell ran again): a new model with what the old one knew.
    dead = card
    dead.close()  # it stops following the task
    card = cards[tracker.id] = CardModel(tracker, **{
        "parent": dead._parent_body, "parent_id": dead.parent_id,
        "parent_action": dead.parent_action, "video_src": dead.video_src, **kwargs})
    card.starred, card.note, card.history_on = dead.starred, dead.note, dead.history_on
    card.refresh()
    return card


def shared_card(task_id: str, scope: Session | None = None) -> CardModel | None:
    """The session's card of this task, if there is one (its tracker may be reused)."""
    return (scope or session()).cards.get(task_id)
