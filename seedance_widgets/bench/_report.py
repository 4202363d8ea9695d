"""Targets, verdicts and the printed table."""

from __future__ import annotations

from typing import Any

from ._common import KB
from ._schedules import POLICIES

TARGETS: dict[str, dict[str, Any]] = {
    "loop_lag_p99_ms@500": {"max": 10.0, "unit": "ms", "strict": True},
    "requests_per_task@ours_progress": {"max": 15.0, "unit": "req"},
    "detection_latency_p50_s@ours_progress": {"max": 1.0, "unit": "s"},
    "notebook_bytes_per_task@gallery": {"max": 3 * KB, "unit": "B"},
    "notebook_bytes_per_task@widget_per_task": {"max": 10 * KB, "unit": "B"},
    # Stored once per notebook (a shared asset model), not once per widget as when the target
    # was 40 KB; the panel has since gained the assets drawer, media drops and marimo support.
    "bundle_bytes": {"max": 64 * KB, "unit": "B"},
    "update_bytes@500": {"max": 4 * KB, "unit": "B"},
    "from_history_s": {"max": 0.5, "unit": "s"},
    "from_history_state_bytes": {"max": 256 * KB, "unit": "B"},
    "import_ratio": {"max": 1.3, "unit": "x"},
    "history_open_page_ms": {"max": 50.0, "unit": "ms"},
    "history_search_ms": {"max": 50.0, "unit": "ms"},
    "history_tasks_cli_s": {"max": 1.0, "unit": "s"},
    # Showing inputs and adding sound may cost at most twice the silent text-only render.
    "render_ratio": {"max": 2.0, "unit": "x"},
}




def _lookup(result: dict[str, Any], target: str) -> Any:
    key, _, sub = target.partition("@")
    value = result.get(key)
    return value.get(sub) if sub and isinstance(value, dict) else value


def verdicts(result: dict[str, Any]) -> dict[str, bool | None]:
    out: dict[str, bool | None] = {}
    for name, spec in TARGETS.items():
        value = _lookup(result, name)
        if value is None:
            out[name] = None
        else:
            out[name] = value < spec["max"] if spec.get("strict") else value <= spec["max"]
    return out




