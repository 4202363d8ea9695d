"""`Gallery`: every run as a card, in one widget, for prompt iteration.

One widget for many tasks keeps a saved notebook small: the bundle is stored once, and each
card is a few hundred bytes of metadata (URLs, never video bytes).
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import traitlets

from ._client import AsyncSeedanceClient
from ._errors import HistoryError
from ._request import VideoRequest
from ._task import Task, TaskErrorInfo
from ._tracker import TaskTracker
from ._widget_base import WidgetBase
from .history import History, HistoryEntry

if TYPE_CHECKING:
    from ._widget_panel import SeedancePanel

log = logging.getLogger("seedance_widgets")


class Gallery(WidgetBase):
    _view = traitlets.Unicode("gallery").tag(sync=True)
    tasks = traitlets.List(traitlets.Dict()).tag(sync=True)
    title = traitlets.Unicode("Seedance runs").tag(sync=True)

    def __init__(self, *, client: AsyncSeedanceClient | None = None,
                 panel: SeedancePanel | None = None, title: str = "Seedance runs",
                 video_delivery: str = "url", **kwargs: Any) -> None:
        super().__init__(client=client, video_delivery=video_delivery, title=title, **kwargs)
        self.panel = panel
        self._order: list[str] = []  # oldest first; shown newest first

    def add(self, item: Task | TaskTracker) -> TaskTracker:
        """Show a task (or a tracker another widget made) and follow it until it ends."""
        tracker = item if isinstance(item, TaskTracker) else TaskTracker(self.client, item)
        if tracker.id not in self._trackers:
            self._order.append(tracker.id)
        self._follow(tracker, poll=not tracker.following)
        self._refresh()
        return tracker

    @property
    def trackers(self) -> list[TaskTracker]:
        return [self._trackers[i] for i in self._order]

    def _refresh(self) -> None:
        actions = ("extend", "use_last_frame", "rerun") if self.panel else ()
        cards, previous = [], None
        for tracker in self.trackers:
            cards.append(tracker.card(actions=actions, previous=previous,
                                      video_src=self._video_delivery))
            previous = tracker.request_body or previous
        self.tasks = cards[::-1]

    def _action(self, action: str, tracker: TaskTracker) -> None:
        if self.panel is not None:
            self.panel.apply_action(action, tracker)

    @classmethod
    def from_history(cls, client: AsyncSeedanceClient | None = None, *,
                     history: History | None = None, journal: History | None = None,
                     **kwargs: Any) -> Gallery:
        """A gallery of every recorded task; unfinished ones on this server resume updating."""
        gallery = cls(client=client, **kwargs)
        store = history or journal or gallery.client.history or History()
        try:
            entries = store.entries()
        except HistoryError as exc:  # history off: an empty gallery, never an exception
            log.warning("%s", exc)
            entries = []
        for entry in entries:
            gallery.add(_tracker_from_entry(gallery.client, store, entry))
        return gallery

    def static_html(self) -> str:
        cards = "".join(t.static_html() for t in reversed(self.trackers))
        return f"<div><h4>{html.escape(self.title)}</h4>{cards}</div>"

    def __repr__(self) -> str:
        return f"Gallery({len(self._order)} tasks)"


def _tracker_from_entry(client: AsyncSeedanceClient, store: History, entry: HistoryEntry
                        ) -> TaskTracker:
    try:
        # Dropped images are kept beside the history; the request gets them back for re-runs.
        body = store.full_request(entry) or {}
        request = VideoRequest.model_validate(body, context={"catalog": client.catalog})
    except (ValueError, HistoryError):
        request = None
    task = Task(id=entry.id, status=entry.status, progress=entry.progress,
                video_url=entry.video_url, last_frame_url=entry.last_frame_url,
                cancelled=entry.cancelled, cost_usd=entry.cost_usd, request=request,
                created_at=entry.created_at,
                error=TaskErrorInfo(message=entry.error) if entry.error else None,
                model=(entry.request or {}).get("model"))
    tracker = TaskTracker(client, task, save_videos=True)
    if entry.local_path:
        tracker.saved_path = Path(entry.local_path)
    if entry.server != client.server_label:
        # Another server's task (a live key vs the demo): show it, never poll it with our key.
        tracker.followable = False
        tracker.note = "" if entry.is_terminal else f"on {entry.server}; not followed here"
    return tracker
