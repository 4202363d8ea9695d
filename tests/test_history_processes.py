"""The history with real processes: three writers at once, a disk that fills while a create is
in the air (RLIMIT_FSIZE), and a read-only data folder."""

from __future__ import annotations

import ctypes
import functools
import json
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_widgets import AsyncSeedanceClient, History, Task
from seedance_widgets.emulator import Emulator, Faults, Timings


@functools.cache
def _one_video() -> Any:
    from seedance_widgets.emulator._render import render_clip

    return render_clip(prompt="history", seed=1, duration_s=4, aspect_ratio="16:9")


@pytest.fixture
def cheap_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about records, not pictures: one pre-rendered MP4 for every task."""
    from seedance_widgets.emulator import _render

    clip = _one_video()
    monkeypatch.setattr(_render, "render_clip", lambda **_: clip)


def child_env(home: Path, emu: Emulator | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKENLAB_", "SEEDANCE_"))}
    env.update(SEEDANCE_WIDGETS_HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    if emu is not None:
        env.update(TOKENLAB_API_KEY=emu.api_key, TOKENLAB_BASE_URL=emu.base_url)
    return env


# ------------------------------------------------------------------------------ concurrency
_CLIENT_WRITER = """
import asyncio, json, sys
from seedance_widgets import AsyncSeedanceClient, VideoRequest

