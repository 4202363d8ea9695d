"""Deadlines hold whatever the server does: silence, trickled or endless bodies, 429s without
end, resets. Each test measures the elapsed time against the deadline plus about a second."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from seedance_widgets import (
    AmbiguousSubmitError,
    APITimeoutError,
    RetryPolicy,
    SeedanceClient,
    TaskTimeoutError,
)
from seedance_widgets._client import CREATE_TIMEOUT

from .conftest import (
    CREATE,
    FAST,
    REQ,
    ambiguous_prints,
    client,
    done_body,
    recorded_ids,
    serve_video,
    task_body,
)
from .server import HostileServer, Recorded, Reply, Reset, Silence

SLACK = 1.0
TRICKLE = Reply(json=task_body("t1", "processing"), trickle=(1, 0.1), endless=True)
LIMITED = Reply(429, json={"error": {"message": "slow down", "type": "rate_limit_exceeded"}},
                headers={"Retry-After": "0.2"})


class Clock:
    def __enter__(self) -> Clock:
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.s = time.monotonic() - self.t0


@pytest.mark.parametrize("answer", [Silence(), TRICKLE], ids=["silent", "trickle"])
async def test_wait_ends_by_its_deadline(server: HostileServer, answer: object) -> None:
    server.route("GET", "/v1/tasks/", answer)
    async with client(server) as c:
        with Clock() as clock, pytest.raises(TaskTimeoutError) as info:
            await c.wait(task_body_task(), timeout=2)
    assert 1.9 <= clock.s <= 2 + SLACK
    assert info.value.task is not None and info.value.task.id == "t1"
    assert server.seen("GET")  # the wait did ask


def task_body_task():  # a snapshot as create returns it
    from seedance_widgets import Task

    return Task.from_response(task_body("t1"))


async def test_wait_on_an_id_ends_by_its_deadline_when_the_first_get_hangs(
        server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", Silence())
    async with client(server) as c:
        with Clock() as clock, pytest.raises(TaskTimeoutError) as info:
            await c.wait("t1", timeout=1)
    assert clock.s <= 1 + SLACK and info.value.task is not None
    assert len(server.seen()) == 1


@pytest.mark.parametrize("answer", [Silence(), TRICKLE, Reset()], ids=["silent", "trickle",
                                                                      "reset"])
async def test_get_with_a_timeout_ends_by_it(server: HostileServer, answer: object) -> None:
    server.route("GET", "/v1/tasks/", answer)
    async with client(server, retry=RetryPolicy(base=0.05, cap=0.1)) as c:
        with Clock() as clock, pytest.raises(APITimeoutError):
            await c.get("t1", timeout=1.2)
    assert clock.s <= 1.2 + SLACK


async def test_a_get_without_timeout_is_bounded_by_attempts(server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", TRICKLE)
    async with client(server, timeout=0.3) as c:
        with Clock() as clock, pytest.raises(APITimeoutError):
            await c.get("t1")
    assert len(server.seen()) == FAST.max_attempts
    assert clock.s <= FAST.max_attempts * 2 * 0.3 + SLACK  # each attempt bounded as a whole


async def test_eight_trickling_tasks_do_not_starve_a_ninth(server: HostileServer) -> None:
    def answer(req: Recorded) -> Reply:
        return TRICKLE if not req.path.endswith("/healthy") else Reply(
            json=task_body("healthy", "completed"))

    server.route("GET", "/v1/tasks/", answer)
    async with client(server) as c:  # poll_concurrency 8, the default
        stuck = [asyncio.create_task(c.wait(f"slow{i}", timeout=4)) for i in range(8)]
        await asyncio.sleep(0.3)  # every slot is taken by a trickle
        with Clock() as clock:
            healthy = await c.wait("healthy", timeout=4)
        results = await asyncio.gather(*stuck, return_exceptions=True)
    assert healthy.succeeded and clock.s < 3
    assert all(isinstance(r, TaskTimeoutError) for r in results)


async def test_a_long_queue_for_poll_slots_is_not_a_timeout(server: HostileServer) -> None:
    """Waiting for a slot counts against the caller's deadline only: forty polls queued on
    two slots, each answered in 0.2 s (4 s in all), outlast the 2 s a single attempt may take.
    (With 0.1 s answers and a 0.6 s attempt this failed once on a loaded 2-core machine: an
    answer itself took longer than the attempt's limit.)"""
    server.route("GET", "/v1/tasks/", lambda req: Reply(
        json=task_body(req.path.rsplit("/", 1)[-1], "completed"), delay=0.2))
    async with client(server, timeout=1.0, poll_concurrency=2) as c:
        finals = await asyncio.gather(*(c.get(f"t{i}", timeout=20) for i in range(40)))
    assert all(t.succeeded for t in finals)
    assert len(server.seen()) == 40  # no attempt timed out in the queue and was resent


async def test_requests_cut_at_their_deadline_do_not_leak_connections(server: HostileServer
                                                                      ) -> None:
    """120 answers cut mid-body (more than the pool's 100 connections), then healthy polls."""
    server.route("GET", "/v1/tasks/slow", TRICKLE)
    server.route("GET", "/v1/tasks/ok", Reply(json=task_body("ok", "completed")))
    async with client(server, poll_concurrency=200) as c:
        cut = await asyncio.gather(*(c.get(f"slow{i}", timeout=0.5) for i in range(120)),
                                   return_exceptions=True)
        with Clock() as clock:
            healthy = await asyncio.gather(*(c.get("ok", timeout=5) for _ in range(20)))
    assert all(isinstance(r, APITimeoutError) for r in cut)
    assert all(t.succeeded for t in healthy) and clock.s < 2


async def test_endless_429s_end_the_wait_at_its_deadline(server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", LIMITED)
    async with client(server) as c:
        with Clock() as clock, pytest.raises(TaskTimeoutError, match="429"):
            await c.wait(task_body_task(), timeout=2)
    assert 1.5 <= clock.s <= 2 + SLACK
    assert len(server.seen()) > FAST.max_attempts  # bounded by the deadline, not a count


async def test_a_burst_of_429s_inside_a_long_wait_does_not_abort_it(server: HostileServer
                                                                   ) -> None:
    burst_until = time.monotonic() + 2.5  # the 8 s burst in a 40 s wait, scaled down

    def answer(req: Recorded) -> Reply:
        if time.monotonic() < burst_until:
            return LIMITED
        return Reply(json=task_body("t1", "completed"))

    server.route("GET", "/v1/tasks/", answer)
    async with client(server) as c:
        final = await c.wait(task_body_task(), timeout=12)
    assert final.succeeded and len(server.seen()) > FAST.max_attempts


async def test_a_retry_after_past_the_deadline_ends_the_wait_at_once(server: HostileServer
                                                                    ) -> None:
    server.route("GET", "/v1/tasks/", Reply(429, json={"error": {
        "message": "come back tomorrow", "type": "rate_limit_exceeded", "retry_after": 86400}}))
    async with client(server) as c:
        with Clock() as clock, pytest.raises(TaskTimeoutError):
            await c.wait(task_body_task(), timeout=5)
    assert clock.s <= 1 + SLACK  # no point sleeping to the deadline


async def test_resets_then_an_answer_complete_the_wait(server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", [Reset(), Reset(), Reset(), Reset(),
                                       Reply(json=task_body("t1", "completed"))])
    async with client(server) as c:
        assert (await c.wait(task_body_task(), timeout=10)).succeeded
    assert len(server.seen()) == 5


@pytest.mark.parametrize("cdn", [Silence(), Reply(body=b"v" * 10_000, trickle=(100, 0.1))],
                         ids=["silent", "trickle"])
async def test_download_ends_by_its_deadline(server: HostileServer, tmp_path: Path,
                                             cdn: object) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=done_body(server)))
    server.route("GET", "/cdn/", cdn)
    async with client(server) as c:
        with Clock() as clock, pytest.raises(APITimeoutError, match="download"):
            await c.download("t1", tmp_path / "v.mp4", timeout=1.5)
    assert clock.s <= 1.5 + SLACK and not list(tmp_path.iterdir())


