"""The migration test: an old journal.jsonl, good lines and bad, imported into the SQLite
history on first open; nothing readable lost, nothing imported twice, the file kept."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from seedance_widgets import History

T0 = "2026-03-01T10:00:00.000+00:00"


def t(second: int) -> str:
    return f"2026-03-01T10:{second // 60:02d}:{second % 60:02d}.000+00:00"


def line(record: dict[str, Any]) -> bytes:
    """A record exactly as the old journal wrote it."""
    return (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode()


def created(tid: str, at: int, prompt: str, *, attempt: str | None = None,
            request: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"event": "created", "t": t(at), "id": tid, "server": "demo",
            "request": request or {"model": "seedance-2.0-fast", "operation": "text-to-video",
                                   "prompt": prompt, "duration": 4},
            "fingerprint": f"fp-{tid}", "status": "pending", "attempt": attempt}


def update(tid: str, at: int, **fields: Any) -> dict[str, Any]:
    return {"event": "update", "t": t(at), "id": tid, **fields}


BIG_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 30
BIG_URL = "data:image/png;base64," + base64.b64encode(BIG_PNG).decode()


def old_journal() -> tuple[bytes, dict[str, str]]:
    """The journal, and the final status of every task a reader can recover from it."""
    out = b""
    out += line({"event": "submitting", "t": t(1), "attempt": "att-a", "server": "demo",
                 "request": {"prompt": "a fox"}, "fingerprint": "fp-ldtask_a"})
    out += line(created("ldtask_a", 2, "a fox", attempt="att-a"))
    out += line(update("ldtask_a", 3, status="processing", progress=10))
    out += line(created("ldtask_b", 4, "a cat"))
    out += line(update("ldtask_b", 5, status="processing", progress=50))
    out += b"\x00\x01\x02 binary junk\n"                                      # garbage
    out += b"hello, world\n"                                                   # garbage
    out += line({"event": "created", "t": t(6), "id": ["ldtask_x"], "server": "demo"})
    out += line(update("ldtask_b", 7, status=7))                               # mistyped
    out += line(created("ldtask_g", 8, "x") | {"request": "not a dict"})       # mistyped
    out += line(update("ldtask_a", 9, progress="50"))                          # mistyped
    out += line(update("ldtask_a", 9, cancelled="yes"))                        # mistyped
    out += b"[1, 2, 3]\n" + b'"just a string"\n'                               # not records
    out += line({"event": "frobnicate", "t": t(9), "id": "ldtask_a"})          # unknown kind
    # A writer killed mid-line: the next record lands on the same line, as the old journal
    # appended it. The old reader lost that created record; the import recovers it.
    torn = line(update("ldtask_a", 10, status="completed", progress=100))
    out += torn[: len(torn) // 2]
    out += line(created("ldtask_f", 11, "a frog"))
    out += line(update("ldtask_f", 12, status="failed", error="content policy"))
    out += line(update("ldtask_a", 13, status="completed", progress=100,
                       video_url="https://cdn.example/a.mp4", cost_usd=0.59))
    out += line(update("ldtask_b", 14, status="failed", cancelled=True))
    out += line(update("ldtask_nope", 15, status="completed"))                # never created
    out += line({"event": "submitting", "t": t(16), "attempt": "att-lost", "server": "demo",
                 "request": {"prompt": "lost"}, "fingerprint": "fp-lost"})
    out += line({"event": "ambiguous", "t": t(17), "server": "demo",           # no attempt id
                 "request": {"prompt": "maybe"}, "fingerprint": "fp-maybe",
                 "sent_at": t(16), "cause": "ReadTimeout"})
    out += line(created("ldtask_h", 18, "", request={
        "model": "seedance-2.0", "operation": "image-to-video", "prompt": "alive",
        "image_url": BIG_URL}))
    out += line(update("ldtask_h", 19, status="completed", local_path="/videos/h.mp4"))
    tail = line(update("ldtask_h", 20, status="failed"))
    out += tail[:25]                                                           # torn last line
    finals = {"ldtask_a": "completed", "ldtask_b": "failed", "ldtask_f": "failed",
              "ldtask_h": "completed"}
    return out, finals


def test_old_journal_is_imported_once_and_nothing_readable_is_lost(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    home = tmp_path / "home"
    home.mkdir()
    journal = home / "journal.jsonl"
    data, finals = old_journal()
    journal.write_bytes(data)
    caplog.set_level(logging.INFO, logger="seedance_widgets")

    h = History(home / "history.sqlite3")
    assert h.available
    got = {e.id: e.status for e in h.entries()}
    assert got == finals, "every readable task, in its last readable state"
    assert [e.id for e in h.entries()] == ["ldtask_a", "ldtask_b", "ldtask_f", "ldtask_h"]
    a, b, f, hh = (h.get(i) for i in ("ldtask_a", "ldtask_b", "ldtask_f", "ldtask_h"))
    assert a and a.progress == 100 and a.cost_usd == 0.59 and a.video_url and not a.cancelled
    assert a.created_at is not None and a.created_at.isoformat().startswith("2026-03-01T10:00:02")
    assert b and b.cancelled and b.display_status == "cancelled"
    assert f and f.error == "content policy" and f.prompt == "a frog"
    assert hh and hh.local_path == "/videos/h.mp4"
    assert h.full_request("ldtask_h")["image_url"] == BIG_URL  # type: ignore[index]
    digest = hashlib.sha256(BIG_PNG).hexdigest()
    assert (home / "blobs" / digest[:2] / digest).read_bytes() == BIG_PNG
    assert "blob:sha256:" in hh.request["image_url"]

    outcomes = {s.attempt: s.outcome for s in h.submits()}
    assert outcomes["att-a"] == "created" and outcomes["att-lost"] == "in_flight"
    (maybe,) = h.ambiguous_submits()
    assert maybe.fingerprint == "fp-maybe" and maybe.cause == "ReadTimeout"

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    message = warnings[0].getMessage()
    assert "imported 4 task(s)" in message and str(journal) in message
    assert "skipped 12 unreadable line(s)" in message
    for part in ("2 torn", "2 not JSON", "5 with wrong types or missing fields",
                 "2 not a record", "1 of an unknown kind"):
        assert part in message, message
    assert "recovered 1 record(s) written onto a torn line" in message
    assert "ignored the updates of 1 task(s) it never created" in message
    report = h.last_import
    assert report is not None and report.tasks == 4 and sum(report.skipped.values()) == 12
    assert journal.read_bytes() == data, "the journal is kept as it was"
    h.close()

    # A second open imports nothing twice, and says nothing.
    caplog.clear()
    again = History(home / "history.sqlite3")
    assert again.last_import is None and not caplog.records
    assert {e.id: e.status for e in again.entries()} == finals
    assert {s.attempt: s.outcome for s in again.submits()} == outcomes
    again.close()

    # An older seedance-widgets appends after the torn tail: only the new records come in.
    with journal.open("ab") as fh:
        fh.write(line(created("ldtask_z", 30, "a zebra")))
        fh.write(line(update("ldtask_z", 31, status="completed")))
    third = History(home / "history.sqlite3")
    assert third.last_import is not None and third.last_import.tasks == 1
    assert not third.last_import.skipped
    assert {e.id: e.status for e in third.entries()} == finals | {"ldtask_z": "completed"}
    assert third.count() == 5


def test_reimporting_a_replaced_journal_never_moves_state_back(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    full = (line(created("ldtask_a", 1, "a fox")) + line(update("ldtask_a", 2, status="processing"))
            + line(update("ldtask_a", 3, status="completed")))
    journal.write_bytes(full)
    assert History(tmp_path / "history.sqlite3").get("ldtask_a").status == "completed"  # type: ignore[union-attr]
    journal.write_bytes(full[: len(line(created("ldtask_a", 1, "a fox")))])  # an older copy
    h = History(tmp_path / "history.sqlite3")
    assert h.last_import is not None  # it was read again ...
    assert h.get("ldtask_a").status == "completed"  # type: ignore[union-attr]  # ... harmlessly
    assert h.count() == 1