async def main(tag, n):
    async with AsyncSeedanceClient() as client:
        gate = asyncio.Semaphore(25)
        async def one(i):
            async with gate:
                task = await client.create(VideoRequest(
                    model="seedance-2.0-fast", duration=4, prompt=f"{tag} run {i}"))
            return await client.wait(task, raise_on_failure=False, timeout=120)
        finals = await asyncio.gather(*(one(i) for i in range(n)))
    print(json.dumps({t.id: t.status for t in finals}))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def test_three_client_processes_record_300_tasks_with_final_states(
        tmp_path: Path, cheap_renders: None) -> None:
    home = tmp_path / "home"
    faults = Faults(task_failure_rate=0.15, error_rate=0.03, seed=4)
    with Emulator(timings=Timings(queue_s=0.2, run_s=1.0), faults=faults) as emu:
        procs = [subprocess.Popen([sys.executable, "-c", _CLIENT_WRITER, f"p{k}", "100"],
                                  env=child_env(home, emu), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for k in range(3)]
        reported: dict[str, str] = {}
        for proc in procs:
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err[-2000:]
            reported.update(json.loads(out.strip().splitlines()[-1]))
        truth = {t["id"]: t["status"] for t in emu.tasks_snapshot()}
    history = History(home / "history.sqlite3")
    recorded = {e.id: e.status for e in history.entries()}
    assert len(truth) == 300 and len(reported) == 300
    assert recorded == truth == reported
    assert {"completed", "failed"} == set(recorded.values())
    assert history.count() == 300 and history.count(status="completed") == sum(
        1 for s in truth.values() if s == "completed")
    assert sorted(s.outcome for s in history.submits()) == ["created"] * 300
    assert history.unresolved_submits(min_age_s=0) == []
    check = sqlite3.connect(home / "history.sqlite3").execute("PRAGMA integrity_check")
    assert check.fetchone() == ("ok",)


_STORE_WRITER = """
import sys
from seedance_widgets import History, Task

tag, n = sys.argv[1], int(sys.argv[2])
h = History()
for i in range(n):
    tid, req = f"{tag}-{i}", {"model": "seedance-2.0", "prompt": f"{tag} task {i}"}
    h.submitting(attempt=tid, server="srv", request=req, fingerprint=tid)
    h.created(Task(id=tid), attempt=tid, server="srv", request=req, fingerprint=tid)
    h.record(Task(id=tid, status="processing", progress=50))
    h.page(24, search=tag)
    h.record(Task(id=tid, status="completed", progress=100, cost_usd=0.1))
print("done")
"""


def test_three_processes_hammer_the_store_directly(tmp_path: Path) -> None:
    """No network, no sleeps: the most contention three writers can make."""
    home = tmp_path / "home"
    procs = [subprocess.Popen([sys.executable, "-c", _STORE_WRITER, f"w{k}", "100"],
                              env=child_env(home), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0 and out.strip() == "done", err[-2000:]
    history = History(home / "history.sqlite3")
    assert history.count() == 300 == history.count(status="completed")
    assert all(e.progress == 100 and e.cost_usd == 0.1 for e in history.entries())
    assert history.count(search="w1 task") == 100


# ------------------------------------------------------------------------------ full disk
_DISK_FILLER = """
import asyncio, json, os, resource, signal, sys
from pathlib import Path
import httpx
from seedance_widgets import AsyncSeedanceClient, TaskNotRecordedError, VideoRequest

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-limit write fails with EFBIG instead
home = Path(os.environ["SEEDANCE_WIDGETS_HOME"])


class DiskFillsWhileTheCreateIsInTheAir(httpx.AsyncBaseTransport):
    def __init__(self):
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request):
        if request.method == "POST":
            # The submit intent is on disk; from now on no file may grow.
            wal = home / "history.sqlite3-wal"
            limit = wal.stat().st_size
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        return await self.inner.handle_async_request(request)

    async def aclose(self):
        await self.inner.aclose()


async def main():
    async with AsyncSeedanceClient(transport=DiskFillsWhileTheCreateIsInTheAir()) as client:
        try:
            await client.create(VideoRequest(model="seedance-2.0", duration=4,
                                             prompt="the disk filled up"))
        except TaskNotRecordedError as err:
            followed = await client.get(err.task)  # it can be followed by its id
            print(json.dumps({"task_id": err.task_id, "message": str(err),
                              "status": followed.status}))
            return
    print(json.dumps({"task_id": None}))

asyncio.run(main())
"""


def test_a_full_disk_while_recording_a_create_raises_with_the_task(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Emulator(timings=Timings(queue_s=0.2, run_s=0.6)) as emu:
        run = subprocess.run([sys.executable, "-c", _DISK_FILLER], env=child_env(home, emu),
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
        result = json.loads(run.stdout.strip().splitlines()[-1])
        task_id = result["task_id"]
        assert task_id and task_id.startswith("ldtask_"), run.stdout
        assert f"task {task_id} was created on the server" in result["message"]
        assert f"client.wait('{task_id}')" in result["message"]
        assert [t["id"] for t in emu.tasks_snapshot()] == [task_id]
        assert result["status"] in ("pending", "processing") and "Traceback" not in run.stderr

        # The store opens cleanly afterwards, consistent: the intent is there, the task is not.
        history = History(home / "history.sqlite3")
        assert history.available and history.problem is None
        con = sqlite3.connect(home / "history.sqlite3")
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        con.close()
        assert history.get(task_id) is None
        (intent,) = history.unresolved_submits(min_age_s=0)
        assert intent.outcome == "in_flight" and intent.prompt == "the disk filled up"
        # With space again, the user follows the task by its id, and it is recorded.
        async_wait = _run(lambda c: c.wait(task_id), emu, history)
        assert async_wait.status == "completed"
    entry = history.get(task_id)
    assert entry is not None and entry.status == "completed"


def _run(fn: Callable[[AsyncSeedanceClient], object], emu: Emulator, history: History) -> Task:
    import asyncio

    async def main() -> Task:
        async with AsyncSeedanceClient(emu.api_key, emu.base_url, history=history) as c:
            return await fn(c)  # type: ignore[misc,no-any-return]

    return asyncio.run(main())


# ------------------------------------------------------------------------------ read-only folder
def _without_dac_override() -> None:
    # Root ignores permission bits; without these capabilities it obeys them, as a user does.
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone after exec too
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _earlier_history(path: Path) -> None:
    with History(path) as earlier:
        req = {"model": "seedance-2.0", "operation": "text-to-video", "prompt": "from before"}
        earlier.created(Task(id="ldtask_before", status="completed"), attempt=None,
                        server="demo", request=req, fingerprint="fp")


@pytest.fixture
def read_only_home() -> Iterator[tuple[Path, Path, dict[str, object]]]:
    """(a read-only data folder holding an earlier history, a writable folder, Popen kwargs)."""
    yield from _read_only_home(_earlier_history)


def _read_only_home(prepare: Callable[[Path], None]
                    ) -> Iterator[tuple[Path, Path, dict[str, object]]]:
    base = Path(tempfile.mkdtemp(prefix="sw-ro-"))
    home, out = base / "home", base / "out"
    out.mkdir()
    prepare(home / "history.sqlite3")
    os.chmod(home, 0o555)
    kwargs: dict[str, object] = {}
    if os.geteuid() == 0:
        kwargs["preexec_fn"] = _without_dac_override
    probe = subprocess.run([sys.executable, "-c", f"open({str(home / 'probe')!r}, 'w')"],
                           capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    try:
        if probe.returncode == 0:
            pytest.skip("this machine lets the test process write into a read-only folder")
        yield home, out, kwargs
    finally:
        os.chmod(home, stat.S_IRWXU)
        subprocess.run(["rm", "-rf", str(base)], check=False)


_WIDGETS = """
import asyncio, json
from seedance_widgets import Gallery, SeedancePanel

async def main():  # as in a kernel: widgets built in a cell, with the loop running
    panel = SeedancePanel(refresh_catalog=False)
    gallery = Gallery()
    restored = Gallery.from_history()
    print(json.dumps({"history_off": panel.history_off,
                      "problem": panel.client.history.problem, "gallery": len(gallery.tasks),
                      "restored": [c["id"] for c in restored.tasks]}))
    for w in (panel, gallery, restored):
        w.close()

asyncio.run(main())
"""


def test_read_only_data_folder(read_only_home: tuple[Path, Path, dict[str, object]]) -> None:
    home, out, kwargs = read_only_home
    env = child_env(home, SEEDANCE_EMU_QUEUE_S="0.2", SEEDANCE_EMU_RUN_S="0.8", HOME=str(out))

    widgets = subprocess.run([sys.executable, "-c", _WIDGETS], env=env, capture_output=True,
                             text=True, timeout=120, **kwargs)  # type: ignore[call-overload]
    assert widgets.returncode == 0, widgets.stderr[-2000:]
    shown = json.loads(widgets.stdout.strip().splitlines()[-1])
    assert shown["history_off"].startswith("history is off: ")
    assert str(home) in shown["history_off"] and "not writable" in shown["history_off"]
    assert shown["problem"] == shown["history_off"]
    assert shown["gallery"] == 0 and shown["restored"] == ["ldtask_before"]

    gen = subprocess.run([sys.executable, "-m", "seedance_widgets", "generate", "--prompt",
                          "a red fox in snow", "--duration", "4", "--out", str(out / "fox.mp4")],
                         env=env, capture_output=True, text=True, timeout=180,
                         **kwargs)  # type: ignore[call-overload]
    assert gen.returncode == 0, gen.stderr[-2000:]
    assert (out / "fox.mp4").stat().st_size > 1000
    off = [line for line in gen.stderr.splitlines() if "history" in line]
    assert len(off) == 1 and off[0].startswith("history is off: "), gen.stderr
    assert "Traceback" not in gen.stderr

    listing = subprocess.run([sys.executable, "-m", "seedance_widgets", "tasks"], env=env,
                             capture_output=True, text=True, timeout=60,
                             **kwargs)  # type: ignore[call-overload]
    assert listing.returncode == 0, listing.stderr
    assert listing.stderr.count("\n") == 1 and listing.stderr.startswith("history is off: ")
    assert "ldtask_before" in listing.stdout and "from before" in listing.stdout
    assert sorted(p.name for p in home.iterdir()) == ["history.sqlite3"]


def _version_1_history(path: Path) -> None:
    _earlier_history(path)
    with History(path) as h:
        h.ambiguous(server="demo", request={"prompt": "maybe made"}, fingerprint="fpm",
                    sent_at="2026-01-01T00:00:00+00:00", cause="HTTP 502", attempt="abcdef12")
    con = sqlite3.connect(path)  # as version 1 wrote it: no dismissed_at, schema 1
    con.execute("ALTER TABLE submits DROP COLUMN dismissed_at")
    con.execute("DELETE FROM schema_version WHERE version = 2")
    con.commit()
    con.close()


def test_an_older_history_in_a_read_only_folder_is_still_read() -> None:
    # It cannot be migrated there, so it is read as it is: tasks and unresolved creates.
    for home, out, kwargs in _read_only_home(_version_1_history):
        listing = subprocess.run([sys.executable, "-m", "seedance_widgets", "tasks"],
                                 env=child_env(home, HOME=str(out)), capture_output=True,
                                 text=True, timeout=60, **kwargs)  # type: ignore[call-overload]
        assert listing.returncode == 0, listing.stderr
        assert listing.stderr.startswith("history is off: ") and "Traceback" not in listing.stderr
        assert "ldtask_before" in listing.stdout and "from before" in listing.stdout
        assert "abcdef12" in listing.stdout and "maybe made" in listing.stdout
        con = sqlite3.connect(home / "history.sqlite3")
        assert con.execute("SELECT max(version) FROM schema_version").fetchone() == (1,)
        con.close()
