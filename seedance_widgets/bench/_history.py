"""The task history with 10,000 runs: open + newest page, a text search, `seedance-widgets tasks`
as a whole process, and what the durable writes cost each create.

The history is built the way a long-time user's would be: an old JSON-lines journal of 10,000
runs (intent, create, progress snapshots, saved file), imported into SQLite on first open. The
baseline for reads is parsing and folding that same journal, which is what every read cost
before; the baseline for writes is the old journal's fsync'd append.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._common import Config, child_env, say

ADJECTIVES = ("red", "paper", "tiny", "golden", "neon", "old", "silent", "giant", "glass", "wild")
SUBJECTS = ("fox", "boat", "kite", "robot", "whale", "city", "forest", "dragon", "train", "cat")
ACTIONS = ("drifting over", "running through", "hovering above", "sleeping in", "dancing on")
PLACES = ("a rainy street", "a snowy hill", "the ocean", "a night market", "a desert")
STYLES = ("cinematic", "hand-drawn", "35mm film", "watercolor", "claymation", "drone shot")
SEARCH = "red fox"  # about 1 run in 100 matches both words


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _median(fn: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def write_journal(path: Path, runs: int, seed: int = 7) -> None:
    """An old-format journal.jsonl of `runs` runs, as the JSON-lines journal wrote them."""
    rng = random.Random(seed)
    t0 = 1_735_000_000.0

    def at(s: float) -> str:
        import datetime as dt

        return dt.datetime.fromtimestamp(t0 + s, dt.UTC).isoformat(timespec="milliseconds")

    lines = []
    for i in range(runs):
        start = i * 90.0
        prompt = (f"{rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)} {rng.choice(ACTIONS)} "
                  f"{rng.choice(PLACES)}, {rng.choice(STYLES)}, take {i}")
        model = rng.choice(("seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini"))
        request = {"model": model, "operation": "text-to-video", "prompt": prompt,
                   "duration": rng.choice((4, 5, 8)), "resolution": "720p",
                   "aspect_ratio": "16:9"}
        tid, attempt, fp = f"ldtask_{i:08x}{rng.getrandbits(64):016x}", f"{i:032x}", f"{i:016x}"
        status = "failed" if rng.random() < 0.08 else "completed"
        records: list[dict[str, Any]] = [
            {"event": "submitting", "t": at(start), "attempt": attempt, "server": "demo",
             "request": request, "fingerprint": fp},
            {"event": "created", "t": at(start + 0.4), "id": tid, "server": "demo",
             "request": request, "fingerprint": fp, "status": "pending", "attempt": attempt},
            {"event": "update", "t": at(start + 3), "id": tid, "status": "processing",
             "progress": 30},
            {"event": "update", "t": at(start + 20), "id": tid, "status": "processing",
             "progress": 80},
        ]
        if status == "completed":
            records.append({"event": "update", "t": at(start + 30), "id": tid,
                            "status": "completed", "progress": 100, "cost_usd": 0.59,
                            "video_url": f"https://cdn.example/{tid}.mp4"})
            records.append({"event": "update", "t": at(start + 33), "id": tid,
                            "local_path": f"/home/user/videos/{tid}.mp4"})
        else:
            records.append({"event": "update", "t": at(start + 30), "id": tid,
                            "status": "failed", "error": "content policy"})
        lines += [json.dumps(r, separators=(",", ":")) for r in records]
    path.write_text("\n".join(lines) + "\n")


def fold_jsonl(path: Path) -> list[dict[str, Any]]:
    """The old read path: parse every line, fold by task id, in creation order."""
    out: dict[str, dict[str, Any]] = {}
    for raw in path.read_bytes().splitlines():
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        tid = rec.get("id") if isinstance(rec, dict) else None
        if not tid:
            continue
        if rec.get("event") == "created":
            out[tid] = {"id": tid, "request": rec.get("request"), "status": rec.get("status")}
        entry = out.get(tid)
        if entry is not None:
            entry.update({k: v for k, v in rec.items() if k not in ("event", "id", "request")})
    return list(out.values())


def _old_append(path: Path, record: dict[str, Any], *, durable: bool) -> None:
    """The JSON-lines journal's write: one O_APPEND write, fsync'd when durable."""
    line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def create_path_cost(folder: Path, creates: int) -> dict[str, float]:
    """ms per create of the two durable writes (intent, answer), and per status snapshot."""
    from .._task import Task
    from ..history import History

    request = {"model": "seedance-2.0-fast", "operation": "text-to-video",
               "prompt": "a paper boat on a rainy street", "duration": 5}
    h = History(folder / "writes.sqlite3")
    t0 = time.perf_counter()
    for i in range(creates):
        h.submitting(attempt=f"a{i}", server="demo", request=request, fingerprint=f"f{i}")
        h.created(Task(id=f"t{i}"), attempt=f"a{i}", server="demo", request=request,
                  fingerprint=f"f{i}")
    ours = (time.perf_counter() - t0) / creates
    t0 = time.perf_counter()
    for i in range(creates):
        h.record(Task(id=f"t{i}", status="processing", progress=50))
    ours_snapshot = (time.perf_counter() - t0) / creates
    h.close()
    journal = folder / "writes.jsonl"
    t0 = time.perf_counter()
    for i in range(creates):
        _old_append(journal, {"event": "submitting", "attempt": f"a{i}", "request": request},
                    durable=True)
        _old_append(journal, {"event": "created", "id": f"t{i}", "request": request},
                    durable=True)
    old = (time.perf_counter() - t0) / creates
    t0 = time.perf_counter()
    for i in range(creates):
        _old_append(journal, {"event": "update", "id": f"t{i}", "status": "processing"},
                    durable=False)
    old_snapshot = (time.perf_counter() - t0) / creates
    return {"ours": _ms(ours), "jsonl_fsync_baseline": _ms(old),
            "snapshot_ours": round(ours_snapshot * 1000, 3),
            "snapshot_jsonl_baseline": round(old_snapshot * 1000, 3)}


def _cli_seconds(home: Path, reps: int) -> tuple[float, float]:
    env = child_env(SEEDANCE_WIDGETS_HOME=str(home), TOKENLAB_API_KEY=None)

    def run(args: list[str]) -> None:
        done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                              timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr[-300:]}")

    # Interleaved, so both medians see the same (shared, noisy) machine.
    tasks, floor = [], []
    for _ in range(reps):
        for args, times in ((["-m", "seedance_widgets", "tasks"], tasks),
                            (["-c", "import seedance_widgets.cli"], floor)):
            t0 = time.perf_counter()
            run(args)
            times.append(time.perf_counter() - t0)
    return statistics.median(tasks), statistics.median(floor)


def history_bench(cfg: Config) -> dict[str, Any]:
    from ..history import History

    runs = cfg.history_runs
    with tempfile.TemporaryDirectory(prefix="sw-bench-history-") as tmp:
        home = Path(tmp)
        journal = home / "journal.jsonl"
        say(f"history: writing a {runs:,}-run journal")
        write_journal(journal, runs)
        journal_bytes = journal.stat().st_size
        t0 = time.perf_counter()
        first = History(home / "history.sqlite3")  # imports the journal
        import_s = time.perf_counter() - t0
        if first.count() != runs:
            raise RuntimeError(f"imported {first.count()} of {runs} runs")
        first.close()
        db_bytes = (home / "history.sqlite3").stat().st_size
        say(f"history: imported in {import_s:.1f} s; timing reads")

        def open_page() -> None:
            with History(home / "history.sqlite3") as h:
                if len(h.page(50)) != 50:
                    raise RuntimeError("short page")

        def newest_jsonl() -> list[dict[str, Any]]:
            return fold_jsonl(journal)[-50:]  # the newest page

        words = SEARCH.split()

        def search_jsonl() -> list[dict[str, Any]]:
            return [e for e in fold_jsonl(journal)
                    if all(w in str((e.get("request") or {}).get("prompt", "")).lower()
                           for w in words)][-50:]

        store = History(home / "history.sqlite3")
        hits = store.count(search=SEARCH)
        open_page_s = _median(open_page, cfg.history_reps)
        search_s = _median(lambda: store.page(50, search=SEARCH), cfg.history_reps)
        store.close()
        jsonl_s = _median(newest_jsonl, max(3, cfg.history_reps // 5))
        jsonl_search_s = _median(search_jsonl, max(3, cfg.history_reps // 5))
        say("history: `seedance-widgets tasks` as a process")
        cli_s, floor_s = _cli_seconds(home, max(3, cfg.history_reps // 3))
        say("history: create-path cost")
        writes = create_path_cost(home, cfg.history_creates)
    return {
        "history_open_page_ms": _ms(open_page_s),
        "history_search_ms": _ms(search_s),
        "history_tasks_cli_s": round(cli_s, 3),
        "history_create_ms": writes,
        "history_detail": {
            "runs": runs, "search": SEARCH, "search_hits": hits,
            "import_s": round(import_s, 2), "journal_bytes": journal_bytes,
            "sqlite_bytes": db_bytes,
            "jsonl_parse_newest_page_ms": _ms(jsonl_s),
            "jsonl_search_ms": _ms(jsonl_search_s),
            "cli_import_floor_s": round(floor_s, 3),
        },
    }
