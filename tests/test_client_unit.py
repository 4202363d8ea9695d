"""Client edge cases the emulator cannot produce, on httpx.MockTransport."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from seedance_widgets import VideoRequest
from seedance_widgets._client import AsyncSeedanceClient
from seedance_widgets._errors import (
    AmbiguousSubmitError,
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    RateLimitError,
    ResultExpiredError,
    SeedanceError,
)
from seedance_widgets._retry import RetryPolicy, server_wait
from seedance_widgets._task import Task
from seedance_widgets.history import History

KEY = "sk-unit-test-0123456789abcdefghijklmnop"
REQ = VideoRequest(model="seedance-2.0-fast", prompt="a fox", duration=4)
FAST = RetryPolicy(max_attempts=4, base=0.001, cap=0.002)
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, tmp_path: Path, **kw) -> AsyncSeedanceClient:
    return AsyncSeedanceClient(KEY, "https://api.example.test",
                               transport=httpx.MockTransport(handler),
                               retry=kw.pop("retry", FAST), history=History(tmp_path / "h.sqlite3"),
                               **kw)


def created(tid: str = "ldtask_1") -> httpx.Response:
    return httpx.Response(200, json={"id": tid, "task_id": tid, "poll_url": f"/v1/tasks/{tid}",
                                     "status": "pending"})


async def test_create_retries_a_connection_that_was_never_made(tmp_path: Path) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            raise httpx.ConnectError("refused", request=request)
        return created()

    async with client(handler, tmp_path) as c:
        task = await c.create(REQ)
    assert task.id == "ldtask_1" and len(calls) == 3
    assert [e.id for e in History(tmp_path / "h.sqlite3").entries()] == ["ldtask_1"]


@pytest.mark.parametrize("failure", [
    httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), httpx.ReadError("reset"),
    httpx.WriteTimeout("stuck"),
])
async def test_create_never_resends_after_an_ambiguous_failure(tmp_path: Path,
                                                               failure: Exception) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise type(failure)(str(failure), request=request)

    async with client(handler, tmp_path) as c:
        with pytest.raises(AmbiguousSubmitError) as info:
            await c.create(REQ)
    assert len(calls) == 1
    assert info.value.fingerprint == REQ.fingerprint()
    (record,) = History(tmp_path / "h.sqlite3").ambiguous_submits()
    assert record.fingerprint == REQ.fingerprint() and record.outcome == "ambiguous"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_create_5xx_is_ambiguous(tmp_path: Path, status: int) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json={"error": {"message": "boom", "type": "server_error"}})

    async with client(handler, tmp_path) as c:
        with pytest.raises(AmbiguousSubmitError):
            await c.create(REQ)
    assert len(calls) == 1


async def test_create_waits_out_429_and_material_preparing(tmp_path: Path) -> None:
    answers = [
        httpx.Response(429, json={"error": {"message": "slow down", "type": "rate_limit_exceeded",
                                            "retry_after": 0.01}}),
        httpx.Response(409, json={"error": {"message": "preparing", "type":
                                            "invalid_request_error",
                                            "code": "seedance_material_preparing",
                                            "retry_after": 0.01}}),
        created(),
    ]
    async with client(lambda r: answers.pop(0), tmp_path) as c:
        assert (await c.create(REQ)).id == "ldtask_1"
    assert not answers


async def test_long_server_wait_raises_instead_of_sleeping(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "600"},
                              json={"error": {"message": "later", "type": "rate_limit_exceeded"}})

    async with client(handler, tmp_path) as c:
        t0 = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            await c.create(REQ)
        with pytest.raises(RateLimitError):
            await c.get("ldtask_1")
    assert time.monotonic() - t0 < 2 and info.value.retry_after == 600


async def test_get_honours_retry_after_then_succeeds(tmp_path: Path) -> None:
    stamps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            return httpx.Response(503, headers={"Retry-After": "0.3"},
                                  json={"error": {"message": "busy", "type": "server_error"}})
        return httpx.Response(200, json={"id": "t", "status": "processing", "progress": 10})

    async with client(handler, tmp_path) as c:
        task = await c.get("t")
    assert task.progress == 10 and stamps[1] - stamps[0] >= 0.29


async def test_get_gives_up_after_the_retry_budget(tmp_path: Path) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadError("reset", request=request)

    async with client(handler, tmp_path) as c:
        with pytest.raises(APIConnectionError):
            await c.get("t")
    assert len(calls) == FAST.max_attempts


def test_server_wait_precedence() -> None:
    now = 1000.0
    body = {"error": {"retry_after": 3}}
    headers = {"Retry-After": "7", "X-RateLimit-Reset": "1011"}
    assert server_wait(body, headers, now) == 3
    assert server_wait({}, headers, now) == 7
    assert server_wait({}, {"X-RateLimit-Reset": "1011"}, now) == 11
    http_date = {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert server_wait({}, http_date, 1445412480 - 5) == 5
    assert server_wait({}, {}, now) is None


def test_backoff_is_full_jitter_and_capped() -> None:
    import random

    p = RetryPolicy(base=0.5, cap=8)
    rng = random.Random(1)
    assert all(0 <= p.backoff(n, rng) <= min(8, 0.5 * 2**n) for n in range(12) for _ in range(50))


async def test_poll_url_on_another_origin_is_ignored_and_token_stays_home(tmp_path: Path) -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        assert request.url.host == "api.example.test"
        if request.method == "POST":
            return httpx.Response(200, json={"id": "t1", "status": "pending",
                                             "poll_url": "https://evil.example/steal/t1"})
        return httpx.Response(200, json={"id": "t1", "status": "completed",
                                         "video_url": "https://cdn.example/v.mp4"})

    async with client(handler, tmp_path) as c:
        task = await c.create(REQ)
        task = await c.get(task)
    assert seen[-1].path == "/v1/tasks/t1" and task.video_url == "https://cdn.example/v.mp4"


async def test_same_origin_poll_url_is_preferred(tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"id": "t1", "status": "processing"})

    async with client(handler, tmp_path) as c:
        await c.get(Task(id="t1", poll_url="/v1/videos/generations/t1"))
        await c.get(Task(id="t1", poll_url="https://api.example.test/v1/tasks/t1?x=1"))
    assert seen == ["/v1/videos/generations/t1", "/v1/tasks/t1"]


@pytest.mark.parametrize(("body", "url", "last"), [
    ({"video_url": "https://a/1.mp4"}, "https://a/1.mp4", None),
    ({"video": {"url": "https://a/2.mp4"}}, "https://a/2.mp4", None),
    ({"content": {"video_url": "https://a/3.mp4", "last_frame_url": "https://a/3.png"}},
     "https://a/3.mp4", "https://a/3.png"),
    ({"videos": [{"url": "https://a/4.mp4"}]}, "https://a/4.mp4", None),
    ({"data": [{"video_url": "https://a/5.mp4", "last_frame_url": "https://a/5.png"}]},
     "https://a/5.mp4", "https://a/5.png"),
])
def test_video_url_is_found_everywhere_the_contract_puts_it(body: dict, url: str,
                                                            last: str | None) -> None:
    task = Task.from_response({"id": "t", "status": "completed", **body})
    assert (task.video_url, task.last_frame_url) == (url, last)


def test_errors_and_unknown_states_are_normalised(caplog: pytest.LogCaptureFixture) -> None:
    t = Task.from_response({"id": "t", "status": "failed", "cancelled": True,
                            "error": "Task cancelled before execution"})
    assert t.is_terminal and t.cancelled and t.error and "cancelled" in t.error.message
    t = Task.from_response({"id": "t", "status": "failed",
                            "error": {"code": "x", "message": "nope"}})
    assert (t.error.code, t.error.message) == ("x", "nope")  # type: ignore[union-attr]
    t = Task.from_response({"task_id": "t", "status": "queued_somewhere"})
    assert not t.is_terminal and "unknown status" in caplog.text


async def test_api_errors_carry_hints(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={
            "error": {"message": "resolution: not allowed", "type": "invalid_request_error",
                      "param": "resolution", "allowed_resolutions": ["480p", "720p"]},
            "validation_errors": [{"field": "resolution", "message": "not allowed"}]})

    async with client(handler, tmp_path) as c:
        with pytest.raises(BadRequestError) as info:
            await c.create(REQ)
    err = info.value
    assert err.param == "resolution" and err.allowed_resolutions == ["480p", "720p"]
    assert "480p" in str(err) and err.validation_errors[0]["field"] == "resolution"


async def test_key_never_appears_in_repr_errors_or_logs(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {KEY}"
        return httpx.Response(401, json={"error": {"message": f"bad key {KEY}",
                                                   "type": "invalid_api_key"}})

    c = client(handler, tmp_path)
    texts = [repr(c), str(c.__dict__.get("_http"))]
    with pytest.raises(AuthenticationError) as info:
        await c.get("t")
    texts += [str(info.value), repr(info.value), caplog.text]
    await c.aclose()
    assert all(KEY not in t for t in texts)


async def test_download_sends_no_authorization_and_is_atomic(tmp_path: Path) -> None:
    payload = b"\x00\x00\x00\x18ftypmp42" + b"x" * 5000

    def api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "t", "status": "completed",
                                         "video_url": "https://cdn.example/t.mp4"})

    def cdn(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers
        return httpx.Response(200, content=payload)

    async with client(api, tmp_path, download_transport=httpx.MockTransport(cdn)) as c:
        path = await c.download("t", tmp_path / "out")
    assert path == tmp_path / "out" / "t.mp4" or path.name == "out"
    assert path.read_bytes() == payload
    side = json.loads(path.with_name(path.name + ".json").read_text())
    assert side["task_id"] == "t" and side["bytes"] == len(payload) and len(side["sha256"]) == 64
    assert not list(path.parent.glob("*.part"))


async def test_expired_download_refetches_once_then_raises(tmp_path: Path) -> None:
    gets = []

    def api(request: httpx.Request) -> httpx.Response:
        gets.append(1)
        return httpx.Response(200, json={"id": "t", "status": "completed",
                                         "video_url": "https://cdn.example/t.mp4"})

    def cdn(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="expired")

    async with client(api, tmp_path, download_transport=httpx.MockTransport(cdn)) as c:
        task = await c.get("t")
        with pytest.raises(ResultExpiredError):
            await c.download(task, tmp_path / "v.mp4")
    assert len(gets) == 2 and not (tmp_path / "v.mp4").exists()


def test_no_key_is_a_clear_error() -> None:
    with pytest.raises(SeedanceError, match="TOKENLAB_API_KEY"):
        AsyncSeedanceClient()


async def test_every_create_is_preceded_by_a_durable_intent(tmp_path: Path) -> None:
    answers = [created("ok1")]

    def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            return answers.pop(0)
        raise httpx.ReadTimeout("lost", request=request)

    seen_before_post = []

    def handler_checking_intent(request: httpx.Request) -> httpx.Response:
        # The intent is committed before the request leaves: another reader already sees it.
        seen_before_post.append([s.outcome for s in History(tmp_path / "h.sqlite3").submits()])
        return handler(request)

    async with client(handler_checking_intent, tmp_path) as c:
        await c.create(REQ)
        with pytest.raises(AmbiguousSubmitError):
            await c.create(REQ.replace(prompt="second"))
    assert seen_before_post == [["in_flight"], ["created", "in_flight"]]
    history = History(tmp_path / "h.sqlite3")
    assert [s.outcome for s in history.submits()] == ["created", "ambiguous"]
    (open_submit,) = history.unresolved_submits()
    assert open_submit.fingerprint == REQ.replace(prompt="second").fingerprint()
