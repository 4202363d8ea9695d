"""Terminal states, defined once in `_task`: aliases from other front doors end a wait the way
the contract's states do; an unknown state keeps polling to the deadline and is shown as is."""

from __future__ import annotations

import pytest

from seedance_widgets import (
    TERMINAL_STATES,
    Task,
    TaskCancelledError,
    TaskFailedError,
    TaskTimeoutError,
)

from .conftest import client, task_body
from .server import HostileServer, Reply


@pytest.mark.parametrize(("reported", "status", "display", "error"), [
    ("completed", "completed", "completed", None),
    ("succeeded", "completed", "completed", None),
    ("SUCCEEDED", "completed", "completed", None),
    (" success ", "completed", "completed", None),
    ("failed", "failed", "failed", TaskFailedError),
    ("error", "failed", "failed", TaskFailedError),
    ("cancelled", "failed", "cancelled", TaskCancelledError),
    ("canceled", "failed", "cancelled", TaskCancelledError),
    ("expired", "failed", "failed", TaskFailedError),
])
async def test_terminal_aliases_end_the_wait(server: HostileServer, reported: str, status: str,
                                            display: str, error: type | None) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=task_body("t1", reported)))
    async with client(server) as c:
        task = await c.get("t1")
        assert (task.status, task.display_status, task.terminal) == (status, display, True)
        if error is None:
            assert (await c.wait(task, timeout=5)).succeeded
        else:
            with pytest.raises(error) as info:
                await c.wait(task, timeout=5)
            assert info.value.task is not None and info.value.task.terminal
    assert len(server.seen()) == 1  # the wait saw the end in the snapshot it was given


async def test_expired_carries_an_error_saying_so(server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=task_body("t1", "expired")))
    async with client(server) as c:
        with pytest.raises(TaskFailedError, match="expired"):
            await c.wait("t1", timeout=5)
        task = await c.get("t1")
    assert task.error is not None and task.error.code == "expired"


async def test_a_reason_from_the_server_is_kept_for_expired(server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=task_body(
        "t1", "expired", error={"code": "ttl", "message": "queue time exceeded"})))
    async with client(server) as c:
        task = await c.get("t1")
    assert task.error is not None and task.error.message == "queue time exceeded"


async def test_an_unknown_state_keeps_polling_to_the_deadline(server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=task_body("t1", "Paused_By_Operator")))
    async with client(server) as c:
        with pytest.raises(TaskTimeoutError) as info:
            await c.wait("t1", timeout=1.6)
    task = info.value.task
    assert task is not None and not task.terminal
    assert task.display_status == "paused_by_operator" and "paused_by_operator" in str(info.value)
    assert len(server.seen()) >= 2  # it kept asking


def test_terminal_is_one_definition() -> None:
    for status in ("pending", "processing", "completed", "failed", "weird"):
        task = Task(id="t", status=status)
        assert task.terminal == task.is_terminal == (status in TERMINAL_STATES)
