"""The widgets from code, with no front end attached, on the real emulator."""

from __future__ import annotations

import asyncio
import io
import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pydantic import ValidationError

from seedance_widgets import (
    AsyncSeedanceClient,
    BudgetExceededError,
    Gallery,
    History,
    SeedancePanel,
    TaskWidget,
)
from seedance_widgets.emulator import Emulator, Timings

SECRET = "sk-widget-test-" + "Z" * 30


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(timings=Timings(queue_s=0.3, run_s=0.8), api_keys=[SECRET]) as e:
        yield e


@pytest.fixture
def client(emu: Emulator, tmp_path: Path) -> AsyncSeedanceClient:
    return AsyncSeedanceClient(SECRET, emu.base_url, history=History(tmp_path / "h.sqlite3"))


def _png(w: int = 8, h: int = 6) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


async def until(predicate, timeout: float = 20.0) -> None:
    t0 = asyncio.get_running_loop().time()
    while not predicate():
        if asyncio.get_running_loop().time() - t0 > timeout:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


async def test_prefill_validate_price_and_field_errors(client: AsyncSeedanceClient) -> None:
    panel = SeedancePanel(client, model="seedance-2.0-fast", prompt="a cat", duration=4,
                          refresh_catalog=False)
    assert panel.request.model == "seedance-2.0-fast" and panel.can_submit
    assert "estimate" in panel.price["label"] and panel.errors == {}
    panel.form = {**panel.form, "resolution": "1080p"}
    assert not panel.can_submit and "480p" in panel.errors["resolution"]
    assert "resolution" in panel.generate["reason"]
    with pytest.raises(ValidationError):
        _ = panel.request
    panel.form = {**panel.form, "resolution": "720p", "operation": "reference-to-video",
                  "references": [{"kind": "audio", "url": "https://x/a.mp3", "name": "a"}]}
    assert "image or video" in panel.errors["references"]
    with pytest.raises(TypeError, match="did you mean 'prompt'"):
        SeedancePanel(client, promt="x", refresh_catalog=False)
    panel.close()


async def test_submit_double_click_budget_and_gallery(client: AsyncSeedanceClient,
                                                      emu: Emulator) -> None:
    panel = SeedancePanel(client, model="seedance-2.0-fast", prompt="one click", duration=4,
                          budget_usd=0.60, refresh_catalog=False)
    # Two clicks as the browser sends them: both messages arrive before either is handled.
    panel._receive(panel, {"type": "submit"}, [])
    panel._receive(panel, {"type": "submit"}, [])
    first = panel._inflight
    assert first is not None and panel.busy
    task = await first
    assert emu.task_count() == 1 and panel.tasks == [task]
    # 4 s 720p fast ≈ $0.47; a second run would cross the $0.60 cap: refused before the click.
    assert not panel.can_submit and "over budget" in panel.generate["reason"]
    with pytest.raises(BudgetExceededError, match="over budget"):
        await panel.submit()
    assert emu.task_count() == 1 and panel.notice["kind"] == "error"
    assert "over budget" in panel.notice["text"]
    gallery = panel.gallery
    assert gallery is not None
    await until(lambda: gallery.tasks and gallery.tasks[0]["status"] == "completed")
    card = gallery.tasks[0]
    assert card["video_url"].startswith("http://127.0.0.1") and card["prompt"] == "one click"
    await until(lambda: panel.current and panel.current.live["saved_path"])
    assert Path(panel.current.live["saved_path"]).exists()
    panel.close()


async def test_message_from_another_thread_runs_on_the_main_loop(
        client: AsyncSeedanceClient, emu: Emulator) -> None:
    """commsOverSubshells delivers messages on a subshell thread with its own loop."""
    panel = SeedancePanel(client, prompt="from a subshell", duration=4, refresh_catalog=False)
    main = asyncio.get_running_loop()
    seen: list[asyncio.AbstractEventLoop] = []
    original = panel._submit

    async def spy():  # type: ignore[no-untyped-def]
        seen.append(asyncio.get_running_loop())
        return await original()

    panel._submit = spy  # type: ignore[method-assign]

    def subshell() -> None:
        loop = asyncio.new_event_loop()  # the subshell thread's own loop
        loop.run_until_complete(asyncio.sleep(0))
        panel._receive(panel, {"type": "submit"}, [])
        panel._receive(panel, {"type": "submit"}, [])
        loop.close()

    thread = threading.Thread(target=subshell)
    thread.start()
    thread.join()
    await until(lambda: panel.tasks)
    assert seen == [main] and emu.task_count() == 1
    panel.close()


