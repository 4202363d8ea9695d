"""Billing fields: billing_transaction_id and the X-Task-ID / X-Billing-Transaction-ID headers
are kept on the task and in the history; the reported cost is kept and shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import (
    CREATE,
    REQ,
    client,
    done_body,
    recorded_ids,
    recorded_values,
    serve_video,
    task_body,
)
from .server import HostileServer, Reply


async def test_billing_id_from_the_create_body_is_recorded(server: HostileServer,
                                                           journal) -> None:
    server.route("POST", CREATE, Reply(json=task_body(billing_transaction_id="bt_1")))
    async with client(server, journal) as c:
        task = await c.create(REQ)
    assert task.billing_transaction_id == "bt_1"
    assert recorded_values(journal, "billing_transaction_id") == ["bt_1"]


async def test_billing_headers_are_kept_and_name_the_task(server: HostileServer,
                                                          journal) -> None:
    server.route("POST", CREATE, Reply(json={"status": "pending"}, headers={
        "X-Task-ID": "t-hdr", "X-Billing-Transaction-ID": "bt_hdr"}))
    async with client(server, journal) as c:
        task = await c.create(REQ)
    assert (task.id, task.billing_transaction_id) == ("t-hdr", "bt_hdr")
    assert recorded_ids(journal) == ["t-hdr"]
    assert recorded_values(journal, "billing_transaction_id") == ["bt_hdr"]


async def test_an_x_task_id_that_disagrees_with_the_body_is_noted(
        server: HostileServer, journal, caplog: pytest.LogCaptureFixture) -> None:
    server.route("POST", CREATE, Reply(json=task_body("t-body"), headers={"X-Task-ID": "t-hdr"}))
    async with client(server, journal) as c:
        task = await c.create(REQ)
    assert task.id == "t-body" and recorded_ids(journal) == ["t-body"]
    assert "X-Task-ID header names t-hdr" in caplog.text


async def test_billing_on_a_poll_and_the_cost_reach_history_and_sidecar(
        server: HostileServer, journal, tmp_path: Path) -> None:
    server.route("POST", CREATE, Reply(json=task_body()))
    server.route("GET", "/v1/tasks/", Reply(json=done_body(server, usage={"cost_usd": 0.59}),
                                            headers={"X-Billing-Transaction-ID": "bt_poll"}))
    serve_video(server)
    async with client(server, journal) as c:
        task = await c.create(REQ)
        final = await c.wait(task, timeout=10)
        path = await c.download(final, tmp_path)
    assert (final.cost_usd, final.billing_transaction_id) == (0.59, "bt_poll")
    assert "bt_poll" in recorded_values(journal, "billing_transaction_id")
    assert 0.59 in recorded_values(journal, "cost_usd")
    side = json.loads(path.with_name(path.name + ".json").read_text())
    assert (side["billing_transaction_id"], side["cost_usd"]) == ("bt_poll", 0.59)


async def test_a_billing_id_that_arrives_alone_is_recorded(server: HostileServer,
                                                           journal) -> None:
    server.route("POST", CREATE, Reply(json=task_body()))
    server.route("GET", "/v1/tasks/", [
        Reply(json=task_body("t1", "processing", progress=50)),
        Reply(json=task_body("t1", "processing", progress=50),
              headers={"X-Billing-Transaction-ID": "bt_late"})])
    async with client(server, journal) as c:
        task = await c.create(REQ)
        async for snap in c.watch(task, timeout=10):
            if snap.billing_transaction_id:
                break
    assert recorded_values(journal, "billing_transaction_id") == ["bt_late"]


async def test_a_junk_cost_is_no_cost(server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=task_body(
        "t1", "completed", billing={"cost_usd": float("inf")}, cost_usd=-3,
        billing_transaction_id={"id": 1})))
    async with client(server) as c:
        task = await c.get("t1")
    assert task.cost_usd is None and task.billing_transaction_id is None
