"""The task history on a real SQLite file: queries, pages, search, user metadata, snapshot
merging, inline images, and files it must refuse (corrupt, newer, locked)."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from pathlib import Path

import pytest

from seedance_widgets import History, Task
from seedance_widgets._errors import HistoryError
from seedance_widgets.history import STATUS_FILTERS, HistoryEntry
from seedance_widgets.history import _connection as connection_module

from .history_helpers import MODELS, BilledTask, add


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


def test_a_version_1_file_is_migrated_in_place_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    h = History(path)
    add(h, 1)
    h.ambiguous(server="srv", request={"prompt": "maybe"}, fingerprint="fp", cause="HTTP 502",
                sent_at="2026-01-01T00:00:00+00:00", attempt="a1")
    h.close()
    con = sqlite3.connect(path)  # what version 1 wrote: no dismissed_at, schema 1
    con.execute("ALTER TABLE submits DROP COLUMN dismissed_at")
    con.execute("DELETE FROM schema_version WHERE version = 2")
    con.commit()
    con.close()
    h = History(path)
    assert h.available and [e.id for e in h.entries()] == ["ldtask_0001"]
    assert [s.attempt for s in h.unresolved_submits()] == ["a1"]
    assert h.dismiss_submits(["a1"]) == 1 and h.unresolved_submits() == []
    h.close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT max(version) FROM schema_version").fetchone() == (2,)
    con.close()


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