async def test_actions_load_the_panel(client: AsyncSeedanceClient) -> None:
    panel = SeedancePanel(client, model="seedance-2.0", prompt="base", duration=4,
                          return_last_frame=True, refresh_catalog=False)
    task = await panel.submit()
    tracker = panel._submitted[0]
    await until(lambda: tracker.task.succeeded)
    panel.apply_action("extend", tracker)
    assert panel.form["operation"] == "video-extension" and panel.form["task_id"] == task.id
    assert panel.can_submit
    panel.apply_action("use_last_frame", tracker)
    assert panel.form["operation"] == "image-to-video"
    assert panel.form["image_url"] == tracker.task.last_frame_url and panel.can_submit
    panel.apply_action("rerun", tracker)
    assert panel.request.to_body() == tracker.request_body
    panel.close()


async def test_dropped_image_becomes_a_data_url_outside_synced_state(
        client: AsyncSeedanceClient) -> None:
    png = _png()
    panel = SeedancePanel(client, operation="reference-to-video", prompt="ref",
                          refresh_catalog=False)
    panel._receive(panel, {"type": "upload", "kind": "image", "name": "cat.png",
                           "mime": "image/png"}, [memoryview(png)])
    refs = panel.form["references"]
    assert refs[0]["url"].startswith("upload://") and panel.can_submit
    assert panel.request.reference_images[0].startswith("data:image/png;base64,")
    assert "base64" not in json.dumps(panel.get_state(), default=str)
    panel._receive(panel, {"type": "upload", "name": "clip.mp4", "mime": "video/mp4"},
                   [memoryview(b"x")])
    assert panel.notice["kind"] == "error" and "URL" in panel.notice["text"]
    panel.close()


async def test_no_secret_in_synced_state_repr_or_fallback(client: AsyncSeedanceClient) -> None:
    panel = SeedancePanel(client, prompt="<script>alert(1)</script>", duration=4,
                          refresh_catalog=False)
    await panel.submit()
    await until(lambda: panel.gallery and panel.gallery.tasks
                and panel.gallery.tasks[0]["status"] == "completed")
    texts = [json.dumps(w.get_state(), default=str) for w in (panel, panel.gallery)]
    texts += [repr(panel), repr(panel.gallery), panel.static_html(),
              panel.gallery.static_html()]
    assert all(SECRET not in t for t in texts)
    html = panel.gallery.static_html()
    assert "<script>" not in html and "&lt;script&gt;" in html and "<source src=" in html
    fallback = panel.gallery._fallback_bundle()  # what nbconvert and VS Code show
    assert fallback["text/html"] == html
    assert fallback["application/vnd.jupyter.widget-view+json"]["model_id"] == ""
    panel.close()


async def test_gallery_state_is_small_per_task(client: AsyncSeedanceClient) -> None:
    gallery = Gallery(client=client)
    for i in range(20):
        task = await client.create(model="seedance-2.0-fast", prompt=f"run {i} " * 8,
                                   duration=4, seed=i)
        gallery.add(task)
    await until(lambda: all(t["status"] == "completed" for t in gallery.tasks), timeout=60)
    state = json.dumps([c.get_state() for c in gallery.cards], default=str)
    assert len(state) / 20 < 3_000, f"{len(state) / 20:.0f} bytes per card"
    assert len(gallery.tasks) == 20
    gallery.close()


