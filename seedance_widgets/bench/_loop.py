"""Event-loop lag while many tasks are polled, and CPU per status poll."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ._common import Config, bench_request, percentile, say


async def _ticker(window_s: float, period: float = 0.005) -> list[float]:
    """Overshoot (ms) of each `asyncio.sleep(period)` during the window."""
    lags: list[float] = []
    stop = time.perf_counter() + window_s
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        await asyncio.sleep(period)
        lags.append((time.perf_counter() - t0 - period) * 1000)
    return lags


def _lag_summary(lags: list[float], **extra: Any) -> dict[str, Any]:
    return {"p50_ms": round(percentile(lags, 50), 3), "p99_ms": round(percentile(lags, 99), 3),
            "max_ms": round(max(lags), 3), "samples": len(lags), **extra}


async def _create_many(client: Any, n: int) -> list[Any]:
    gate = asyncio.Semaphore(32)
    req = bench_request()

    async def one() -> Any:
        async with gate:
            return await client.create(req)

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def _ours(client: Any, tasks: list[Any], window_s: float) -> dict[str, Any]:
    counted = [0]

    async def count(_response: Any) -> None:
        counted[0] += 1

    client._http.event_hooks["response"].append(count)
    waits = [asyncio.create_task(client.wait(t)) for t in tasks]
    try:
        lags = await _ticker(window_s)
    finally:
        ended_early = sum(1 for w in waits if w.done())
        for w in waits:
            w.cancel()
        results = await asyncio.gather(*waits, return_exceptions=True)
        client._http.event_hooks["response"].remove(count)
    errors = sum(1 for r in results
                 if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError))
    return _lag_summary(lags, requests=counted[0], ended_early=ended_early, errors=errors)


async def _blocking(base_url: str, key: str, ids: list[str], window_s: float
                    ) -> dict[str, Any]:
    """A naive notebook loop: sync GETs for every task, time.sleep(1), on the loop thread."""
    import httpx

    counted = [0]
    stop = time.perf_counter() + window_s

    with httpx.Client(base_url=base_url, timeout=30,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        def one_round() -> None:  # what `for t in tasks: requests.get(...)` does to a kernel
            for tid in ids:
                http.get(f"/v1/tasks/{tid}").json()
                counted[0] += 1
            time.sleep(1)

        async def naive() -> None:
            while time.perf_counter() < stop:
                one_round()
                # A cell loop would never yield; yielding 5 ms between rounds lets the ticker
                # take one sample per round, so this understates the harm, if anything.
                await asyncio.sleep(0.005)

        runner = asyncio.create_task(naive())
        lags = await _ticker(window_s)
        await runner
    return _lag_summary(lags, requests=counted[0])


async def loop_lag(cfg: Config, base_url: str, key: str) -> dict[str, Any]:
    from .._client import AsyncSeedanceClient
    from ..history import History

    out: dict[str, Any] = {"loop_lag_p99_ms": {}, "loop_lag_p99_ms_blocking_baseline": {},
                           "loop_lag_detail": {}}
    with tempfile.TemporaryDirectory() as tmp:
        # A real history (in a scratch folder): its writes are part of what watch costs.
        client = AsyncSeedanceClient(key, base_url,
                                     history=History(Path(tmp) / "history.sqlite3"))
        async with client:
            idle = _lag_summary(await _ticker(cfg.idle_window_s))
            out["loop_lag_p99_ms_idle"] = idle["p99_ms"]
            out["loop_lag_detail"]["idle"] = idle
            say(f"loop lag idle p99 {idle['p99_ms']:.2f} ms")
            for n in cfg.lag_counts:
                t0 = time.perf_counter()
                tasks = await _create_many(client, n)
                created_s = time.perf_counter() - t0
                ours = await _ours(client, tasks, cfg.lag_window_s)
                ours["create_s"] = round(created_s, 2)
                out["loop_lag_p99_ms"][str(n)] = ours["p99_ms"]
                out["loop_lag_detail"][f"ours_{n}"] = ours
                say(f"loop lag {n} tasks (ours) p99 {ours['p99_ms']:.2f} ms, "
                    f"{ours['requests']} requests")
                if n in cfg.blocking_counts:
                    blk = await _blocking(base_url, key, [t.id for t in tasks], cfg.lag_window_s)
                    out["loop_lag_p99_ms_blocking_baseline"][str(n)] = blk["p99_ms"]
                    out["loop_lag_detail"][f"blocking_{n}"] = blk
                    say(f"loop lag {n} tasks (blocking) p99 {blk['p99_ms']:.0f} ms")
    return out


# ====================================================================== CPU per poll
async def cpu_per_poll(cfg: Config, base_url: str, key: str) -> dict[str, Any]:
    """CPU per status GET through our client, beside a raw httpx GET of the same URL; the two
    run in alternating blocks so that both see the same noise, and each reports the median
    block."""
    import httpx

    from .._client import AsyncSeedanceClient

    blocks, per_block = 8, max(1, cfg.cpu_polls // 8)
    ours_cpu: list[float] = []
    ours_wall: list[float] = []
    raw_cpu: list[float] = []
    raw_wall: list[float] = []
    async with (AsyncSeedanceClient(key, base_url, history=False) as client,
                httpx.AsyncClient(base_url=base_url,
                                  headers={"Authorization": f"Bearer {key}"}) as raw):
        task = await client.create(bench_request())
        url = f"/v1/tasks/{task.id}"

        async def ours_block() -> None:
            nonlocal task
            for _ in range(per_block):
                task = await client.get(task)

        async def raw_block() -> None:
            for _ in range(per_block):
                (await raw.get(url)).json()

        await ours_block()
        await raw_block()  # warm both connections and code paths
        for _ in range(blocks):
            for block, cpu, wall in ((ours_block, ours_cpu, ours_wall),
                                     (raw_block, raw_cpu, raw_wall)):
                c0, w0 = time.process_time(), time.perf_counter()
                await block()
                cpu.append((time.process_time() - c0) / per_block * 1000)
                wall.append((time.perf_counter() - w0) / per_block * 1000)
    med = statistics.median
    return {"cpu_ms_per_poll": round(med(ours_cpu), 3),
            "cpu_detail": {"polls": blocks * per_block, "blocks": blocks,
                           "wall_ms_per_poll": round(med(ours_wall), 3),
                           "raw_httpx_cpu_ms_per_get": round(med(raw_cpu), 3),
                           "raw_httpx_wall_ms_per_get": round(med(raw_wall), 3)}}


