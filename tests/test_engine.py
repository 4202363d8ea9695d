"""The client against the real emulator on 127.0.0.1: operations, cancel, faults, history."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from seedance_widgets import (
    AmbiguousSubmitError,
    AsyncSeedanceClient,
    History,
    RetryPolicy,
    SeedanceClient,
    TaskFailedError,
    TaskTimeoutError,
    VideoRequest,
)
from seedance_widgets.emulator import Emulator, Faults, Timings

QUICK = Timings(queue_s=0.3, run_s=0.8)
IMG = "https://example.com/a.png"
VID = "https://example.com/in.mp4"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(timings=QUICK) as e:
        yield e


def make_client(emu: Emulator, tmp_path: Path, **kw) -> AsyncSeedanceClient:
    kw.setdefault("history", History(tmp_path / "history.sqlite3"))
    return AsyncSeedanceClient(emu.api_key, emu.base_url, **kw)


def probe(path: Path) -> tuple[float, float]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return float(c.duration / 1_000_000), s.width / s.height


OPS = {
    "text-to-video": {"prompt": "a red fox in snow", "aspect_ratio": "16:9", "duration": 4},
    "image-to-video": {"prompt": "alive", "image_url": IMG, "aspect_ratio": "9:16",
                       "duration": 5},
    "start-end-to-video": {"prompt": "morph", "start_image": IMG, "end_image": IMG,
                           "aspect_ratio": "1:1", "duration": 4, "return_last_frame": True},
    "reference-to-video": {"prompt": "same product", "reference_images": [IMG],
                           "video_urls": [VID], "aspect_ratio": "21:9", "duration": 6},
    "video-to-video": {"prompt": "snowy", "video_url": VID, "aspect_ratio": "4:3",
                       "duration": 4},
}
RATIOS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0, "21:9": 21 / 9, "4:3": 4 / 3}


async def test_all_six_operations_end_to_end(emu: Emulator, tmp_path: Path) -> None:
    async with make_client(emu, tmp_path) as c:
        tasks = {op: await c.create(VideoRequest(model="seedance-2.0-fast", operation=op, **f))
                 for op, f in OPS.items()}
        done = dict(zip(tasks, await asyncio.gather(*(c.wait(t) for t in tasks.values())),
                        strict=True))
        ext = await c.create(VideoRequest(model="seedance-2.0-fast",
                                          operation="video-extension",
                                          task_id=done["text-to-video"].id, duration=4))
        done["video-extension"] = await c.wait(ext)
        for op, task in done.items():
            assert task.status == "completed" and task.video_url, op
            path = await c.download(task, tmp_path / f"{op}.mp4")
            seconds, ratio = probe(path)
            want = OPS.get(op, {"duration": 4, "aspect_ratio": "16:9"})
            assert abs(seconds - want["duration"]) < 0.15, op
            assert ratio == pytest.approx(RATIOS[want["aspect_ratio"]], rel=0.03), op
        assert done["start-end-to-video"].last_frame_url
    entries = History(tmp_path / "history.sqlite3").entries()
    assert len(entries) == 6 and all(e.status == "completed" for e in entries)
    assert all(e.local_path and Path(e.local_path).exists() for e in entries)


async def test_cancel_outcomes(emu: Emulator, tmp_path: Path) -> None:
    emu.set_faults(Faults())
    async with make_client(emu, tmp_path) as c:
        pending = await c.create(VideoRequest(model="seedance-2.0", prompt="pq", duration=4))
        result = await c.cancel(pending)
        assert result.outcome == "cancelled" and result.task and result.task.cancelled
        assert (await c.get(pending)).status == "failed"
        running = await c.create(VideoRequest(model="seedance-2.0", prompt="pq", duration=4))
        await asyncio.sleep(QUICK.queue_s + 0.1)
        result = await c.cancel(running)
        assert result.outcome == "not_cancellable" and "processing" in result.message
        mini = await c.create(VideoRequest(model="seedance-2.0-mini", prompt="pq", duration=4))
        assert (await c.cancel(mini)).outcome == "unsupported"
        assert (await c.cancel("ldtask_nope")).outcome == "not_found"
        with pytest.raises(Exception, match="cancelled"):
            await c.wait(pending)


async def test_wait_deadline_then_resume(tmp_path: Path) -> None:
    with Emulator(timings=Timings(queue_s=0.2, run_s=1.5)) as emu:
        async with make_client(emu, tmp_path) as c:
            task = await c.create(VideoRequest(model="seedance-2.0", prompt="pq", duration=4))
            with pytest.raises(TaskTimeoutError) as info:
                await c.wait(task, timeout=0.4)
            assert info.value.task is not None and not info.value.task.is_terminal
            assert (await c.wait(task, timeout=30)).status == "completed"


async def test_failed_task_raises_with_reason(tmp_path: Path) -> None:
    with Emulator(timings=QUICK, faults=Faults(task_failure_rate=1.0)) as emu:
        async with make_client(emu, tmp_path) as c:
            task = await c.create(VideoRequest(model="seedance-2.0", prompt="pq", duration=4))
            with pytest.raises(TaskFailedError) as info:
                await c.wait(task)
            assert info.value.task and info.value.task.error
            final = await c.wait(task, raise_on_failure=False)
            assert final.status == "failed"


async def test_drop_after_create_is_ambiguous_and_never_duplicated(tmp_path: Path) -> None:
    with Emulator(timings=QUICK, faults=Faults(drop_after_create_rate=1.0)) as emu:
        async with make_client(emu, tmp_path) as c:
            req = VideoRequest(model="seedance-2.0", prompt="dropped", duration=4)
            with pytest.raises(AmbiguousSubmitError) as info:
                await c.create(req)
        assert emu.task_count() == 1  # created once, never resent
        assert info.value.fingerprint == req.fingerprint()
        amb = History(tmp_path / "history.sqlite3").ambiguous_submits()
        assert len(amb) == 1 and amb[0].fingerprint == req.fingerprint()


async def test_create_error_after_create_is_ambiguous(tmp_path: Path) -> None:
    with Emulator(timings=QUICK, faults=Faults(create_error_rate=1.0)) as emu:
        async with make_client(emu, tmp_path) as c:
            with pytest.raises(AmbiguousSubmitError):
                await c.create(VideoRequest(model="seedance-2.0", prompt="pq", duration=4))
        assert emu.task_count() == 1


async def test_200_tasks_survive_5xx_and_resets_on_polls(tmp_path: Path) -> None:
    """Acceptance: 20 % 5xx + resets on status polls; all 200 reach their true final state."""
    faults = Faults(error_rate=0.1, reset_rate=0.1, task_failure_rate=0.1, seed=7)
    with Emulator(timings=Timings(queue_s=0.2, run_s=1.0), faults=faults) as emu:
        policy = RetryPolicy(max_attempts=10, base=0.05, cap=0.5)
        async with make_client(emu, tmp_path, retry=policy) as c:
            reqs = [VideoRequest(model="seedance-2.0-fast", prompt="crowd", seed=1, duration=4)
                    for _ in range(200)]
            created = await asyncio.gather(*(c.create(r) for r in reqs))
            finals = await asyncio.gather(*(c.wait(t, raise_on_failure=False, timeout=120)
                                            for t in created))
        truth = {t["id"]: t["status"] for t in emu.tasks_snapshot()}
    assert len(truth) == 200 and len({t.id for t in finals}) == 200
    wrong = [t.id for t in finals if t.status != truth[t.id]]
    assert not wrong, f"{len(wrong)} tasks ended in the wrong state"
    assert {t.status for t in finals} <= {"completed", "failed"}


async def test_429_bursts_and_malformed_bodies_are_absorbed(tmp_path: Path) -> None:
    faults = Faults(rate_limit_every=7, rate_limit_burst=2, rate_limit_retry_after_s=0.05,
                    malformed_rate=0.2, seed=3)
    with Emulator(timings=QUICK, faults=faults) as emu:
        async with make_client(emu, tmp_path, retry=RetryPolicy(base=0.02, cap=0.2)) as c:
            tasks = [await c.create(VideoRequest(model="seedance-2.0", prompt=f"p{i}",
                                                 duration=4)) for i in range(8)]
            finals = await asyncio.gather(*(c.wait(t) for t in tasks))
        assert emu.task_count() == 8
        assert any(e.status == 429 for e in emu.request_log)
    assert all(t.status == "completed" for t in finals)


async def test_model_detail_refreshes_the_catalog(emu: Emulator, tmp_path: Path) -> None:
    async with make_client(emu, tmp_path) as c:
        spec = await c.model("seedance-2.0-fast")
        assert spec.resolutions == ("480p", "720p") and spec.source.startswith("GET")
        pricing = await c.pricing("seedance-2.0")
        assert pricing["model"] == "seedance-2.0"


async def test_sync_client_works_inside_a_running_loop(emu: Emulator, tmp_path: Path) -> None:
    # We are inside pytest-asyncio's loop, as a notebook cell would be.
    with SeedanceClient(emu.api_key, emu.base_url,
                        history=History(tmp_path / "history.sqlite3")) as c:
        task = c.wait(c.create(VideoRequest(model="seedance-2.0", prompt="sync", duration=4)))
        path = c.download(task, tmp_path)
    assert path.exists() and task.status == "completed"


def test_key_never_leaks(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                         capfd: pytest.CaptureFixture[str]) -> None:
    secret = "sk-live-" + "Q" * 40
    caplog.set_level(logging.DEBUG)
    with Emulator(timings=QUICK, api_keys=[secret]) as emu:
        env = {**os.environ, "TOKENLAB_API_KEY": secret, "TOKENLAB_BASE_URL": emu.base_url,
               "SEEDANCE_WIDGETS_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
        cli = subprocess.run(
            [sys.executable, "-m", "seedance_widgets", "generate", "--prompt", "secret fox",
             "--duration", "4", "--yes", "--out", str(tmp_path / "fox.mp4")],
            env=env, capture_output=True, text=True, timeout=120)
        assert cli.returncode == 0, cli.stderr
        texts = [cli.stdout, cli.stderr]
        with SeedanceClient(secret, emu.base_url, history=History(tmp_path / "h.sqlite3")) as c:
            texts.append(repr(c))
            task = c.wait(c.create(VideoRequest(model="seedance-2.0", prompt="pq", duration=4)))
            texts += [repr(task), str(task.model_dump())]
            with (SeedanceClient("sk-wrong-" + "x" * 30, emu.base_url, history=False) as bad,
                  pytest.raises(Exception) as info):
                bad.get(task.id)
            texts += [str(info.value), repr(info.value)]
        for e in emu.request_log:
            texts.append(repr(e))
    out, err = capfd.readouterr()
    texts += [out, err, caplog.text]
    for path in (tmp_path).rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".sqlite3", ".sqlite3-wal"):
            texts.append(path.read_bytes().decode("latin-1"))
    assert texts and all(secret not in t for t in texts)
    assert all("Q" * 20 not in t for t in texts)


def test_history_survives_a_killed_process(tmp_path: Path) -> None:
    """Acceptance: create in one process, kill it; another process lists and resumes."""
    with Emulator(timings=Timings(queue_s=0.5, run_s=2.0)) as emu:
        env = {**os.environ, "TOKENLAB_API_KEY": emu.api_key, "TOKENLAB_BASE_URL": emu.base_url,
               "SEEDANCE_WIDGETS_HOME": str(tmp_path / "home")}
        creator = subprocess.Popen(
            [sys.executable, "-c",
             "import sys, time\n"
             "from seedance_widgets import SeedanceClient, VideoRequest\n"
             "c = SeedanceClient()\n"
             "t = c.create(VideoRequest(model='seedance-2.0', prompt='survivor', duration=4))\n"
             "print(t.id, flush=True)\n"
             "time.sleep(60)\n"],
            env=env, stdout=subprocess.PIPE, text=True)
        assert creator.stdout is not None
        task_id = creator.stdout.readline().strip()
        creator.send_signal(signal.SIGKILL)
        creator.wait(timeout=10)
        assert task_id.startswith("ldtask_")
        listing = subprocess.run([sys.executable, "-m", "seedance_widgets", "tasks"], env=env,
                                 capture_output=True, text=True, timeout=60)
        assert task_id in listing.stdout
        t0 = time.monotonic()
        resumed = subprocess.run([sys.executable, "-m", "seedance_widgets", "resume", task_id,
                                  "--out", str(tmp_path / "out.mp4")], env=env,
                                 capture_output=True, text=True, timeout=120)
        assert resumed.returncode == 0, resumed.stderr
        assert time.monotonic() - t0 < 60
    seconds, _ = probe(tmp_path / "out.mp4")
    assert abs(seconds - 4) < 0.15
    with open(tmp_path / "out.mp4", "rb") as fh:
        assert av.open(io.BytesIO(fh.read())).streams.video[0].codec_context.name == "h264"


async def test_emulator_state_dir_survives_a_restart(tmp_path: Path) -> None:
    """Demo mode keeps tasks on disk, so a restarted kernel can resume the history's tasks."""
    state = tmp_path / "emu-state"
    history = History(tmp_path / "history.sqlite3")
    with Emulator(timings=Timings(queue_s=0.2, run_s=1.5), state_dir=state) as first:
        async with AsyncSeedanceClient(first.api_key, first.base_url, history=history) as c:
            done = await c.wait(await c.create(model="seedance-2.0", prompt="kept", duration=4))
            running = await c.create(model="seedance-2.0", prompt="midway", duration=4)
    with Emulator(timings=Timings(queue_s=0.2, run_s=1.5), state_dir=state) as second:
        async with AsyncSeedanceClient(second.api_key, second.base_url, history=history) as c:
            assert second.task_count() == 2
            assert (await c.get(done.id)).status == "completed"
            final = await c.wait(running.id, timeout=30)
            path = await c.download(final, tmp_path)
    assert abs(probe(path)[0] - 4) < 0.15


