"""`TaskWidget`: one task, live: status, progress, elapsed, ETA, cancel, the video inline.

It shows the kernel's one card model of the task, so a `TaskWidget` beside a gallery costs no
second poll and no second copy of the card; its saved state is the loader and that card.
"""

from __future__ import annotations

from typing import Any

import traitlets

from .._client import AsyncSeedanceClient
from .._task import Task
from ._base import ActionHandler, WidgetBase, child
from ._card import CardModel, shared_card
from ._tracker import TaskTracker


class TaskWidget(WidgetBase):
    """Shows one task. `TaskWidget(task)` starts following it on the kernel's loop; its
    Extend, Use last frame and Re-run go to `on_action` (by default the latest panel)."""

    _view = traitlets.Unicode("task").tag(sync=True)
    card = traitlets.Any(None).tag(**child())

    def __init__(self, task: Task | str | TaskTracker, *, client: AsyncSeedanceClient | None = None,
                 on_action: ActionHandler | None = None, save_videos: bool = True,
                 video_delivery: str = "url", **kwargs: Any) -> None:
        super().__init__(client=client, video_delivery=video_delivery, on_action=on_action,
                         **kwargs)
        if isinstance(task, TaskTracker):
            tracker = task
        else:
            snap = task if isinstance(task, Task) else Task(id=str(task))
            shared = shared_card(snap.id, self._session)
            tracker = shared.tracker if shared is not None else TaskTracker(
                self.client, snap, save_videos=save_videos)
        if self._client is None:
            self._client = tracker.client  # the task's own client, never a new demo one
        self.tracker = tracker
        self.card: CardModel = self._show(tracker, poll=not tracker.following)

    @property
    def snapshot(self) -> Task:
        return self.tracker.task

    @property
    def task(self) -> dict[str, Any]:
        """The card's state (info and live merged)."""
        return {**self.card.info, **self.card.live}

    def static_html(self) -> str:
        return self.card.static_html()

    def __repr__(self) -> str:
        return f"TaskWidget({self.tracker.task.summary()})"
