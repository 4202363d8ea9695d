"""What the three widgets share: the bundle, the loop bridge, card messages and the fallback.

Every instance saves its own copy of `_esm` into a notebook, so there is one small bundle for
all views (picked by `_view`) and one Gallery for many tasks, never one widget per task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from .._client import AsyncSeedanceClient
from .._errors import SeedanceError
from ._loop import LoopBridge
from ._tracker import TaskTracker

log = logging.getLogger("seedance_widgets")
STATIC = Path(__file__).parent.parent / "static"
VIDEO_DELIVERY = ("url", "kernel")
_closing: set[asyncio.Task[None]] = set()


def bundle(name: str) -> Path | str:
    path = STATIC / name
    if path.exists():
        return path
    # A source checkout without `npm run build`: say so in the widget instead of failing.
    return ("export default { render({ el }) { el.textContent = 'seedance_widgets: the front-end "
            "bundle is missing; run `npm run build` in js/ or reinstall the package.'; } }"
            if name.endswith(".js") else "")


class WidgetBase(anywidget.AnyWidget):
    _esm = bundle("widget.js")
    _css = bundle("widget.css")
    _view = traitlets.Unicode("").tag(sync=True)

    def __init__(self, *, client: AsyncSeedanceClient | None = None,
                 video_delivery: str = "url", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if video_delivery not in VIDEO_DELIVERY:
            raise ValueError(f"video_delivery {video_delivery!r}: allowed: url, kernel")
        self._bridge = LoopBridge(on_error=self._background_error)
        self._client = client
        self._owns_client = False
        self._video_delivery = video_delivery
        self._trackers: dict[str, TaskTracker] = {}
        self.on_msg(self._receive)

    # ------------------------------------------------------------------ client
    @property
    def client(self) -> AsyncSeedanceClient:
        if self._client is None:
            from ._demo import connect

            self._client = connect()
            self._owns_client = True
        return self._client

    # ------------------------------------------------------------------ messages
    def _receive(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        # May run on a subshell thread: hop to the kernel's main loop before touching state.
        if isinstance(content, dict):
            self._bridge.call(self._dispatch, content, list(buffers or []))

    def _dispatch(self, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type")
        tracker = self._trackers.get(str(content.get("id", "")))
        if kind == "cancel" and tracker:
            self._bridge.spawn(tracker.cancel())
        elif kind == "save" and tracker:
            self._bridge.spawn(self._save(tracker))
        elif kind == "need_video" and tracker:
            self._bridge.spawn(self._send_media(tracker, "video"))
        elif kind == "need_frame" and tracker:
            self._bridge.spawn(self._send_media(tracker, "frame"))
        elif kind == "action" and tracker:
            self._action(str(content.get("action")), tracker)
        else:
            self._message(kind, content, buffers)

    def _message(self, kind: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        log.debug("ignored message %r", kind)

    def _action(self, action: str, tracker: TaskTracker) -> None:
        log.debug("no panel linked for action %s", action)

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

    # ------------------------------------------------------------------ trackers
    def _follow(self, tracker: TaskTracker, *, poll: bool = True) -> TaskTracker:
        """Show `tracker` here; `poll=False` when another widget (the gallery) polls it."""
        self._trackers[tracker.id] = tracker
        tracker.subscribe(self._tracker_changed)
        if poll:
            tracker.start(self._bridge.spawn)
        return tracker

    def _tracker_changed(self, tracker: TaskTracker) -> None:
        self._refresh()

    def _refresh(self) -> None:
        raise NotImplementedError

    def _background_error(self, exc: BaseException) -> None:
        log.error("background error in %s: %s", type(self).__name__, exc)

    # ------------------------------------------------------------------ display + lifetime
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle_ = super()._repr_mimebundle_(**kwargs)
        data = bundle_[0] if isinstance(bundle_, tuple) else bundle_
        if isinstance(data, dict):
            data["text/html"] = self.static_html()
            data["text/plain"] = repr(self)
        return bundle_

    def static_html(self) -> str:
        return ""

    def close(self) -> None:
        """Stop polling and close owned HTTP clients; remote tasks keep running."""
        for tracker in self._trackers.values():
            tracker.unsubscribe(self._tracker_changed)
        self._bridge.close()  # cancels the polls this widget started, and only those
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            # With no loop left the process is ending, and its sockets go with it.
            with contextlib.suppress(RuntimeError):
                task = self._bridge.loop.create_task(client.aclose())
                _closing.add(task)  # the loop keeps only weak references
                task.add_done_callback(_closing.discard)
        super().close()