def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render_table(result: dict[str, Any]) -> str:
    """Aligned rows: measure, value, unit, target, verdict."""
    verdict = result.get("pass") or verdicts(result)
    rows: list[tuple[str, str, str, str, str]] = []

    def target_of(name: str) -> tuple[str, str]:
        if name not in TARGETS:
            return "", ""
        spec = TARGETS[name]
        mark = verdict.get(name)
        return (f"{'<' if spec.get('strict') else '≤'} {_fmt(spec['max'])}",
                "n/a" if mark is None else ("pass" if mark else "MISS"))

    def add(label: str, value: Any, unit: str, target: str = "", digits: int = 2) -> None:
        rows.append((label, _fmt(value, digits), unit, *target_of(target)))

    lag = result.get("loop_lag_p99_ms") or {}
    blk = result.get("loop_lag_p99_ms_blocking_baseline") or {}
    add("loop lag p99, idle loop (baseline)", result.get("loop_lag_p99_ms_idle"), "ms")
    detail = result.get("loop_lag_detail") or {}
    for n in ("50", "200", "500"):
        add(f"loop lag p99, {n} tasks, our client", lag.get(n), "ms",
            "loop_lag_p99_ms@500" if n == "500" else "")
        add(f"loop lag max, {n} tasks, our client",
            (detail.get(f"ours_{n}") or {}).get("max_ms"), "ms", digits=1)
        if n in blk:
            add(f"loop lag p99, {n} tasks, blocking loop", blk.get(n), "ms", digits=0)
    req = result.get("requests_per_task") or {}
    p50 = result.get("detection_latency_p50_s") or {}
    p95 = result.get("detection_latency_p95_s") or {}
    for pol in POLICIES:
        add(f"60 s task, {pol}: requests", req.get(pol), "req/task",
            "requests_per_task@ours_progress" if pol == "ours_progress" else "", 1)
        add(f"60 s task, {pol}: detection p50", p50.get(pol), "s",
            "detection_latency_p50_s@ours_progress" if pol == "ours_progress" else "")
        add(f"60 s task, {pol}: detection p95", p95.get(pol), "s")
    cpu = result.get("cpu_detail") or {}
    add("CPU per status poll, our client", result.get("cpu_ms_per_poll"), "ms", digits=3)
    add("CPU per GET, raw httpx (baseline)", cpu.get("raw_httpx_cpu_ms_per_get"), "ms", digits=3)
    nbg = result.get("notebook_bytes_per_task") or {}
    add("notebook growth per gallery card", nbg.get("gallery"), "B/task",
        "notebook_bytes_per_task@gallery")
    add("notebook growth per TaskWidget", nbg.get("widget_per_task"), "B/task",
        "notebook_bytes_per_task@widget_per_task")
    add("bundle widget.js + widget.css (stored once)", result.get("bundle_bytes"), "B",
        "bundle_bytes")
    upd = result.get("update_bytes") or {}
    old = result.get("update_bytes_old_design_baseline") or {}
    for n in ("0", "100", "500"):
        add(f"comm bytes per progress update, {n} runs", upd.get(n), "B",
            "update_bytes@500" if n == "500" else "")
        add(f"  old design (whole list resent), {n} runs", old.get(n), "B")
    hist = result.get("from_history_detail") or {}
    add(f"Gallery.from_history(), {hist.get('runs', '?')} runs", result.get("from_history_s"),
        "s", "from_history_s", 3)
    add("  baseline: read every run of the store", hist.get("baseline_read_every_run_s"), "s",
        digits=3)
    add("  initial widget state", result.get("from_history_state_bytes"), "B",
        "from_history_state_bytes")
    imp = result.get("import_ms") or {}
    add("import seedance_widgets (median)", imp.get("seedance_widgets"), "ms", digits=1)
    add("import anywidget+httpx+pydantic", imp.get("anywidget_httpx_pydantic"), "ms", digits=1)
    add("import ratio", result.get("import_ratio"), "x", "import_ratio", 3)
    hd = result.get("history_detail") or {}
    runs = f"{hd['runs']:,} runs" if hd.get("runs") else "10,000 runs"
    add(f"history, {runs}: open + newest 50", result.get("history_open_page_ms"), "ms",
        "history_open_page_ms")
    add("  baseline: parse the journal.jsonl", hd.get("jsonl_parse_newest_page_ms"), "ms", digits=1)
    add(f"history: search {hd.get('search', '')!r}", result.get("history_search_ms"), "ms",
        "history_search_ms")
    add("  baseline: parse + scan the journal.jsonl", hd.get("jsonl_search_ms"), "ms", digits=1)
    add("history: `seedance-widgets tasks` process", result.get("history_tasks_cli_s"), "s",
        "history_tasks_cli_s", 3)
    add("  baseline: `import seedance_widgets.cli`", hd.get("cli_import_floor_s"), "s", digits=3)
    add("history: first open, import of the journal", hd.get("import_s"), "s")
    writes = result.get("history_create_ms") or {}
    add("durable writes per create (intent + answer)", writes.get("ours"), "ms")
    add("  baseline: 2 fsync'd JSON-lines appends", writes.get("jsonl_fsync_baseline"), "ms")
    add("status snapshot write", writes.get("snapshot_ours"), "ms", digits=3)
    add("  baseline: 1 JSON-lines append", writes.get("snapshot_jsonl_baseline"), "ms", digits=3)
    for case, ms in (result.get("render_ms") or {}).items():
        add(f"emulator render, 5 s, {case.replace('_', ' ')}", ms, "ms", digits=0)
    add("render ratio, slowest case / silent baseline", result.get("render_ratio"), "x",
        "render_ratio")

    head = ("measure", "value", "unit", "target", "verdict")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    lines = []
    for i, r in enumerate([head, *rows]):
        lines.append("  ".join((c.rjust(w) if j == 1 else c.ljust(w))
                               for j, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    m = result.get("machine") or {}
    lines.append("")
    lines.append(f"machine: {m.get('cpu_count')} CPUs, {m.get('platform')}, Python "
                 f"{m.get('python')}; {'quick' if result.get('quick') else 'full'} run, "
                 f"{result.get('elapsed_s')} s")
    for key, value in result.items():
        if key.endswith("_reason"):
            lines.append(f"not measured: {key.removesuffix('_reason')}: {value}")
    return "\n".join(lines)

