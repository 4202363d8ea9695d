"""The task history on a real SQLite file: queries, pages, search, user metadata, inline images,
refused files, and how the client records creates that made no task."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from pathlib import Path

import httpx
import pytest

import seedance_widgets
from seedance_widgets import AsyncSeedanceClient, History, Journal, Task, cli
from seedance_widgets._errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    HistoryError,
    TaskNotRecordedError,
)
from seedance_widgets.emulator import Emulator, Timings
from seedance_widgets.history import STATUS_FILTERS, HistoryEntry, JournalEntry
from seedance_widgets.history import _connection as connection_module

MODELS = ("seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini")
ANIMALS = ("fox", "cat", "horse", "frog", "rabbit", "kite")


class BilledTask(Task):
    """A Task as issue #10 extends it: billing_transaction_id is read when present."""

    billing_transaction_id: str | None = None


def add(h: History, i: int, *, status: str = "completed", model: str = "seedance-2.0-fast",
        operation: str = "text-to-video", prompt: str | None = None, server: str = "srv",
        cancelled: bool = False, cost: float | None = 0.25) -> str:
    task_id = f"ldtask_{i:04d}"
    req = {"model": model, "operation": operation,
           "prompt": prompt or f"run {i}: a {ANIMALS[i % len(ANIMALS)]} over a hill"}
    h.submitting(attempt=f"att{i}", server=server, request=req, fingerprint=f"fp{i}")
    h.created(Task(id=task_id, model=model), attempt=f"att{i}", server=server, request=req,
              fingerprint=f"fp{i}")
    h.record(Task(id=task_id, status=status, progress=100 if status == "completed" else 40,
                  cancelled=cancelled, cost_usd=cost,
                  video_url=f"https://cdn.example/{task_id}.mp4"
                  if status == "completed" else None))
    return task_id


@pytest.fixture
def filled(tmp_path: Path) -> History:
    h = History(tmp_path / "h.sqlite3")
    for i in range(60):
        status = ("completed", "failed", "processing", "pending")[i % 4]
        add(h, i, status=status, model=MODELS[i % 3], cancelled=status == "failed" and i % 8 == 1,
            operation="image-to-video" if i % 5 == 0 else "text-to-video",
            server="demo" if i % 10 == 0 else "srv")
    return h


def all_pages(h: History, limit: int, **filters) -> list[HistoryEntry]:
    out, cursor = [], None
    while True:
        page = h.page(limit, cursor, **filters)
        out += page.entries
        cursor = page.next_cursor
        if cursor is None:
            return out


# ------------------------------------------------------------------------------ queries
def test_pages_run_newest_first_and_cursor_covers_everything(filled: History) -> None:
    first = filled.page(24)
    assert [e.id for e in first][:3] == ["ldtask_0059", "ldtask_0058", "ldtask_0057"]
    assert len(first) == 24 and first.next_cursor
    everything = all_pages(filled, 7)
    assert [e.id for e in everything] == [f"ldtask_{i:04d}" for i in range(59, -1, -1)]
    assert filled.count() == 60
    assert [e.id for e in filled.entries()] == [f"ldtask_{i:04d}" for i in range(60)]
    assert filled.page(100).next_cursor is None
    with pytest.raises(ValueError, match="limit must be an integer from 1"):
        filled.page(0)
    with pytest.raises(ValueError, match=r"did not come from History\.page"):
        filled.page(5, "not-a-cursor")


def test_filters_combine_and_match_counts(filled: History) -> None:
    def ids(**f) -> set[str]:
        got = {e.id for e in all_pages(filled, 5, **f)}
        assert filled.count(**f) == len(got)
        return got

    everything = filled.entries()
    assert ids(status="completed") == {e.id for e in everything if e.status == "completed"}
    cancelled = {e.id for e in everything if e.cancelled}
    assert cancelled and ids(status="cancelled") == cancelled
    assert ids(status="failed") == {e.id for e in everything
                                    if e.status == "failed" and not e.cancelled}
    assert ids(status=["pending", "processing"]) == {e.id for e in everything
                                                     if not e.is_terminal}
    assert ids(model="seedance-2.0-mini") == {e.id for e in everything
                                              if e.model == "seedance-2.0-mini"}
    assert ids(operation="image-to-video", model="seedance-2.0") == {
        e.id for e in everything if e.operation == "image-to-video" and e.model == "seedance-2.0"}
    assert ids(server="demo") == {f"ldtask_{i:04d}" for i in range(0, 60, 10)}
    with pytest.raises(ValueError, match="allowed: completed, failed, pending, processing"):
        filled.page(status="complete")
    assert STATUS_FILTERS == ("completed", "failed", "pending", "processing", "cancelled")