async def test_from_history_shows_all_and_resumes_unfinished(emu: Emulator,
                                                             tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    async with AsyncSeedanceClient(SECRET, emu.base_url, history=history) as first:
        done = await first.wait(await first.create(model="seedance-2.0", prompt="old",
                                                   duration=4))
        unfinished = await first.create(model="seedance-2.0", prompt="new", duration=4)
    # "Kernel restart": a new client, a new gallery, only the history in common.
    client = AsyncSeedanceClient(SECRET, emu.base_url, history=history)
    gallery = Gallery.from_history(client)
    assert {c["id"] for c in gallery.tasks} == {done.id, unfinished.id}
    await until(lambda: all(c["status"] == "completed" for c in gallery.tasks))
    widget = TaskWidget(gallery.trackers[-1], client=client)
    assert widget.task["id"] == unfinished.id and widget.card in gallery.cards
    gallery.close()
    widget.close()
    await client.aclose()


async def test_close_stops_polling(client: AsyncSeedanceClient, emu: Emulator) -> None:
    panel = SeedancePanel(client, prompt="closing", duration=4, refresh_catalog=False)
    await panel.submit()
    tracker = panel._submitted[0]
    await until(lambda: tracker.following)
    panel.close()
    await asyncio.sleep(0.05)
    assert not tracker.following
    polls = len(emu.request_log)
    await asyncio.sleep(1.0)
    assert len(emu.request_log) == polls  # no more polls; the remote task keeps running


async def test_dropped_image_bytes_never_reach_the_cards(client: AsyncSeedanceClient) -> None:
    # A real image (the emulator decodes inputs), noisy so that it weighs ~10 KB.
    noise = Image.frombytes("L", (100, 100), random.Random(1).randbytes(10_000))
    buf = io.BytesIO()
    noise.save(buf, format="PNG")
    png = buf.getvalue()
    panel = SeedancePanel(client, operation="reference-to-video", prompt="ref", duration=4,
                          refresh_catalog=False)
    panel._receive(panel, {"type": "upload", "name": "big.png", "mime": "image/png"},
                   [memoryview(png)])
    await panel.submit()
    await until(lambda: panel.gallery.tasks and panel.current)
    for widget in (panel, panel.gallery, panel.current):
        state = json.dumps(widget.get_state(), default=str)
        assert "base64," not in state.replace("base64,<", "")
        assert len(state) < 60_000
    code = panel.current.code(base_url=client.base_url)["python"]
    assert "inline image" not in code and "data_url('" in code and ".png', 'image/png')" in code
    panel.close()


async def test_from_history_pages_searches_and_follows_only_this_server(
        emu: Emulator, tmp_path: Path) -> None:
    store = History(tmp_path / "h.sqlite3")
    async with AsyncSeedanceClient(SECRET, emu.base_url, history=store) as first:
        done = [await first.wait(await first.create(model="seedance-2.0-fast", duration=4,
                                                    prompt=f"{animal} run"))
                for animal in ("fox", "cat", "fox", "owl")]
    async with AsyncSeedanceClient(SECRET, emu.base_url, history=store,
                                   server_label="https://other.example") as other:
        elsewhere_task = await other.create(model="seedance-2.0-fast", duration=4,
                                            prompt="fox elsewhere")
    client = AsyncSeedanceClient(SECRET, emu.base_url, history=store)
    gallery = Gallery.from_history(client, page_size=2)
    ids = [c["id"] for c in gallery.tasks]
    assert ids == [elsewhere_task.id, done[3].id] and gallery.status["has_more"]
    assert gallery.status["total"] == 5
    elsewhere = gallery.cards[0].tracker
    assert not elsewhere.followable and not elsewhere.following  # never polled with our key
    assert gallery.more() == 2 and gallery.more() == 1 and not gallery.status["has_more"]
    gallery.search("fox")
    assert [c["prompt"] for c in gallery.tasks] == ["fox elsewhere", "fox run"]
    gallery._receive(gallery, {"type": "more"}, [])
    assert [c["prompt"] for c in gallery.tasks] == ["fox elsewhere", "fox run", "fox run"]
    polls = len(emu.request_log)
    await asyncio.sleep(0.5)
    assert len(emu.request_log) == polls  # finished runs are not polled or downloaded again
    gallery.close()
    await client.aclose()
