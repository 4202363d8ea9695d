"""The panel's material assets and media drops from code, on the real emulator and a loopback
web server: the drawer, "Register as asset", inserting `asset://` ids, dropped clips uploaded to
a local-folder media host only when asked. The browser side is in tests/e2e/test_materials.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_widgets import (
    AsyncSeedanceClient,
    FsspecMediaHost,
    History,
    SeedancePanel,
    UsageError,
)
from seedance_widgets.emulator import Emulator, Timings
from seedance_widgets.widgets import _materials
from seedance_widgets.widgets._materials import insert_asset
from seedance_widgets.widgets._media_drops import PANEL_NO_HOST_HELP

from .media import BLUE, RED, MediaServer, media_server, mp4, png, wav

SECRET = "sk-materials-test-" + "Q" * 30


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    with media_server(tmp_path_factory.mktemp("public")) as server:
        server.put("red.png", png(RED))
        server.put("blue.png", png(BLUE))
        server.put("wide.png", png(RED, (1500, 400)))  # decodes, then FAILS the deeper check
        yield server


@pytest.fixture
def emu() -> Iterator[Emulator]:
    timings = Timings(queue_s=0.05, run_s=0.3, asset_ready_s=0.6, material_hold_s=5)
    with Emulator(timings=timings, api_keys=[SECRET]) as e:
        yield e


@pytest.fixture
def client(emu: Emulator, tmp_path: Path) -> AsyncSeedanceClient:
    return AsyncSeedanceClient(SECRET, emu.base_url, history=History(tmp_path / "h.sqlite3"))


async def until(predicate: Any, timeout: float = 20.0) -> None:
    t0 = asyncio.get_running_loop().time()
    while not predicate():
        if asyncio.get_running_loop().time() - t0 > timeout:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


def send(panel: SeedancePanel, msg: dict[str, Any], buffers: list[Any] | None = None) -> None:
    panel._receive(panel, msg, buffers or [])


def statuses(panel: SeedancePanel, key: str, seen: list[str]) -> None:
    def watch(change: dict[str, Any]) -> None:
        status = (change["new"].get(key) or {}).get("status")
        if status and (not seen or seen[-1] != status):
            seen.append(status)
    panel.observe(watch, names="registrations")


# ---------------------------------------------------------------------- drawer
async def test_drawer_lists_active_assets_a_page_at_a_time(
        client: AsyncSeedanceClient, media: MediaServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_materials, "PAGE", 2)
    panel = SeedancePanel(client, refresh_catalog=False)
    send(panel, {"type": "assets_refresh"})
    await until(lambda: panel.assets["status"] == "ready")
    assert panel.assets["items"] == [] and "Register as asset" in panel.assets["empty_hint"]
    failed = await client.assets.create(media.url("wide.png"), asset_name="fails")
    made = [await client.assets.create(media.url(n), asset_name=n)
            for n in ("red.png", "blue.png", "red.png")]
    for a in made:
        await client.assets.wait_active(a.id, timeout=10)
    send(panel, {"type": "assets_refresh"})
    await until(lambda: panel.assets["status"] == "ready")
    first = panel.assets["items"]
    assert len(first) == 2 and panel.assets["has_more"]
    assert first[0]["asset_id"] == made[2].id  # newest first
    assert first[0]["thumb"] == media.url("red.png") and first[0]["uri"].startswith("asset://")
    send(panel, {"type": "assets_more"})
    await until(lambda: panel.assets["status"] == "ready" and len(panel.assets["items"]) == 3)
    assert not panel.assets["has_more"]
    assert failed.id not in {i["asset_id"] for i in panel.assets["items"]}  # ACTIVE only
    panel.close()


async def test_drawer_says_when_listing_fails(emu: Emulator) -> None:
    bad = AsyncSeedanceClient("sk-not-a-key-" + "x" * 30, emu.base_url, journal=False)
    panel = SeedancePanel(bad, refresh_catalog=False)
    send(panel, {"type": "assets_refresh"})
    await until(lambda: panel.assets["status"] == "error")
    assert "could not list the material assets" in panel.assets["error"]
    assert "sk-not-a-key" not in panel.assets["error"]
    panel.close()


def test_insert_goes_where_the_user_chose_and_says_so() -> None:
    form = {"operation": "start-end-to-video", "references": []}
    out, note = insert_asset(form, "asset://asset-20260101000000-abcde", "Front", "end_image")
    assert out["end_image"] == "asset://asset-20260101000000-abcde" and "end image" in note
    out, note = insert_asset({"operation": "text-to-video"}, "asset://a", "A", "image_url")
    assert out["operation"] == "image-to-video" and "operation is now image-to-video" in note
    out, _ = insert_asset({"operation": "reference-to-video", "references": []}, "asset://a",
                          "A", "references")
    assert out["references"][0]["kind"] == "image" and out["references"][0]["name"] == "A"
    with pytest.raises(ValueError, match="not 'video_url'"):
        insert_asset(form, "asset://a", "A", "video_url")


# ---------------------------------------------------------------------- register
async def test_register_follows_to_active_then_the_reference_uses_the_asset(
        client: AsyncSeedanceClient, emu: Emulator, media: MediaServer) -> None:
    url = media.url("red.png")
    panel = SeedancePanel(client, operation="reference-to-video", prompt="@image1 spins",
                          reference_images=[url], duration=4, refresh_catalog=False)
    key = panel.form["references"][0]["key"]
    seen: list[str] = []
    statuses(panel, key, seen)
    # from another thread, as JupyterLab's comms over subshells deliver it; a double click
    for _ in range(2):
        thread = threading.Thread(target=send, args=(panel, {"type": "register", "key": key,
                                                             "url": url, "name": "red.png"}))
        thread.start()
        thread.join()
    await until(lambda: panel.registrations.get(key, {}).get("terminal"))
    state = panel.registrations[key]
    assert state["status"] == "ACTIVE" and seen[:2] == ["registering", "PROCESSING"]
    assert panel.form["references"][0]["url"] == f"asset://{state['asset_id']}"
    assert "the form uses asset://" in panel.notice["text"]
    creates = [e for e in emu.request_log if e.method == "POST" and "assets" in e.path]
    assert len(creates) == 1  # one click, one asset
    task = await panel.submit()
    assert task.request.reference_images == [f"asset://{state['asset_id']}"]
    panel.close()


async def test_register_shows_failed_with_the_servers_reason(
        client: AsyncSeedanceClient, media: MediaServer) -> None:
    url = media.url("wide.png")
    panel = SeedancePanel(client, image_url=url, prompt="p", refresh_catalog=False)
    send(panel, {"type": "register", "key": "image_url", "url": url, "name": "wide.png"})
    await until(lambda: panel.registrations.get("image_url", {}).get("terminal"))
    state = panel.registrations["image_url"]
    assert state["status"] == "FAILED" and "aspect ratio" in state["message"]
    assert panel.form["image_url"] == url and panel.notice["kind"] == "error"
    # an unreachable source is refused at once, with the server's reason
    gone = media.url("missing.png")
    send(panel, {"type": "register", "key": "image_url", "url": gone, "name": ""})
    await until(lambda: panel.registrations["image_url"]["url"] == gone
                and panel.registrations["image_url"]["terminal"])
    assert panel.registrations["image_url"]["status"] == "error"
    assert "404" in panel.registrations["image_url"]["message"]
    panel.close()


async def test_only_image_urls_can_be_registered(client: AsyncSeedanceClient) -> None:
    panel = SeedancePanel(client, operation="reference-to-video",
                          video_urls=["https://example.com/v.mp4"], refresh_catalog=False)
    key = panel.form["references"][0]["key"]
    send(panel, {"type": "register", "key": key, "url": "https://example.com/v.mp4"})
    assert "only in image inputs" in panel.registrations[key]["message"]
    send(panel, {"type": "register", "key": "image_url", "url": "data:image/png;base64,AA"})
    assert "http(s)" in panel.registrations["image_url"]["message"]
    panel.close()


async def test_close_cancels_our_wait_not_the_asset(emu: Emulator, media: MediaServer) -> None:
    with Emulator(timings=Timings(asset_ready_s=30), api_keys=[SECRET]) as slow:
        client = AsyncSeedanceClient(SECRET, slow.base_url, journal=False)
        panel = SeedancePanel(client, image_url=media.url("red.png"), refresh_catalog=False)
        send(panel, {"type": "register", "key": "image_url", "url": media.url("red.png")})
        await until(lambda: panel.registrations["image_url"]["status"] == "PROCESSING")
        task = panel._desk._registering["image_url"]
        panel.close()
        await asyncio.sleep(0.05)
        assert task.cancelled()
        asset = await client.assets.get(panel.registrations["image_url"]["asset_id"])
        assert asset.status == "PROCESSING"  # still there, still processing
        await client.aclose()


# ---------------------------------------------------------------------- media drops
async def test_dropped_clip_without_a_media_host_says_what_to_configure(
        client: AsyncSeedanceClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEEDANCE_MEDIA_HOST", raising=False)
    panel = SeedancePanel(client, operation="reference-to-video", refresh_catalog=False)
    assert panel.media == {"configured": False, "where": "", "help": PANEL_NO_HOST_HELP}
    assert "media_host=FsspecMediaHost(" in panel.media["help"]
    assert "SEEDANCE_MEDIA_HOST" in panel.media["help"]
    send(panel, {"type": "media_file", "name": "clip.mp4", "mime": "video/mp4",
                 "field": "references"}, [mp4(RED, 3)])
    assert panel.notice["text"] == PANEL_NO_HOST_HELP and not panel.form["references"]
    panel.close()


async def test_dropped_clip_is_uploaded_only_when_asked_then_used(
        client: AsyncSeedanceClient, emu: Emulator, tmp_path: Path) -> None:
    folder = tmp_path / "published"
    folder.mkdir()
    with media_server(folder) as site:
        host = FsspecMediaHost(str(folder), site.base_url)
        panel = SeedancePanel(client, media_host=host, operation="reference-to-video",
                              prompt="continue @video1", duration=4, refresh_catalog=False)
        assert panel.media["configured"] and panel.media["where"] == site.base_url
        clip = mp4(BLUE, 3)
        send(panel, {"type": "media_file", "name": "take 3.mp4", "mime": "video/mp4",
                     "field": "references"}, [memoryview(clip)])
        await until(lambda: panel.form["references"])
        ref = panel.form["references"][0]
        key = ref["url"].removeprefix("local://")
        assert ref["kind"] == "video" and panel.uploads[key]["status"] == "pending"
        assert not panel.can_submit and "not uploaded yet" in panel.generate["reason"]
        assert "references" not in panel.errors  # waiting is not an error
        with pytest.raises(UsageError, match="not uploaded yet"):
            await panel.submit()  # from code too: never a stand-in URL
        assert panel.price["known"] and panel.price["usd"]  # priced before any upload
        assert not any(folder.iterdir()), "nothing is published before Upload"
        assert "base64" not in str(panel.get_state())  # the clip is not synced state
        sent: list[int] = []
        panel.observe(lambda c: sent.append(c["new"].get(key, {}).get("sent", 0)),
                      names="uploads")
        send(panel, {"type": "media_upload", "key": key})
        send(panel, {"type": "media_upload", "key": key})  # a double click: one upload
        assert panel.generate["reason"] == "uploading take 3.mp4: Generate waits for it"
        await until(lambda: panel.uploads[key]["status"] == "done")
        url = panel.uploads[key]["url"]
        assert url.startswith(site.base_url) and url.endswith("/take-3.mp4")
        assert sent[-1] == len(clip)
        assert panel.form["references"][0]["url"] == url and panel.can_submit
        task = await panel.submit()
        assert task.request.video_urls == [url]
        await client.wait(task, timeout=30)
        fetched = [h for h in site.hits if h.path.endswith("/take-3.mp4")]
        assert fetched and all("SeedanceEmulator" in h.headers.get("user-agent", "")
                               for h in fetched)
        assert all(SECRET not in str(h.headers) and "authorization" not in h.headers
                   for h in site.hits)
        panel.close()


@pytest.mark.parametrize("name, mime, data, field, why", [
    ("song.mp3", "audio/mpeg", b"\0" * 500, "references", "not a readable audio file"),
    ("clip.webm", "video/webm", b"x", "references", "as mp4, mov"),
    ("voice.wav", "audio/wav", None, "video_url", "only video files go here"),
    ("long.wav", "audio/wav", "long", "references", "at most 15 s"),
])
async def test_dropped_clips_are_checked_before_they_are_kept(
        client: AsyncSeedanceClient, tmp_path: Path, name: str, mime: str, data: Any,
        field: str, why: str) -> None:
    host = FsspecMediaHost(str(tmp_path), "http://127.0.0.1:9/")
    panel = SeedancePanel(client, media_host=host, operation="reference-to-video",
                          refresh_catalog=False)
    data = wav(16) if data == "long" else wav(1) if data is None else data
    send(panel, {"type": "media_file", "name": name, "mime": mime, "field": field}, [data])
    await until(lambda: panel.notice.get("kind") == "error")
    assert why in panel.notice["text"] and not panel.form["references"]
    assert not panel._drops._files
    panel.close()


async def test_demo_mode_drawer_shows_the_emulators_assets(
        media: MediaServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from seedance_widgets import _demo

    monkeypatch.setattr(_demo, "_emulator", None)  # this test's own demo emulator
    panel = SeedancePanel(refresh_catalog=False)  # no key: demo mode
    try:
        assert panel.demo and panel.client.demo
        asset = await panel.client.assets.create(media.url("blue.png"), asset_name="demo blue")
        await panel.client.assets.wait_active(asset.id, timeout=15)
        send(panel, {"type": "assets_refresh"})
        await until(lambda: panel.assets["status"] == "ready")
        item = panel.assets["items"][0]
        assert item["asset_id"] == asset.id and item["name"] == "demo blue"
        assert item["thumb"] == media.url("blue.png")
        send(panel, {"type": "asset_insert", "asset_id": asset.id, "name": "demo blue",
                     "field": "image_url"})
        assert panel.form["image_url"] == asset.uri
        assert panel.form["operation"] == "image-to-video"
    finally:
        panel.close()
        _demo._emulator.stop()


async def test_a_failed_upload_says_why_and_can_be_retried(
        client: AsyncSeedanceClient, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the host's folder should be")
    panel = SeedancePanel(client, media_host=FsspecMediaHost(str(blocker), "http://127.0.0.1:9/"),
                          operation="video-to-video", prompt="make it rain", refresh_catalog=False)
    send(panel, {"type": "media_file", "name": "clip.mov", "mime": "video/quicktime",
                 "field": "video_url"}, [mp4(RED, 2)])
    await until(lambda: panel.form["video_url"].startswith("local://"))
    key = panel.form["video_url"].removeprefix("local://")
    assert "not uploaded yet" in panel.generate["reason"]
    send(panel, {"type": "media_upload", "key": key})
    await until(lambda: panel.uploads[key]["status"] == "failed")
    assert "could not upload clip.mov" in panel.uploads[key]["message"]
    assert panel.notice["kind"] == "error" and key in panel._drops._files  # kept for a retry
    assert panel.form["video_url"] == f"local://{key}" and not panel.can_submit
    panel.close()
