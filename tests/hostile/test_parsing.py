"""Unparseable answers: every answer becomes a Task or an error in the SeedanceError tree, and
a 2xx create with a readable id is a recorded task whatever else it holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from seedance_widgets import (
    AmbiguousSubmitError,
    APIError,
    BadRequestError,
    SeedanceError,
    TaskTimeoutError,
)
from seedance_widgets._errors import InvalidResponseError

from .conftest import CREATE, REQ, ambiguous_prints, client, recorded_ids, task_body
from .server import HostileServer, Reply

DEEP = b"[" * 100_000 + b"]" * 100_000
NOW_S = 1_760_000_000  # 2025-10-09


def raw(text: str | bytes) -> Reply:
    return Reply(body=text.encode() if isinstance(text, str) else text)


async def create_once(server: HostileServer, journal, answer: Reply) -> Any:
    server.route("POST", CREATE, answer)
    async with client(server, journal) as c:
        try:
            return await c.create(REQ)
        finally:
            assert len(server.creates) == 1  # whatever came back, it was sent once


# ---------------------------------------------------------------------------- creates: kept
@pytest.mark.parametrize(("created", "expected"), [
    (NOW_S, NOW_S), (NOW_S * 1000, NOW_S), (NOW_S * 1_000_000, NOW_S),
    ("2025-10-09T08:53:20Z", NOW_S), ("2025-10-09T08:53:20", NOW_S),
    ("yesterday", None), (-5, None), (True, None), (10**30, None), ([1], None),
])
async def test_created_in_seconds_ms_us_or_text(server: HostileServer, journal, created: Any,
                                                expected: int | None) -> None:
    task = await create_once(server, journal, Reply(json=task_body(created=created)))
    got = task.created_at.timestamp() if task.created_at else None
    assert got == expected and recorded_ids(journal) == ["t1"]


@pytest.mark.parametrize(("progress", "expected"), [
    ("NaN", None), ("Infinity", None), ("-Infinity", None), ("-5", 0), ("150", 100),
    ("42.7", 42), ('"42"', 42), ("true", None), ('"lots"', None), ("1e999", None),
    ("9" * 5000, None),
])
async def test_progress_is_clamped_and_junk_is_none(server: HostileServer, journal,
                                                    progress: str, expected: int | None) -> None:
    body = f'{{"id": "t1", "status": "processing", "progress": {progress}}}'
    task = await create_once(server, journal, raw(body))
    assert task.progress == expected and recorded_ids(journal) == ["t1"]


async def test_a_100000_level_body_with_a_readable_id_is_a_recorded_task(
        server: HostileServer, journal) -> None:
    body = b'{"id": "t1", "status": "pending", "junk": ' + DEEP + b', "model": "m"}'
    task = await create_once(server, journal, raw(body))
    assert (task.id, task.model) == ("t1", "m") and recorded_ids(journal) == ["t1"]


@pytest.mark.parametrize("body", [
    b'{"id": "t1", "created": 1' + b"0" * 5000 + b"}",
    b'{"id": "t1", "status": 5, "error": [1, 2], "video": "x", "model": {}, "cancelled": "no"}',
    b'{"id": "t1", "width": 1e400, "video": {"width": -3, "height": 1e9, "duration": NaN}}',
    b'{"id": "t1", "billing": {"cost_usd": -1}, "usage": "x", "data": "videos", "videos": 3}',
    b'\xef\xbb\xbf{"id": "t1"}',  # a byte-order mark
])
async def test_junk_fields_around_a_readable_id_are_read_as_not_given(
        server: HostileServer, journal, body: bytes) -> None:
    task = await create_once(server, journal, raw(body))
    assert task.id == "t1" and task.status == "pending" and not task.cancelled
    assert task.width is None and task.cost_usd is None and task.video_url is None
    assert recorded_ids(journal) == ["t1"]


async def test_a_numeric_id_is_read_as_text(server: HostileServer, journal) -> None:
    task = await create_once(server, journal, raw('{"id": 123456}'))
    assert task.id == "123456" and recorded_ids(journal) == ["123456"]


async def test_the_x_task_id_header_saves_a_task_whose_body_is_junk(server: HostileServer,
                                                                    journal) -> None:
    task = await create_once(server, journal, Reply(body=b"<html>oops</html>",
                                                    headers={"X-Task-ID": "t-from-header"}))
    assert task.id == "t-from-header" and recorded_ids(journal) == ["t-from-header"]


# ---------------------------------------------------------------------------- creates: ambiguous
@pytest.mark.parametrize("answer", [
    raw(b'{"status": "pending"}'), raw(b"<html>gateway</html>"), raw(b""), raw(b"[1, 2]"),
    raw(b'{"id": ["t1"]}'), raw(b'{"id": ""}'), raw(b'{"id": " t1 "}'), raw(b"\xff\xfe{"),
    raw(b'{"id": "' + b"x" * 600 + b'"}'), raw(b'{"id": "t1", "x": ' + DEEP[:-1] + b"}"),
    raw(DEEP), Reply(204, body=b""), Reply(json={"task": {"id": "nested-only"}}),
    raw(b'{"id": "t1", "pad": "' + b"p" * (5 * 1024 * 1024) + b'"}'),
], ids=["no-id", "html", "empty", "array", "list-id", "empty-id", "spaced-id", "bad-utf8",
        "long-id", "unbalanced-deep", "deep", "204", "nested-id", "5MB"])
async def test_a_2xx_without_a_readable_id_is_ambiguous_and_recorded(
        server: HostileServer, journal, answer: Reply) -> None:
    with pytest.raises(AmbiguousSubmitError) as info:
        await create_once(server, journal, answer)
    assert info.value.fingerprint == REQ.fingerprint()
    assert ambiguous_prints(journal) == [REQ.fingerprint()]
    assert recorded_ids(journal) == []


# ---------------------------------------------------------------------------- status polls
async def test_polls_with_junk_values_still_reach_the_true_end(server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", [
        raw('{"id": "t1", "status": "processing", "progress": NaN, "created": 1760000000000}'),
        raw(b'{"id": "t1", "status": "processing", "junk": ' + DEEP + b"}"),
        raw(b"not json at all"),
        raw('{"id": "other", "status": "completed", "progress": "100"}'),
    ])
    async with client(server) as c:
        snaps = [await c.get("t1") for _ in range(2)]
        final = await c.get("t1")  # the unreadable answer is retried, then the real one
    assert [s.status for s in snaps] == ["processing", "processing"]
    assert snaps[0].created_at == dt.datetime.fromtimestamp(NOW_S, dt.UTC)
    assert final.id == "t1" and final.status == "completed"  # the id we asked about
    assert len(server.seen("GET")) == 4


async def test_polls_that_are_never_readable_end_in_the_tree(server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", raw(b"<html>maintenance</html>"))
    async with client(server) as c:
        with pytest.raises(InvalidResponseError):
            await c.get("t1")
        assert len(server.seen()) == 3  # the policy's attempts without a deadline
        with pytest.raises(TaskTimeoutError):
            await c.wait("t1", timeout=1.0)  # with one, the deadline bounds the retries


@pytest.mark.parametrize(("answer", "kind"), [
    (Reply(400, json={"error": {"message": "m" * 3_000_000, "type": "invalid_request_error"}}),
     BadRequestError),
    (Reply(400, json={"error": ["not", "an", "object"]}), BadRequestError),
    (Reply(400, body=b"<html>" + b"[" * 5000), BadRequestError),
    (Reply(418, json={"error": {"message": 5, "type": 7, "code": {}}}), APIError),
    (Reply(400, json={"error": {"message": "x", "type": "t"}, "validation_errors": "many"}),
     BadRequestError),
])
async def test_error_answers_of_any_shape_are_typed_errors(server: HostileServer, answer: Reply,
                                                           kind: type) -> None:
    server.route("GET", "/v1/tasks/", answer)
    async with client(server) as c:
        with pytest.raises(kind) as info:
            await c.get("t1")
    assert isinstance(info.value, SeedanceError) and len(str(info.value)) < 2500
    assert info.value.type is None or isinstance(info.value.type, str)
    assert isinstance(info.value.validation_errors, list)


@pytest.mark.parametrize("retry_after", ["NaN", "1e400", "-3", "soon", "Fri, 99 Foo 2025"])
async def test_junk_retry_after_falls_back_to_backoff(server: HostileServer,
                                                     retry_after: str) -> None:
    server.route("GET", "/v1/tasks/", [
        Reply(503, json={"error": {"message": "busy", "type": "server_error"}},
              headers={"Retry-After": retry_after}),
        Reply(json=task_body("t1", "processing"))])
    async with client(server) as c:
        assert (await c.get("t1")).status == "processing"
    assert len(server.seen()) == 2
