"""`client.assets` and `client.media` against the real emulator and a loopback web server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from seedance_widgets import (
    APIConnectionError,
    Asset,
    AssetFailedError,
    AssetTimeoutError,
    AsyncSeedanceClient,
    FsspecMediaHost,
    MaterialPreparingError,
    MediaHostError,
    SeedanceClient,
)
from seedance_widgets.emulator import Emulator, Timings

from .media import BLUE, RED, MediaServer, data_url, media_server, mp4, png

QUICK = Timings(queue_s=0.05, run_s=0.2, asset_ready_s=0.3, material_hold_s=5)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    with media_server(tmp_path_factory.mktemp("public")) as server:
        server.put("red.png", png(RED))
        server.put("wide.png", png(RED, (1500, 400)))
        yield server


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(timings=QUICK) as e:
        yield e


def make(emu: Emulator, **kw: Any) -> AsyncSeedanceClient:
    return AsyncSeedanceClient(emu.api_key, emu.base_url, journal=False, **kw)


def asset_gets(emu: Emulator) -> int:
    """List requests answered so far (the log entry lands just after the answer is sent)."""
    time.sleep(0.2)
    return sum(1 for e in emu.request_log if e.method == "GET"
               and e.path == "/v1/videos/assets")


async def test_register_wait_use_update_delete(emu: Emulator, media: MediaServer) -> None:
    async with make(emu) as client:
        asset = await client.assets.create(media.url("red.png"), asset_name="Front",
                                           metadata={"sku": "A-1"})
        assert isinstance(asset, Asset) and asset.status == "PROCESSING" and not asset.ready
        assert asset.uri == f"asset://{asset.id}" and asset.source_url == media.url("red.png")
        assert asset.created_at is not None and asset.created_at.year >= 2026
        seen: list[str] = []
        active = await client.assets.wait_active(asset.id, timeout=10,
                                                 on_update=lambda a: seen.append(a.status))
        assert active.status == "ACTIVE" and active.ready and seen[-1] == "ACTIVE"
        assert active.source_url == media.url("red.png")  # remembered by this client
        task = await client.create(model="seedance-2.0-fast", prompt="the product",
                                   image_url=active.uri, duration=4)
        assert (await client.wait(task, timeout=30)).succeeded
        renamed = await client.assets.update(asset.id, asset_name="Front (approved)",
                                             metadata={"ok": True})
        assert (renamed.asset_name, renamed.metadata) == ("Front (approved)", {"ok": True})
        deleted = await client.assets.delete(asset.id)
        assert deleted.deleted and deleted.id == asset.id
        assert (await client.assets.get(asset.id)).status == "DELETED"
        with pytest.raises(AssetFailedError, match="deleted"):
            await client.assets.wait_active(asset.id, timeout=5)


async def test_list_follows_pages_lazily(media: MediaServer) -> None:
    with Emulator(timings=QUICK) as emu:
        async with make(emu) as client:
            made = [(await client.assets.create(media.url("red.png"), asset_name=f"n{i}")).id
                    for i in range(5)]
            pages = client.assets.list(page_size=2)
            first = await anext(pages)
            assert first.id == made[-1] and asset_gets(emu) == 1  # one page, not all
            rest = [a.id async for a in pages]
            assert [first.id, *rest] == made[::-1] and asset_gets(emu) == 3
            await client.assets.wait_active(made[0], timeout=10)
            active = [a.id async for a in client.assets.list(status="ACTIVE")]
            assert made[0] in active
            assert [a async for a in client.assets.list(library_type="liveness_face")] == []


async def test_failed_and_timeout(emu: Emulator, media: MediaServer) -> None:
    async with make(emu) as client:
        wide = await client.assets.create(media.url("wide.png"))
        with pytest.raises(AssetFailedError, match="aspect ratio") as info:
            await client.assets.wait_active(wide.id, timeout=10)
        assert info.value.asset is not None and info.value.asset.status == "FAILED"
    with Emulator(timings=Timings(asset_ready_s=30)) as slow:
        async with make(slow) as client:
            pending = await client.assets.create(media.url("red.png"))
            with pytest.raises(AssetTimeoutError, match="still PROCESSING"):
                await client.assets.wait_active(pending.id, timeout=0.4)


async def test_requests_are_checked_before_sending(emu: Emulator) -> None:
    async with make(emu) as client:
        before = len(emu.request_log)
        with pytest.raises(ValidationError, match="asset_url"):
            await client.assets.create("ftp://example.org/a.png")
        with pytest.raises(ValidationError, match="group_id"):
            await client.assets.create("http://127.0.0.1/a.png", library_type="liveness_face")
        with pytest.raises(ValidationError, match="nickname"):
            await client.assets.update("asset-20260101000000-aaaaa", nickname="x")
        with pytest.raises(ValueError, match="at least one"):
            await client.assets.update("asset-20260101000000-aaaaa")
        assert len(emu.request_log) == before


async def test_create_waits_for_preparing_materials_then_resends(media: MediaServer) -> None:
    timings = Timings(queue_s=0.05, run_s=0.2, asset_ready_s=0.8, material_hold_s=0.1)
    with Emulator(timings=timings) as emu:
        async with make(emu) as client:
            task = await client.create(model="seedance-2.0-fast", prompt="inline image",
                                       image_url=data_url(png(BLUE, (64, 48))), duration=4)
            time.sleep(0.2)  # the log entry of the last answer lands just after it is sent
            posts = [e.status for e in emu.request_log if e.path == "/v1/videos/generations"]
            assert posts[0] == 409 and posts[-1] == 200 and emu.task_count() == 1
            assert any(e.path.startswith("/v1/videos/assets/") for e in emu.request_log)
            assert task.id
            # Within a short deadline the 409 is raised, naming the materials.
            with pytest.raises(MaterialPreparingError) as info:
                await client.create(model="seedance-2.0-fast", prompt="inline image",
                                    image_url=data_url(png(RED, (64, 48))), duration=4,
                                    material_wait=0.3)
            assert info.value.auto_material_asset_ids
            # A material that fails cannot be waited out.
            with pytest.raises(AssetFailedError, match="aspect ratio"):
                await client.create(model="seedance-2.0-fast", prompt="too wide",
                                    image_url=data_url(png(RED, (300, 60))), duration=4)
            assert emu.task_count() == 1


async def test_an_asset_create_that_may_have_arrived_is_not_resent() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("no answer", request=request)

    client = AsyncSeedanceClient("sk-test-key-0123456789", "https://api.example.test",
                                 transport=httpx.MockTransport(handler), journal=False)
    async with client:
        with pytest.raises(APIConnectionError, match="not resent"):
            await client.assets.create("https://cdn.example/a.png")
    assert len(calls) == 1


def test_sync_twin(emu: Emulator, media: MediaServer) -> None:
    with SeedanceClient(emu.api_key, emu.base_url, journal=False) as client:
        asset = client.assets.create(media.url("red.png"), asset_name="sync")
        assert client.assets.wait_active(asset.id, timeout=10).status == "ACTIVE"
        assert asset.id in [a.id for a in client.assets.list(status="ACTIVE")]
        first = next(iter(client.assets.list(page_size=1)))  # an abandoned iterator is fine
        assert first.id
        assert client.assets.update(asset.id, asset_name="sync 2").asset_name == "sync 2"
        assert client.assets.delete(asset.id).deleted
        assert client.assets.get(asset.id).status == "DELETED"


# ---------------------------------------------------------------------- media host
async def test_media_upload_with_progress(tmp_path: Path, media: MediaServer) -> None:
    folder = tmp_path / "published"
    folder.mkdir()
    clip = tmp_path / "my clip (final).mp4"
    clip.write_bytes(b"\0" * (3 * 1024 * 1024 + 5))
    with media_server(folder) as public:
        host = FsspecMediaHost(f"file://{folder}", public.base_url)
        client = AsyncSeedanceClient("sk-test-key-0123456789", "https://api.example.test",
                                     journal=False, media_host=host)
        async with client:
            calls: list[tuple[int, int, str]] = []
            url = await client.media.upload(clip, progress=lambda s, t: calls.append(
                (s, t, threading.current_thread().name)))
            assert url.startswith(public.base_url) and url.endswith("/my-clip-final-.mp4")
            assert [c[0] for c in calls] == sorted(c[0] for c in calls)
            assert calls[-1][:2] == (clip.stat().st_size, clip.stat().st_size)
            assert {c[2] for c in calls} == {threading.current_thread().name}
            assert httpx.get(url).content == clip.read_bytes()
            again: list[tuple[int, int]] = []
            assert await client.media.upload(clip, progress=lambda s, t: again.append((s, t))
                                             ) == url
            assert again == [(clip.stat().st_size, clip.stat().st_size)]  # not re-sent
            dropped = await client.media.upload_bytes(b"RIFF....WAVE", "voice note.wav")
            assert dropped.endswith("/voice-note.wav")
            assert httpx.get(dropped).content == b"RIFF....WAVE"


async def test_no_media_host_says_what_to_configure(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEEDANCE_MEDIA_HOST", raising=False)
    async with AsyncSeedanceClient("sk-test-key-0123456789", journal=False) as client:
        assert not client.media.configured
        with pytest.raises(MediaHostError) as info:
            await client.media.upload(tmp_path / "x.mp4")
    for needed in ("--media-host", "--media-base-url", "SEEDANCE_MEDIA_HOST",
                   "FsspecMediaHost", "file:///srv/media"):
        assert needed in str(info.value)
    with pytest.raises(MediaHostError, match="public base URL"):
        FsspecMediaHost(str(tmp_path))
    with pytest.raises(MediaHostError, match="cannot presign"):
        FsspecMediaHost(str(tmp_path), presign=60).upload(_file(tmp_path))
    monkeypatch.setenv("SEEDANCE_MEDIA_HOST", f"file://{tmp_path}/env")
    monkeypatch.setenv("SEEDANCE_MEDIA_BASE_URL", "http://127.0.0.1:1/")
    async with AsyncSeedanceClient("sk-test-key-0123456789", journal=False) as client:
        assert isinstance(client.media.host, FsspecMediaHost)


def _file(folder: Path) -> Path:
    path = folder / "a.wav"
    path.write_bytes(b"RIFF")
    return path


async def test_uploaded_clip_is_fetched_by_the_emulator(tmp_path: Path) -> None:
    secret = "sk-live-client-secret-0123456789"
    clip = tmp_path / "take 3.mp4"
    clip.write_bytes(mp4(BLUE, 3))
    folder = tmp_path / "published"
    with media_server(folder) as public, Emulator(api_keys=(secret,), timings=QUICK) as emu:
        host = FsspecMediaHost(str(folder), public.base_url)
        async with AsyncSeedanceClient(secret, emu.base_url, journal=False,
                                       media_host=host) as client:
            url = await client.media.upload(clip)
            task = await client.create(model="seedance-2.0-fast", prompt="continue the take",
                                       operation="reference-to-video", video_urls=[url],
                                       duration=4)
            assert (await client.wait(task, timeout=30)).succeeded
        path = "/" + url.removeprefix(public.base_url)
        assert [h.method for h in public.hits if h.path == path] == ["GET"]
        assert all("authorization" not in h.headers and secret not in str(h.headers)
                   for h in public.hits)


async def test_sources_and_thumbnails_outlive_the_client(emu: Emulator,
                                                         media: MediaServer) -> None:
    async with AsyncSeedanceClient(emu.api_key, emu.base_url) as first:  # keeps local files
        made = await first.assets.create(media.url("red.png"), asset_name="kept")
    async with AsyncSeedanceClient(emu.api_key, emu.base_url) as later:
        await later.assets.wait_active(made.id, timeout=10)
        listed = {a.id: a async for a in later.assets.list(status="ACTIVE")}
        assert listed[made.id].thumbnail_url == media.url("red.png")
        assert listed[made.id].asset_name == "kept"
    async with AsyncSeedanceClient(emu.api_key, "http://127.0.0.1:1") as elsewhere:
        assert elsewhere.assets._sources.get(made.id) is None  # per server
