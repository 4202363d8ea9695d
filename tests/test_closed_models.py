"""Models the front end has closed, and where the bundle goes (the marimo facts, without a browser).

marimo closes every model a cell made when that cell runs again; the Python objects live on. A
closed card, asset or panel must then be treated as gone, not handed to the next view.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from seedance_widgets import AsyncSeedanceClient, History, SeedancePanel, TaskWidget, VideoRequest
from seedance_widgets.emulator import Emulator, Timings
from seedance_widgets.widgets import _assets, _base, _session


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(timings=Timings(queue_s=0.2, run_s=0.5)) as e:
        yield e


@pytest.fixture
def client(emu: Emulator, tmp_path: Path) -> AsyncSeedanceClient:
    return AsyncSeedanceClient(emu.api_key, emu.base_url, history=History(tmp_path / "h.db"))


def _close_from_the_front_end(widget: object) -> None:
    """What marimo does when the cell that made a model runs again: the comm closes, the
    Python object stays."""
    widget.comm._closed = True  # type: ignore[attr-defined]


async def test_a_card_the_front_end_closed_is_replaced(client: AsyncSeedanceClient) -> None:
    task = await client.create(VideoRequest(model="seedance-2.0-fast", prompt="a boat",
                                            duration=4))
    first = TaskWidget(task, client=client)
    old = first.card
    old_id = old.model_id
    _close_from_the_front_end(old)
    again = TaskWidget(task, client=client)
    assert again.card is not old and _assets.alive(again.card)
    assert again.card.model_id != old_id and again.tracker is first.tracker
    assert old.comm is None  # closed here too: it no longer follows the task
    assert old._changed not in first.tracker._listeners
    # A widget that still holds the dead card takes the live one when it shows the task again.
    first._show(first.tracker, poll=False)
    assert first._cards[task.id] is again.card
    for w in (first, again):
        w.close()


async def test_actions_go_to_the_newest_panel_the_front_end_still_has(
        client: AsyncSeedanceClient) -> None:
    task = await client.create(VideoRequest(model="seedance-2.0-fast", prompt="a fox",
                                            duration=4))
    kept = SeedancePanel(client, refresh_catalog=False, gallery=False)
    gone = SeedancePanel(client, refresh_catalog=False, gallery=False)
    _close_from_the_front_end(gone)
    card = TaskWidget(task, client=client)
    card._dispatch({"type": "action", "action": "rerun", "id": task.id}, [])
    assert kept.form["prompt"] == "a fox" and gone.form["prompt"] == ""
    for w in (card, gone, kept):
        w.close()


async def test_the_shared_asset_and_layout_come_back_after_a_close(
        client: AsyncSeedanceClient) -> None:
    asset, layout = _assets.shared_asset(), _assets.shared_layout()
    assert asset is not None and asset.sha
    _close_from_the_front_end(asset)
    _close_from_the_front_end(layout)
    assert _assets.shared_asset() is not asset and _assets.shared_layout() is not layout
    assert _assets.alive(_assets.shared_asset()) and _assets.alive(_assets.shared_layout())


def test_the_bundle_is_inlined_only_inside_marimo(monkeypatch: pytest.MonkeyPatch) -> None:
    # In a Jupyter kernel (here: plain Python) importing marimo changes nothing: the loader.
    if importlib.util.find_spec("marimo") is not None:
        import marimo  # noqa: F401
    assert not _assets.inline_bundle()
    assert len(_assets.widget_esm()) < 4000  # the loader, not the 35 KB bundle
    monkeypatch.setattr(_assets, "inline_bundle", lambda: True)
    assert _assets.shared_asset() is None  # marimo: each widget carries the bundle itself


async def test_marimo_run_sessions_share_no_models_and_no_panel(
        client: AsyncSeedanceClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """`marimo run` serves each viewer from a thread of one process: a session per thread."""
    monkeypatch.setattr(_session, "in_marimo", lambda: True)
    found: dict[str, _session.Session] = {}

    def note() -> None:
        found[threading.current_thread().name] = _session.session()

    threads = [threading.Thread(target=note, name=f"viewer{i}") for i in range(2)]
    for t in threads:
        t.start()
        t.join()
    assert found["viewer0"] is not found["viewer1"]
    assert _session.session() is _session.session()  # stable within one thread

    task = await client.create(VideoRequest(model="seedance-2.0-fast", prompt="an owl",
                                            duration=4))
    a, b = _session.Session(), _session.Session()
    monkeypatch.setattr(_base, "session", lambda: a)
    panel_a = SeedancePanel(client, refresh_catalog=False, gallery=False)
    seen_a = TaskWidget(task, client=client)
    monkeypatch.setattr(_base, "session", lambda: b)
    seen_b = TaskWidget(task, client=client)
    assert seen_b.card is not seen_a.card  # viewer b's page never got viewer a's model
    seen_b._dispatch({"type": "action", "action": "rerun", "id": task.id}, [])
    assert panel_a.form["prompt"] == ""  # viewer b's click never fills viewer a's panel
    assert "no SeedancePanel" in seen_b.tracker.note
    for w in (seen_a, seen_b, panel_a):
        w.close()