def test_text_search_matches_every_word_as_a_prefix(filled: History) -> None:
    assert filled.full_text_search  # this SQLite has FTS5
    foxes = {e.id for e in all_pages(filled, 10, search="fox")}
    assert foxes == {f"ldtask_{i:04d}" for i in range(60) if i % 6 == 0}
    assert {e.id for e in filled.page(50, search="FO hil")} == foxes  # prefixes, any case
    assert [e.id for e in filled.page(50, search="run 13:")] == ["ldtask_0013"]
    assert filled.page(50, search="fox", status="completed").entries == tuple(
        e for e in filled.page(50, search="fox") if e.status == "completed")
    assert filled.count(search="zebra") == 0
    assert len(filled.page(50, search='"fox')) == len(foxes)  # quotes are text, not syntax
    assert filled.count(search="   ") == 60


def test_search_without_fts5_uses_like_and_the_index_catches_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection_module, "_HAS_FTS5", False)
    h = History(tmp_path / "h.sqlite3")
    assert not h.full_text_search
    for i in range(12):
        add(h, i)
    assert {e.id for e in h.page(50, search="fox hill")} == {"ldtask_0000", "ldtask_0006"}
    assert h.count(search="100%") == 0  # LIKE wildcards in the text are literal
    h.close()
    monkeypatch.setattr(connection_module, "_HAS_FTS5", True)
    again = History(tmp_path / "h.sqlite3")  # rows written without the index are indexed now
    assert again.full_text_search
    assert {e.id for e in again.page(50, search="fox")} == {"ldtask_0000", "ldtask_0006"}


def test_star_note_and_tags(filled: History) -> None:
    filled.star("ldtask_0003")
    filled.star("ldtask_0007")
    filled.star("ldtask_0007", False)
    filled.set_note("ldtask_0003", "the keeper")
    filled.set_tags("ldtask_0003", ["fox", " best ", "fox", ""])
    filled.set_tags("ldtask_0004", ["fox"])
    entry = filled.get("ldtask_0003")
    assert entry and entry.starred and entry.note == "the keeper" and entry.tags == ("best", "fox")
    assert [e.id for e in filled.page(10, starred=True)] == ["ldtask_0003"]
    assert filled.count(starred=False) == 59
    assert [e.id for e in filled.page(10, tag="fox")] == ["ldtask_0004", "ldtask_0003"]
    assert next(e for e in filled.page(60) if e.id == "ldtask_0003").tags == ("best", "fox")
    with pytest.raises(HistoryError, match="no task 'ldtask_nope'"):
        filled.star("ldtask_nope")
    with pytest.raises(TypeError, match="list of strings"):
        filled.set_tags("ldtask_0003", "fox")


def test_snapshots_merge_and_never_move_a_finished_task_back(tmp_path: Path) -> None:
    h = History(tmp_path / "h.sqlite3")
    add(h, 1, status="processing", cost=None)
    h.record(BilledTask(id="ldtask_0001", status="completed", progress=100, cost_usd=0.59,
                        billing_transaction_id="btx_123",
                        video_url="https://cdn.example/v.mp4"))
    h.record(Task(id="ldtask_0001", status="processing", progress=60))  # a late snapshot
    h.record(Task(id="ldtask_0001", status="completed"))  # says less: keeps what was known
    h.set_local_path("ldtask_0001", tmp_path / "v.mp4", sha256="ab" * 32)
    e = h.get("ldtask_0001")
    assert e is not None
    assert (e.status, e.progress, e.cost_usd, e.billing_transaction_id, e.video_url) == (
        "completed", 100, 0.59, "btx_123", "https://cdn.example/v.mp4")
    assert e.local_path == str(tmp_path / "v.mp4") and e.sha256 == "ab" * 32
    assert e.is_terminal and e.display_status == "completed" and e.prompt.startswith("run 1")
    h.record(Task(id="ldtask_0009", status="processing"))  # unknown, no server: ignored
    h.record(Task(id="ldtask_0010", status="processing", model="seedance-2.0"), server="demo")
    assert h.get("ldtask_0009") is None
    other = h.get("ldtask_0010")
    assert other is not None and other.server == "demo" and other.model == ""
    assert [e.id for e in h.unfinished()] == ["ldtask_0010"]
    assert h.unfinished(server="srv") == []