async def test_fetch_bytes_and_cancel_have_deadlines(server: HostileServer) -> None:
    server.route("GET", "/cdn/", TRICKLE)
    server.route("DELETE", "/v1/tasks/", Silence())
    async with client(server) as c:
        with Clock() as clock, pytest.raises(APITimeoutError):
            await c.fetch_bytes(f"{server.base_url}/cdn/v.mp4", timeout=1)
        with pytest.raises(APITimeoutError):
            await c.cancel("t1", timeout=1)
    assert clock.s <= 2 + 2 * SLACK


async def test_a_slow_create_is_not_ambiguous(server: HostileServer, journal) -> None:
    assert CREATE_TIMEOUT > 60  # the contract's material preparation may take 60 s
    server.route("POST", CREATE, Reply(json=task_body(), delay=2.0))
    async with client(server, journal, timeout=0.5) as c:  # polls time out fast...
        task = await c.create(REQ)  # ...but a create may take its time
    assert task.id == "t1" and recorded_ids(journal) == ["t1"]
    assert len(server.creates) == 1


@pytest.mark.parametrize("answer", [Silence(), Reply(json=task_body(), trickle=(1, 0.2),
                                                     endless=True)], ids=["silent", "trickle"])
async def test_a_create_past_its_timeout_is_ambiguous_and_recorded(
        server: HostileServer, journal, answer: object) -> None:
    server.route("POST", CREATE, answer)
    async with client(server, journal, timeout=0.5, create_timeout=1.5) as c:
        with Clock() as clock, pytest.raises(AmbiguousSubmitError):
            await c.create(REQ)
    assert clock.s <= 1.5 + SLACK and len(server.creates) == 1
    assert ambiguous_prints(journal) == [REQ.fingerprint()]


def test_the_sync_facade_keeps_the_deadline(server: HostileServer, tmp_path: Path) -> None:
    server.route("GET", "/v1/tasks/", Silence())
    serve_video(server)
    with SeedanceClient("sk-hostile-0123456789abcdefghijklmnop", server.base_url,
                        journal=False, retry=FAST) as c:
        with Clock() as clock, pytest.raises(TaskTimeoutError):
            c.wait("t1", timeout=1)
        with pytest.raises(APITimeoutError):
            c.get("t1", timeout=0.5)
    assert clock.s <= 1.5 + 2 * SLACK