def test_cli_generate_in_demo_mode_writes_a_playable_file(tmp_path: Path) -> None:
    """Acceptance: no key set -> the embedded emulator, a progress bar, a playable file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENLAB_")}
    env.update(SEEDANCE_WIDGETS_HOME=str(tmp_path / "home"), SEEDANCE_EMU_QUEUE_S="0.3",
               SEEDANCE_EMU_RUN_S="1.5", TOKENLAB_BASE_URL="https://user:pw@proxy.example")
    run = subprocess.run([sys.executable, "-m", "seedance_widgets", "generate", "--prompt",
                          "a red fox in snow", "--out", "fox.mp4"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "demo mode" in run.stdout and "estimate" in run.stdout
    # A base URL set without a key is named, not silently ignored, and its value not repeated.
    assert "TOKENLAB_BASE_URL is set but not used without TOKENLAB_API_KEY" in run.stdout
    assert "proxy.example" not in run.stdout + run.stderr
    assert "100%" in run.stderr and "#" in run.stderr  # the progress bar
    seconds, ratio = probe(tmp_path / "fox.mp4")
    assert abs(seconds - 5) < 0.15 and ratio == pytest.approx(16 / 9, rel=0.03)


async def test_a_base_url_without_a_key_is_never_silently_swapped_for_the_emulator(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from seedance_widgets import SeedancePanel, _demo, connect, connect_sync
    from seedance_widgets._errors import SeedanceError

    for make in (connect, connect_sync):
        with pytest.raises(SeedanceError, match="base_url was given but no API key"):
            make(base_url="https://proxy.example")
    monkeypatch.setattr(_demo, "_emulator", None)  # this test's own demo emulator
    assert _demo.demo_notice() == _demo.DEMO_NOTICE
    monkeypatch.setenv("TOKENLAB_BASE_URL", "https://user:pw@proxy.example")
    panel = SeedancePanel(refresh_catalog=False)
    try:
        assert panel.client.demo and panel.demo.startswith(_demo.DEMO_NOTICE)
        assert panel.demo.endswith("TOKENLAB_BASE_URL is set but not used without "
                                   "TOKENLAB_API_KEY") and "proxy" not in panel.demo
    finally:
        panel.close()
