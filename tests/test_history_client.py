"""The client, the CLI and the old names on the task history: creates the history could not
record, creates that made no task, `seedance-widgets tasks`, and the bench's history part."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from pathlib import Path

import httpx
import pytest

import seedance_widgets
from seedance_widgets import AsyncSeedanceClient, History, Journal, RetryPolicy, Task, cli
from seedance_widgets._errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    TaskNotRecordedError,
)
from seedance_widgets.emulator import Emulator, Timings
from seedance_widgets.history import HistoryEntry, JournalEntry

from .history_helpers import MODELS, add


async def test_a_create_the_history_could_not_record_is_recorded_when_it_can(
        tmp_path: Path) -> None:
    """The answer arrived while another process held the lock too long: the error carries
    the task, and its next snapshot records it in full once the lock is gone."""
    path = tmp_path / "history.sqlite3"
    h = History(path, timeout=0.2)
    holder = sqlite3.connect(path, isolation_level=None)  # another process, as it were

    class LockDuringCreate(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST":  # after the intent, before the answer
                holder.execute("BEGIN IMMEDIATE")
            return await self.inner.handle_async_request(request)

    with Emulator(timings=Timings(queue_s=0.1, run_s=0.3)) as emu:
        async with AsyncSeedanceClient(emu.api_key, emu.base_url, history=h,
                                       transport=LockDuringCreate()) as c:
            with pytest.raises(TaskNotRecordedError) as info:
                await c.create(model="seedance-2.0", prompt="locked out", duration=4)
            err = info.value
            assert err.task_id == err.task.id and err.task_id.startswith("ldtask_")
            assert f"client.wait({err.task_id!r})" in str(err) and "locked" in str(err)
            assert h.get(err.task_id) is None
            holder.execute("ROLLBACK")
            final = await c.wait(err.task)
    holder.close()
    entry = h.get(err.task_id)
    assert entry is not None and entry.status == final.status == "completed"
    assert entry.prompt == "locked out" and entry.fingerprint
    assert [s.outcome for s in h.submits()] == ["created"]


async def test_a_locked_history_never_stalls_the_event_loop(tmp_path: Path) -> None:
    """Another process holds the write lock: the snapshot waits in a worker thread while the
    loop keeps running, and is recorded before the watcher sees it."""
    path = tmp_path / "history.sqlite3"
    h = History(path, timeout=30)
    with Emulator(timings=Timings(queue_s=0.1, run_s=0.3)) as emu:
        async with AsyncSeedanceClient(emu.api_key, emu.base_url, history=h) as c:
            task = await c.create(model="seedance-2.0", prompt="waiting for the lock", duration=4)
            final = await c.wait(task)
        holder = sqlite3.connect(path, isolation_level=None)  # another process, as it were
        holder.execute("BEGIN IMMEDIATE")
        # A new client (say, after a kernel restart) records what it sees, so it must write.
        async with AsyncSeedanceClient(emu.api_key, emu.base_url, history=h) as c:
            watcher = c.watch(final.id)
            first = asyncio.ensure_future(anext(watcher))
            ticks = 0
            while not first.done() and ticks < 30:
                await asyncio.sleep(0.01)  # a blocked loop would not come back here
                ticks += 1
            assert ticks == 30 and not first.done()
            holder.execute("ROLLBACK")
            seen = await first
            await watcher.aclose()
    holder.close()
    entry = h.get(final.id)
    assert seen.status == "completed" and entry is not None and entry.status == "completed"


# ------------------------------------------------------------------------------ create attempts
def test_unresolved_submits_are_only_the_ones_that_may_have_made_a_task(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    for name in ("created", "refused", "never", "flying", "ambiguous"):
        h.submitting(attempt=name, server="srv", request={"prompt": name}, fingerprint=name)
    h.created(Task(id="t1"), attempt="created", server="srv", request={"prompt": "created"},
              fingerprint="created")
    h.refused("refused", 401)
    h.never_sent("never")
    h.ambiguous(server="srv", request={"prompt": "ambiguous"}, fingerprint="ambiguous",
                sent_at="2026-01-01T00:00:00+00:00", cause="ReadTimeout", attempt="ambiguous")
    h.refused("created", 400)  # a created attempt is never changed again
    by_attempt = {s.attempt: s for s in h.submits()}
    assert {k: v.outcome for k, v in by_attempt.items()} == {
        "created": "created", "refused": "refused", "never": "never_sent",
        "flying": "in_flight", "ambiguous": "ambiguous"}
    assert by_attempt["refused"].status_code == 401 and by_attempt["created"].task_id == "t1"
    # A young in-flight create may still be waiting for its answer in another process.
    assert [s.attempt for s in h.unresolved_submits()] == ["ambiguous"]
    assert [s.attempt for s in h.unresolved_submits(min_age_s=0)] == ["flying", "ambiguous"]
    assert [s.cause for s in h.ambiguous_submits()] == ["ReadTimeout"]


async def test_refused_and_never_connected_creates_are_not_unresolved(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home_history = History()  # $SEEDANCE_WIDGETS_HOME from the fixture: what the CLI reads
    with Emulator(timings=Timings(queue_s=0.1, run_s=0.3)) as emu:
        async with AsyncSeedanceClient("sk-wrong-" + "x" * 30, emu.base_url,
                                       history=home_history) as bad_key:
            with pytest.raises(AuthenticationError):
                await bad_key.create(model="seedance-2.0", prompt="refused 401", duration=4)
        async with AsyncSeedanceClient(emu.api_key, emu.base_url, history=home_history) as c:
            with pytest.raises(BadRequestError):  # extends a task that does not exist
                await c.create(model="seedance-2.0", operation="video-extension",
                               task_id="ldtask_missing", duration=4)
            made = await c.create(model="seedance-2.0", prompt="made", duration=4)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there now
    async with AsyncSeedanceClient("sk-test-" + "y" * 30, f"http://127.0.0.1:{closed}",
                                   history=home_history,
                                   retry=RetryPolicy(max_attempts=2, base=0.01)) as nowhere:
        with pytest.raises(APIConnectionError, match="could not connect"):
            await nowhere.create(model="seedance-2.0", prompt="never left", duration=4)
    outcomes = {s.prompt or s.request.get("task_id"): (s.outcome, s.status_code)
                for s in home_history.submits()}
    assert outcomes == {"refused 401": ("refused", 401), "ldtask_missing": ("refused", 400),
                        "made": ("created", None), "never left": ("never_sent", None)}
    assert home_history.unresolved_submits(min_age_s=0) == []
    assert cli.main(["tasks"]) == 0
    out = capsys.readouterr().out
    assert "never clearly answered" not in out and made.id in out


# ------------------------------------------------------------------------------ the CLI
def test_tasks_cli_columns_filters_and_limit(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    h = History()
    for i in range(30):
        add(h, i, status=("completed", "failed")[i % 2], model=MODELS[i % 3])
    h.star("ldtask_0004")
    h.submitting(attempt="lost", server="srv", request={"prompt": "lost in the air"},
                 fingerprint="fplost")
    h.ambiguous(server="srv", request={"prompt": "maybe made"}, fingerprint="fpmaybe",
                sent_at="2026-01-02T03:04:05+00:00", cause="HTTP 502", attempt="maybe")
    assert cli.main(["tasks", "--limit", "5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "never clearly answered" in out[0] and "HTTP 502" in out[1] and "maybe made" in out[1]
    assert not any("lost in the air" in line for line in out)  # in flight for under a minute
    header = next(line for line in out if line.startswith("ID"))
    for column in ("TIME", "STATUS", "MODEL", "OPERATION", "COST", "PROMPT"):
        assert column in header
    rows = [line for line in out if line.startswith("ldtask_")]
    assert [r.split()[0] for r in rows] == [f"ldtask_{i:04d}" for i in (29, 28, 27, 26, 25)]
    assert "$0.25" in rows[0] and "text-to-video" in rows[0] and "run 29" in rows[0]
    assert out[-1].startswith("5 of 30 task(s), newest first") and "--limit 30" in out[-1]

    assert cli.main(["tasks", "--status", "completed", "--model", "seedance-2.0",
                     "--search", "fox"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ldtask_")]
    assert [r.split()[0] for r in rows] == ["ldtask_0024", "ldtask_0018", "ldtask_0012",
                                            "ldtask_0006", "ldtask_0000"]
    assert cli.main(["tasks", "--starred"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("ldtask_")]
    assert [r.split()[0] for r in rows] == ["ldtask_0004"]

    for bad in ("0", "-3"):
        assert cli.main(["tasks", "--limit", bad]) == 2
        captured = capsys.readouterr()
        assert captured.err == f"error: --limit must be a positive integer, got {bad}\n"
        assert captured.out == ""


def test_unresolved_creates_are_dismissed_by_id_and_their_records_stay(
        capsys: pytest.CaptureFixture[str]) -> None:
    h = History()
    old = "2026-01-02T03:04:05+00:00"
    for attempt, prompt in (("3f9a2b1c" + "0" * 24, "fox one"), ("3f9a77aa" + "1" * 24, "fox two"),
                            ("c0ffee00" + "2" * 24, "fox three")):
        h.ambiguous(server="srv", request={"prompt": prompt}, fingerprint=f"fp-{prompt}",
                    sent_at=old, cause="ReadTimeout", attempt=attempt)
    h.submitting(attempt="made", server="srv", request={"prompt": "made"}, fingerprint="fpm")
    h.created(Task(id="t1"), attempt="made", server="srv", request={"prompt": "made"},
              fingerprint="fpm")
    assert cli.main(["tasks"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[1:4]] == ["3f9a2b1c", "3f9a77aa", "c0ffee00"]
    assert "--dismiss ID" in out[4] and "record stays" in out[4]

    # Too short, shared by two, unknown: refused in one line that lists what can be dismissed.
    for bad, says in (("3f9a", "at least 6 characters"), ("3f9a2", "at least 6 characters"),
                      ("3f9a00", "no unresolved create has"), ("zzzzzzzz", "no unresolved")):
        assert cli.main(["tasks", "--dismiss", bad]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err.count("\n") == 1
        assert says in captured.err and "3f9a2b1c, 3f9a77aa, c0ffee00" in captured.err, bad
    h.ambiguous(server="srv", request={"prompt": "twin"}, fingerprint="fpt", sent_at=old,
                cause="ReadTimeout", attempt="3f9a2b1cffff" + "3" * 20)
    assert cli.main(["tasks", "--dismiss", "3f9a2b1c"]) == 2
    assert "2 unresolved creates have" in capsys.readouterr().err
    assert len(h.unresolved_submits()) == 4  # nothing was dismissed by a refused command

    assert cli.main(["tasks", "--dismiss", "3F9A2B1C0", "--dismiss", "c0ffee"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "dismissed 2 unresolved create(s); their records stay in the history"
    assert "2 create request(s) were sent but never clearly answered" in out[1]
    assert {s.request["prompt"] for s in h.unresolved_submits()} == {"fox two", "twin"}
    assert cli.main(["tasks", "--dismiss", "all"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("dismissed 2 ") and not any("never clearly" in x for x in out)
    assert h.unresolved_submits() == []
    # The records stay, with when they were dismissed; a created attempt is not touched.
    by_attempt = {s.attempt: s for s in h.submits()}
    assert len(by_attempt) == 5 and by_attempt["made"].dismissed_at is None
    assert all(s.dismissed_at is not None for k, s in by_attempt.items() if k != "made")
    assert h.dismiss_submits(["made", "no-such-attempt"]) == 0
    with pytest.raises(TypeError, match="list of attempt ids"):
        h.dismiss_submits("made")


def test_tasks_cli_says_history_is_off_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    home = seedance_widgets.history.data_dir()
    home.mkdir(parents=True)
    (home / "history.sqlite3").write_bytes(b"garbage " * 100)
    assert cli.main(["tasks"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("history is off: ") and "history.sqlite3.broken" in captured.err


# ------------------------------------------------------------------------------ old names
def test_old_names_keep_working(tmp_path: Path) -> None:
    assert Journal is History and JournalEntry is HistoryEntry
    old = Journal(tmp_path / "journal.jsonl")  # an old journal path: its .sqlite3 beside it
    assert old.path == tmp_path / "journal.sqlite3"
    add(old, 1)
    add(History(), 2)  # the default store
    assert [e.id for e in seedance_widgets.history()] == ["ldtask_0002"]
    assert [e.id for e in seedance_widgets.history(old)] == ["ldtask_0001"]
    client = AsyncSeedanceClient("sk-test-" + "z" * 30, "http://127.0.0.1:9", journal=old)
    assert client.history is old and client.journal is old
    assert AsyncSeedanceClient("sk-test-" + "z" * 30, "http://127.0.0.1:9",
                               history=False).history is None
    assert json.loads(json.dumps(old.get("ldtask_0001").request))["model"]  # type: ignore[union-attr]


# ------------------------------------------------------------------------------ the bench
def test_history_bench_runs_small() -> None:
    from seedance_widgets import bench
    from seedance_widgets.bench._common import Config
    from seedance_widgets.bench._history import history_bench

    result = history_bench(Config(history_runs=300, history_reps=3, history_creates=10))
    assert result["history_detail"]["runs"] == 300 and result["history_detail"]["search_hits"]
    for key in ("history_open_page_ms", "history_search_ms", "history_tasks_cli_s"):
        assert result[key] > 0 and key in bench.TARGETS
    assert set(result["history_create_ms"]) == {"ours", "jsonl_fsync_baseline", "snapshot_ours",
                                                "snapshot_jsonl_baseline"}
    verdict = bench.verdicts(result)
    assert all(verdict[k] is not None for k in ("history_open_page_ms", "history_search_ms"))
    assert "open + newest 50" in bench.render_table(result)
