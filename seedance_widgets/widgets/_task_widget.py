"""`TaskWidget`: one task, live: status, progress, elapsed, ETA, cancel, the video inline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from .._client import AsyncSeedanceClient
from .._task import Task
from ._base import WidgetBase
from ._tracker import TaskTracker

if TYPE_CHECKING:
    from ._panel import SeedancePanel


class TaskWidget(WidgetBase):
    """Shows one task. `TaskWidget(task)` starts following it on the kernel's loop."""

    _view = traitlets.Unicode("task").tag(sync=True)
    task = traitlets.Dict().tag(sync=True)

    def __init__(self, task: Task | str | TaskTracker, *, client: AsyncSeedanceClient | None = None,
                 panel: SeedancePanel | None = None, save_videos: bool = True,
                 video_delivery: str = "url", **kwargs: Any) -> None:
        super().__init__(client=client, video_delivery=video_delivery, **kwargs)
        self._panel = panel
        if isinstance(task, TaskTracker):
            tracker = task
        else:
            snap = task if isinstance(task, Task) else Task(id=str(task))
            tracker = TaskTracker(self.client, snap, save_videos=save_videos)
        self.tracker = tracker
        self._follow(tracker, poll=not tracker.following)
        self._refresh()

    def _refresh(self) -> None:
        actions = ("extend", "use_last_frame", "rerun") if self._panel else ()
        self.task = self.tracker.card(actions=actions, video_src=self._video_delivery)

    def _action(self, action: str, tracker: TaskTracker) -> None:
        if self._panel is not None:
            self._panel.apply_action(action, tracker)

    @property
    def snapshot(self) -> Task:
        return self.tracker.task

    def static_html(self) -> str:
        return self.tracker.static_html()

    def __repr__(self) -> str:
        return f"TaskWidget({self.tracker.task.summary()})"
