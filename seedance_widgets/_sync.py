"""`SeedanceClient`: the sync facade for scripts, on the same async core.

It runs the async client on a private event loop in a background thread, so it also works
inside a running loop (a notebook cell) without patching asyncio. Retry and poll logic live
only in the async core.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from ._assets import Assets
from ._catalog import ModelSpec
from ._client import (
    DEFAULT_DOWNLOAD_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    AsyncSeedanceClient,
    CancelResult,
    TaskRef,
)
from ._media_host import Media
from ._request import VideoRequest
from ._task import Task

T = TypeVar("T")


class _LoopThread:
    """One daemon thread running one event loop; coroutines are submitted thread-safely."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="seedance-sync-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self._thread:
            raise RuntimeError("SeedanceClient called from its own loop thread")
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # Ctrl-C in a script stops the call, not just the waiting
            raise

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=5)
        if not self.loop.is_running() and not self.loop.is_closed():
            self.loop.close()


class SeedanceClient:
    """Blocking client with the same methods as AsyncSeedanceClient. Use `with` or close()."""

    def __init__(self, *args: Any, client: AsyncSeedanceClient | None = None, **kwargs: Any
                 ) -> None:
        self._loop = _LoopThread()
        try:
            self._async = client or self._loop.run(_make(args, kwargs))
        except BaseException:
            self._loop.stop()
            raise
        self.assets = Assets(self._async.assets, self._loop.run)
        self.media = Media(self._async.media, self._loop.run)

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncSeedanceClient", "SeedanceClient")

    @property
    def aio(self) -> AsyncSeedanceClient:
        return self._async

    def __enter__(self) -> SeedanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self._loop.loop.is_closed():
            self._loop.run(self._async.aclose())
            self._loop.stop()

    def create(self, request: VideoRequest | Mapping[str, Any] | None = None, /,
               **fields: Any) -> Task:
        return self._loop.run(self._async.create(request, **fields))

    def get(self, task: TaskRef, *, timeout: float | None = None) -> Task:
        return self._loop.run(self._async.get(task, timeout=timeout))

    def cancel(self, task: TaskRef, *, timeout: float | None = 60.0) -> CancelResult:
        return self._loop.run(self._async.cancel(task, timeout=timeout))

    def wait(self, task: TaskRef, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT,
             on_update: Callable[[Task], Any] | None = None, raise_on_failure: bool = True
             ) -> Task:
        return self._loop.run(self._async.wait(task, timeout=timeout, on_update=on_update,
                                               raise_on_failure=raise_on_failure))

    def watch(self, task: TaskRef, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT
              ) -> Iterator[Task]:
        agen = self._async.watch(task, timeout=timeout)
        try:
            while True:
                try:
                    yield self._loop.run(agen.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._loop.run(agen.aclose())

    def download(self, task: TaskRef, path_or_dir: str | Path | None = None, *,
                 timeout: float | None = DEFAULT_DOWNLOAD_TIMEOUT) -> Path:
        return self._loop.run(self._async.download(task, path_or_dir, timeout=timeout))

    def model(self, model_id: str) -> ModelSpec:
        return self._loop.run(self._async.model(model_id))

    def pricing(self, model_id: str) -> dict[str, Any]:
        return self._loop.run(self._async.pricing(model_id))

    def resume_unfinished(self) -> list[Task]:
        return self._loop.run(self._async.resume_unfinished())


async def _make(args: tuple[Any, ...], kwargs: dict[str, Any]) -> AsyncSeedanceClient:
    # Built on the loop thread: an httpx.AsyncClient belongs to the loop that uses it.
    return AsyncSeedanceClient(*args, **kwargs)
