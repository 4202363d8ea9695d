"""What the three widgets share: the loader, the loop bridge, card messages and the fallback.

Each widget carries the tiny loader `_esm` and a reference to the kernel's one bundle asset
(under marimo, the bundle itself: see `_assets`).
Card messages (cancel, save, media, code, star, note, the three actions) name a task by id and
are handled here for every view; actions go to the `on_action` callback the widget was given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

from .._client import AsyncSeedanceClient
from .._errors import SeedanceError
from . import _protocol as protocol
from ._assets import shared_asset, shared_layout, widget_css, widget_esm
from ._card import CardModel, card_for
from ._history import HistorySource
from ._loop import LoopBridge
from ._session import alive, session
from ._tracker import TaskTracker

log = logging.getLogger("seedance_widgets")
VIDEO_DELIVERY = ("url", "kernel")
ActionHandler = Callable[[str, TaskTracker], None]
_closing: set[asyncio.Task[None]] = set()


def _to_ref(value: Any, _widget: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [f"anywidget:{v.model_id}" for v in value]
    return f"anywidget:{value.model_id}"


def child(**kw: Any) -> dict[str, Any]:
    """Sync metadata of a trait that holds child models, sent as anywidget refs."""
    return {"sync": True, "to_json": _to_ref, "from_json": lambda v, _w: v, **kw}


class WidgetBase(anywidget.AnyWidget):
    _esm = widget_esm()
    _css = widget_css()
    _view = traitlets.Unicode("").tag(sync=True)
    _asset = traitlets.Any(None).tag(**child())

    def __init__(self, *, client: AsyncSeedanceClient | None = None,
                 video_delivery: str = "url", on_action: ActionHandler | None = None,
                 history: Any = None, **kwargs: Any) -> None:
        if video_delivery not in VIDEO_DELIVERY:
            raise ValueError(f"video_delivery {video_delivery!r}: allowed: url, kernel")
        # The front-end session this widget belongs to (marimo run: one per viewer).
        self._session = session()
        kwargs.setdefault("layout", shared_layout(self._session))
        super().__init__(**kwargs)
        self._asset = shared_asset(self._session)
        self._bridge = LoopBridge(on_error=self._background_error)
        self._client = client
        self._owns_client = False
        self._video_delivery = video_delivery
        self._on_action = on_action
        self._history_store = history
        self._history: HistorySource | None = None
        self._cards: dict[str, CardModel] = {}
        self._display_ids: list[str] = []
        self._fallback_dirty = False
        self._stale_cards: set[CardModel] = set()
        self.on_msg(self._receive)

    # ------------------------------------------------------------------ client, history
    @property
    def client(self) -> AsyncSeedanceClient:
        if self._client is None:
            from .._demo import connect

            self._client = connect()
            self._owns_client = True
        return self._client

    @property
    def history(self) -> HistorySource:
        if self._history is None:
            self._history = HistorySource(self.client, self._history_store)
        return self._history

    # ------------------------------------------------------------------ messages
    def _receive(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        msg = protocol.parse(content)
        if msg is None:
            return
        if msg["type"] in ("ping", "submit"):
            # Answered at once, from whatever thread: the page uses it to tell a lost kernel.
            self.send({"type": "pong", "n": msg.get("n", 0)})
            if msg["type"] == "ping":
                return
        # May run on a subshell thread: hop to the kernel's main loop before touching state.
        self._bridge.call(self._dispatch, msg, list(buffers or []))

    def _dispatch(self, msg: dict[str, Any], buffers: list[Any]) -> None:
        kind = msg["type"]
        card = self._cards.get(str(msg.get("id", "")))
        if "id" in msg and kind not in ("submit",) and card is None:
            log.warning("seedance_widgets: %s for a task not shown here: %s", kind, msg.get("id"))
            return
        if card is None:
            self._message(kind, msg, buffers)
            return
        tracker = card.tracker
        if kind == "cancel":
            self._bridge.spawn(tracker.cancel())
        elif kind == "save":
            self._bridge.spawn(self._save(tracker))
        elif kind in ("need_video", "need_frame"):
            self._bridge.spawn(self._send_media(tracker, kind.removeprefix("need_")))
        elif kind == "code":
            self.send({"type": "code", "id": card.id, **card.code(base_url=self.client.base_url)})
        elif kind == "action" and msg.get("action") in protocol.ACTIONS:
            self._act(str(msg["action"]), card)
        elif kind == "star":
            card.starred = bool(msg.get("starred"))
            card.history_on = self.history.star(card.id, card.starred)
            card.refresh()
        elif kind == "note":
            card.note = str(msg.get("note") or "")[:2000]
            card.history_on = self.history.set_note(card.id, card.note)
            card.refresh()

    def _message(self, kind: str, msg: dict[str, Any], buffers: list[Any]) -> None:
        log.warning("seedance_widgets: %s has no use for a %r message", type(self).__name__, kind)

    def _act(self, action: str, card: CardModel) -> None:
        # Else the newest panel of this session the front end still has (marimo closes a cell's
        # models when it runs again, leaving the old panel object behind).
        handler = self._on_action or next((h for h in reversed(self._session.panels)
                                           if alive(getattr(h, "__self__", None))), None)
        if handler is None:
            card.tracker.note = ("no SeedancePanel in this kernel: make one (SeedancePanel()) "
                                 f"to {action.replace('_', ' ')} this task")
            card.refresh()
            return
        handler(action, card.tracker)

    async def _save(self, tracker: TaskTracker) -> None:
        try:
            tracker.saved_path = await self.client.download(tracker.task)
        except SeedanceError as exc:
            tracker.note = f"save failed: {exc}"
        tracker._notify()

    async def _send_media(self, tracker: TaskTracker, what: str) -> None:
        try:
            if what == "video":
                data, mime = await tracker.video_bytes(), "video/mp4"
            else:
                data, mime = await tracker.frame_bytes(), "image/png"
        except SeedanceError as exc:
            tracker.note = f"could not load the {what}: {exc}"
            tracker._notify()
            return
        self.send({"type": what, "id": tracker.id, "mime": mime}, buffers=[data])

    # ------------------------------------------------------------------ cards
    def _show(self, tracker: TaskTracker, *, poll: bool = True, **card_kw: Any) -> CardModel:
        """Show `tracker` here through the session's one card model of it."""
        card = card_for(tracker, scope=self._session, video_src=self._video_delivery, **card_kw)
        if self._cards.get(card.id) is not card:  # new here, or a dead model replaced
            self._cards[card.id] = card
            card.observe(self._on_card_live, names="live")
            self._fallback_dirty = True
        if poll:
            tracker.start(self._bridge.spawn)
        return card

    def _on_card_live(self, change: dict[str, Any]) -> None:
        if self._display_ids:
            self._stale_cards.add(change["owner"])
        old, new = change.get("old") or {}, change.get("new") or {}
        if (old.get("display_status"), old.get("saved_path")) != (
                new.get("display_status"), new.get("saved_path")):
            self._fallback_dirty = True
            self._update_fallback(clear=False)  # for JupyterLab now; the cell end flushes again

    def _background_error(self, exc: BaseException) -> None:
        log.error("background error in %s: %s", type(self).__name__, exc)

    # ------------------------------------------------------------------ display + fallback
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            data["text/plain"] = repr(self)
        return bundle

    def _ipython_display_(self) -> None:
        """The view, then a script-free snapshot that follows the state (by display id).

        The snapshot carries an empty widget-view model id, which JupyterLab and Notebook 7
        render as nothing; nbconvert and VS Code, which cannot show the widget, show the HTML,
        updated until the kernel stops, so an executed notebook keeps each run's final state.
        """
        from IPython.display import display

        bundle = self._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        display(data, raw=True)
        display_id = f"seedance-{self.model_id}-{len(self._display_ids)}"
        self._display_ids.append(display_id)
        display(self._fallback_bundle(), raw=True, display_id=display_id)
        self._fallback_dirty = False
        ip = _ipython()
        if ip is not None and len(self._display_ids) == 1:
            # Updates sent from a poll belong to the cell that started it, and nbclient (so
            # nbconvert --execute) reads only the running cell's messages: so the snapshot is
            # also refreshed at the end of every cell, inside that cell.
            ip.events.register("post_run_cell", self._flush_fallback)

    def _fallback_bundle(self) -> dict[str, Any]:
        return {"application/vnd.jupyter.widget-view+json":
                {"model_id": "", "version_major": 2, "version_minor": 1},
                "text/html": self.static_html(), "text/plain": ""}

    def _flush_fallback(self, *_: Any) -> None:
        # A poll's state changes are sent under the cell that started it; nbclient records
        # widget state only from the running cell, so the end of each cell re-sends them.
        stale, self._stale_cards = self._stale_cards, set()
        for card in stale:
            if card.comm is not None:
                card.send_state(["info", "live"])
        if self._fallback_dirty:
            self._update_fallback()

    def _update_fallback(self, *, clear: bool = True) -> None:
        if not self._display_ids:
            return
        if clear:
            self._fallback_dirty = False
        from IPython.display import update_display

        bundle = self._fallback_bundle()
        for display_id in self._display_ids:
            with contextlib.suppress(Exception):
                update_display(bundle, raw=True, display_id=display_id)

    def static_html(self) -> str:
        return ""

    def close(self) -> None:
        """Stop polling and close owned HTTP clients; remote tasks keep running."""
        for card in getattr(self, "_cards", {}).values():
            with contextlib.suppress(ValueError):
                card.unobserve(self._on_card_live, names="live")
        ip = _ipython()
        if ip is not None and getattr(self, "_display_ids", None):
            with contextlib.suppress(ValueError):
                ip.events.unregister("post_run_cell", self._flush_fallback)
        if not hasattr(self, "_bridge"):  # construction failed before the bridge existed
            super().close()
            return
        self._bridge.close()  # cancels the polls this widget started, and only those
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            # With no loop left the process is ending, and its sockets go with it.
            with contextlib.suppress(RuntimeError):
                task = self._bridge.loop.create_task(client.aclose())
                _closing.add(task)  # the loop keeps only weak references
                task.add_done_callback(_closing.discard)
        super().close()


def _ipython() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