def test_large_inline_images_are_stored_once_by_sha256(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    small = "data:image/png;base64," + base64.b64encode(b"tiny").decode()
    h = History(tmp_path / "h.sqlite3")
    req = {"model": "seedance-2.0", "operation": "reference-to-video", "prompt": "same product",
           "reference_images": [url, small, url]}
    for i in range(2):
        h.submitting(attempt=f"a{i}", server="srv", request=req, fingerprint="fp")
        h.created(Task(id=f"t{i}"), attempt=f"a{i}", server="srv", request=req,
                  fingerprint="fp")
    digest = hashlib.sha256(png).hexdigest()
    files = [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()]
    assert files == [tmp_path / "blobs" / digest[:2] / digest]
    assert files[0].read_bytes() == png
    stored = h.get("t0")
    assert stored is not None
    refs = stored.request["reference_images"]
    assert refs[0] == refs[2] == f"blob:sha256:{digest}:data:image/png;base64"
    assert refs[1] == small  # small ones stay inline
    raw = sqlite3.connect(tmp_path / "h.sqlite3").execute(
        "SELECT max(length(request)) FROM tasks").fetchone()[0]
    assert raw < 600, "the image bytes are in the row"
    assert h.full_request("t1") == req
    assert h.full_request("nope") is None
    files[0].write_bytes(b"changed")
    with pytest.raises(HistoryError, match="no longer matches its SHA-256"):
        h.full_request("t1")
    files[0].unlink()
    with pytest.raises(HistoryError, match="is missing"):
        h.full_request("t1")


# ------------------------------------------------------------------------------ refused files
def test_a_corrupt_file_is_refused_never_reset(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    garbage = b"not a database, " * 200
    path.write_bytes(garbage)
    h = History(path)
    assert not h.available and not h.readable
    assert h.problem and str(path) in h.problem and "history.sqlite3.broken" in h.problem
    with pytest.raises(HistoryError) as info:
        h.page()
    assert info.value.kind == "corrupt" and str(path) in str(info.value)
    with pytest.raises(HistoryError):
        h.star("x")
    assert path.read_bytes() == garbage


def test_a_damaged_database_raises_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with History(path) as h:
        for i in range(40):
            add(h, i, prompt=f"run {i} " + "padding " * 200)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a torn copy: the first pages survive
    h = History(path)
    with pytest.raises(HistoryError) as info:
        h.entries()
    assert info.value.kind == "corrupt" and "history.sqlite3.broken" in str(info.value)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    History(path).close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO schema_version VALUES (99, 'later')")
    con.commit()
    con.close()
    before = path.read_bytes()
    h = History(path)
    assert not h.available
    assert h.problem and "newer seedance-widgets" in h.problem and "schema 99" in h.problem
    with pytest.raises(HistoryError, match="pip install -U seedance-widgets") as info:
        h.entries()
    assert info.value.kind == "newer-schema"
    assert path.read_bytes() == before


def test_a_write_locked_too_long_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    h = History(path, timeout=0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        with pytest.raises(HistoryError) as info:
            h.created(Task(id="t1"), attempt="a1", server="srv", request={"prompt": "p"},
                      fingerprint="fp")
        assert info.value.kind == "locked" and "locked" in str(info.value)
        assert h.problem and "could not record the last change" in h.problem
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    h.created(Task(id="t1"), attempt="a1", server="srv", request={"prompt": "p"},
              fingerprint="fp")
    assert h.problem is None and [e.id for e in History(path).entries()] == ["t1"]


async def test_a_create_the_history_could_not_record_is_recorded_when_it_can(
        tmp_path: Path) -> None:
    """The answer arrived while another process held the lock too long: the error carries
    the task, and its next snapshot records it in full once the lock is gone."""
    path = tmp_path / "history.sqlite3"
    h = History(path, timeout=0.2)
    with Emulator(timings=Timings(queue_s=0.1, run_s=0.3)) as emu:
        async with AsyncSeedanceClient(emu.api_key, emu.base_url, history=h) as c:

            class LockDuringCreate(httpx.AsyncBaseTransport):
                def __init__(self) -> None:
                    self.inner = httpx.AsyncHTTPTransport()

                async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                    if request.method == "POST":
                        holder.execute("BEGIN IMMEDIATE")
                    return await self.inner.handle_async_request(request)

            holder = sqlite3.connect(path, isolation_level=None)
            c._http._transport = LockDuringCreate()
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
    import socket

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
        closed = s.getsockname()[1]
    from seedance_widgets import RetryPolicy

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
