"""Run widget work on the kernel's main event loop, from whatever thread a message arrives on.

JupyterLab 4.4+ may deliver comm messages on a subshell thread with its own loop. Work started
there would live on the wrong loop, and non-thread-safe calls into the main loop may never wake
it. So the loop is captured when the widget is built (in a cell, on the main thread), and every
callback hops to it with call_soon_threadsafe. Tasks are kept in a set: the loop itself holds
only weak references.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger("seedance_widgets")


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class LoopBridge:
    def __init__(self, on_error: Callable[[BaseException], None] | None = None) -> None:
        self._loop = _running_loop()
        self._thread = threading.get_ident() if self._loop else None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_error = on_error
        self._closed = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._loop.is_closed():
            # Built outside any loop (a plain script): adopt the first loop that uses us.
            loop = _running_loop()
            if loop is None:
                raise RuntimeError("no event loop: call this from async code or a notebook cell")
            self._loop, self._thread = loop, threading.get_ident()
        return self._loop

    def on_loop_thread(self) -> bool:
        return self._loop is not None and threading.get_ident() == self._thread

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run fn(*args) on the main loop: now if we are on it, else as soon as it is free."""
        if self._closed:
            return
        if self._loop is None or self.on_loop_thread():
            # No loop captured (plain script): there is nothing to hop to.
            self._guarded(fn, *args)
        else:
            self.loop.call_soon_threadsafe(self._guarded, fn, *args)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, report: bool = True
              ) -> asyncio.Task[Any] | None:
        """Start a coroutine on the main loop (only from the loop thread) and keep it alive.

        `report=False` when a caller awaits the task and handles its errors itself.
        """
        if self._closed:
            coro.close()
            return None
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, report))
        return task

    def _done(self, task: asyncio.Task[Any], report: bool) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()  # also marks it retrieved: no "never retrieved" noise
        if exc is not None and report:
            self._report(exc)

    def _guarded(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # a widget callback must never die silently
            self._report(exc)

    def _report(self, exc: BaseException) -> None:
        log.error("seedance_widgets background error: %s", exc, exc_info=exc)
        if self._on_error is not None:
            try:
                self._on_error(exc)
            except Exception:
                log.exception("error handler failed")

    def close(self) -> None:
        self._closed = True
        tasks, self._tasks = list(self._tasks), set()
        if not tasks or self._loop is None or self._loop.is_closed():
            return
        if self.on_loop_thread():
            for task in tasks:
                task.cancel()
        else:  # Task.cancel is not thread-safe
            for task in tasks:
                self._loop.call_soon_threadsafe(task.cancel)
