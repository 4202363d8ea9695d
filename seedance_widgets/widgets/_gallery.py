"""`Gallery`: every run as a card, newest first, a page at a time, for prompt iteration.

Cards are child models shared with the panel and task widgets, so a poll of one task sends that
card's small `live` dict and nothing else, however many runs are shown. Older runs, search and
the filters come from the history store a page at a time (`more`), so opening a gallery over
10,000 runs reads one page, not all of them.
"""

from __future__ import annotations

import html
import logging
from typing import Any

import traitlets

from .._catalog import default_catalog
from .._client import AsyncSeedanceClient
from .._task import Task
from ..history import HistoryEntry
from ._base import WidgetBase, child
from ._card import CardModel, card_for, shared_card
from ._history import PAGE, tracker_from_entry
from ._session import alive
from ._tracker import TaskTracker

log = logging.getLogger("seedance_widgets")
QUERY_DEFAULT = {"search": "", "status": "all", "model": "all", "starred": False}


class Gallery(WidgetBase):
    """`Gallery()` shows runs as they are added; `Gallery.from_history()` opens on the newest
    page of the history. Actions (extend, re-run, last frame) go to `on_action`, by default
    the most recent `SeedancePanel`."""

    _view = traitlets.Unicode("gallery").tag(sync=True)
    title = traitlets.Unicode("Seedance runs").tag(sync=True)
    cards = traitlets.List().tag(**child())
    status = traitlets.Dict().tag(sync=True)
    query = traitlets.Dict(dict(QUERY_DEFAULT)).tag(sync=True)

    def __init__(self, *, client: AsyncSeedanceClient | None = None, title: str = "Seedance runs",
                 video_delivery: str = "url", on_action: Any = None, history: Any = None,
                 page_size: int = PAGE, **kwargs: Any) -> None:
        super().__init__(client=client, video_delivery=video_delivery, on_action=on_action,
                         history=history, title=title, **kwargs)
        self.page_size = page_size
        self._cursor: Any = None
        self._exhausted = False
        self._total: int | None = self.history.count()
        self._publish()

    # ------------------------------------------------------------------ adding runs
    def add(self, item: Task | TaskTracker) -> TaskTracker:
        """Show a task (or a tracker another widget made) first, and follow it until it ends."""
        tracker = item if isinstance(item, TaskTracker) else TaskTracker(self.client, item)
        card = self._show(tracker, poll=not tracker.following)
        if card not in self.cards:
            self.cards = [card, *self.cards]
            if self._total is not None:
                self._total += 1
        self._publish()
        return tracker

    @property
    def trackers(self) -> list[TaskTracker]:
        """Shown tasks, oldest first."""
        return [c.tracker for c in reversed(self.cards)]

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """Each shown card's state (info and live merged), newest first."""
        return [{**c.info, **c.live} for c in self.cards]

    # ------------------------------------------------------------------ pages and queries
    def more(self) -> int:
        """Show the next page of older runs from the history; returns how many were added."""
        if self._exhausted:
            return 0
        q = self.query
        page = self.history.page(self.page_size, self._cursor, status=_opt(q.get("status")),
                                 model=_opt(q.get("model")), starred=q.get("starred") or None,
                                 search=q.get("search") or None)
        self._cursor = page.next_cursor
        self._exhausted = page.next_cursor is None
        self._total = page.total if self.history.readable else None
        shown = {c.id for c in self.cards}
        new: list[CardModel] = []
        for entry in page.entries:
            if entry.id in shown:
                continue
            card = self._card_of(entry)
            new.append(card)
        if new:
            self.cards = [*self.cards, *new]
        self._publish()
        return len(new)

    def _card_of(self, entry: HistoryEntry) -> CardModel:
        existing = self._cards.get(entry.id)
        if alive(existing):
            return existing
        shared = shared_card(entry.id, self._session)
        tracker = (shared.tracker if shared is not None
                   else tracker_from_entry(self.client, entry, self.history.store))
        card = self._show(tracker, poll=not tracker.following)
        if shared is None:
            card.starred, card.note = entry.starred, entry.note
            card.history_on = self.history.available
            card.refresh()
        return card

    def search(self, text: str = "", *, status: str = "all", model: str = "all",
               starred: bool = False) -> None:
        """Show the runs that match, newest first, from the history (a page at a time)."""
        self.query = {"search": text, "status": status, "model": model, "starred": starred}
        self._cursor, self._exhausted = None, False
        if self.history.readable:
            self.cards = []
            self.more()
        else:
            self._publish()  # without a history the page filters what it has

    def _message(self, kind: str, msg: dict[str, Any], buffers: list[Any]) -> None:
        if kind == "more":
            self.more()
        elif kind == "query":
            self.search(str(msg.get("search") or ""), status=str(msg.get("status") or "all"),
                        model=str(msg.get("model") or "all"), starred=bool(msg.get("starred")))
        else:
            super()._message(kind, msg, buffers)

    def _publish(self) -> None:
        if not all(alive(c) for c in self.cards):
            # Models the front end closed (marimo: the cell that made them ran again).
            self.cards = [c if alive(c) else self._show(c.tracker, poll=False) for c in self.cards]
        models = list(self.client.catalog.ids()) if self._client is not None else list(
            default_catalog().ids())
        self.status = {"total": self._total if self._total is not None else len(self.cards),
                       "shown": len(self.cards),
                       "has_more": self.history.readable and not self._exhausted and (
                           self._total is None or self._total > len(self.cards)),
                       "history": self.history.readable, "problem": self.history.problem,
                       "models": models}

    # ------------------------------------------------------------------ history
    @classmethod
    def from_history(cls, client: AsyncSeedanceClient | None = None, *, history: Any = None,
                     journal: Any = None, **kwargs: Any) -> Gallery:
        """The newest page of the history at once (`more` for older runs); unfinished tasks
        of this client's server resume updating, other servers' are shown, never polled."""
        gallery = cls(client=client, history=history if history is not None else journal,
                      **kwargs)
        running = gallery.history.unfinished()
        gallery.more()
        shown = {c.id for c in gallery.cards}
        extra = [gallery._card_of(e) for e in running if e.id not in shown]
        if extra:
            gallery.cards = [*extra, *gallery.cards]
            gallery._publish()
        return gallery

    def static_html(self) -> str:
        cards = "".join(c.static_html() for c in self.cards)
        problem = self.history.problem if self._history is not None else None
        note = f"<p><small>{html.escape(problem)}</small></p>" if problem else ""
        return (f"<div><h4>{html.escape(self.title)} ({len(self.cards)})</h4>{note}{cards}"
                "</div>")

    def __repr__(self) -> str:
        return f"Gallery({len(self.cards)} tasks)"


def _opt(value: Any) -> Any:
    return None if value in (None, "", "all") else value


__all__ = ["Gallery", "card_for"]
