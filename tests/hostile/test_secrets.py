"""The key goes only to the API host, and never comes back out, whatever the server echoes."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest

from seedance_widgets import (
    AsyncSeedanceClient,
    AuthenticationError,
    RateLimitError,
    TaskFailedError,
    TaskWidget,
)
from seedance_widgets._errors import UsageError

from .conftest import CREATE, KEY, REQ, client, done_body, journal_text, serve_video, task_body
from .server import HostileServer, Recorded, Reply


def bearer(req: Recorded) -> str:
    return req.headers.get("authorization", "")


def leaks(texts: list[str], key: str = KEY) -> list[str]:
    forms = {key, repr(key)[1:-1], json.dumps(key)[1:-1], quote(key, safe=""), key[8:30]}
    return [t[:120] for t in texts if any(f in t for f in forms)]


async def test_an_echoed_header_in_an_error_is_scrubbed_everywhere(
        server: HostileServer, journal, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.route("GET", "/v1/tasks/", lambda req: Reply(
        401, json={"error": {"message": f"bad header {bearer(req)}", "type": "invalid_api_key",
                             "param": bearer(req)}},
        headers={"X-Echo": bearer(req)}))
    async with client(server, journal) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.get("t1")
    err = info.value
    assert server.seen()[0].headers["authorization"] == f"Bearer {KEY}"  # it did go out
    assert "[redacted]" in str(err)
    assert not leaks([str(err), repr(err), json.dumps(err.body), json.dumps(err.headers),
                      str(err.param), caplog.text, journal_text(journal)])


async def test_an_echoed_key_in_a_task_error_never_reaches_task_history_or_widget(
        server: HostileServer, journal, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.route("POST", CREATE, Reply(json=task_body()))
    server.route("GET", "/v1/tasks/", lambda req: Reply(json=task_body(
        "t1", "failed", error={"code": bearer(req), "message": f"upstream said {bearer(req)}"},
        model=f"m {bearer(req)}", echo={"nested": [bearer(req)]})))
    async with client(server, journal) as c:
        task = await c.create(REQ)
        with pytest.raises(TaskFailedError) as info:
            await c.wait(task, timeout=10)
        final = info.value.task
        assert final is not None
        widget = TaskWidget(final, client=c)
        state = json.dumps(widget.get_state(), default=str)
        html = widget.static_html()
        widget.close()
    texts = [str(info.value), repr(final), final.model_dump_json(), json.dumps(final.raw),
             state, html, repr(widget), caplog.text, journal_text(journal)]
    assert not leaks(texts), leaks(texts)
    assert final.error and "[redacted]" in final.error.message


async def test_an_echo_in_a_429_header_is_scrubbed(server: HostileServer) -> None:
    server.route("GET", "/v1/tasks/", lambda req: Reply(
        429, json={"error": {"message": "slow down", "type": "rate_limit_exceeded"}},
        headers={"Retry-After": "600", "X-Debug-Auth": bearer(req)}))
    async with client(server) as c:
        with pytest.raises(RateLimitError) as info:
            await c.get("t1")
    assert len(server.seen()) == 1  # a 600 s wait is not slept through
    assert not leaks([json.dumps(info.value.headers), repr(info.value)])


async def test_an_echo_in_status_id_and_urls_is_scrubbed(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    server.route("GET", "/v1/tasks/", lambda req: Reply(json={
        "id": "t1", "status": f"weird {KEY}", "poll_url": f"/v1/tasks/t1?k={KEY}",
        "video_url": f"https://cdn.example/{KEY}.mp4"}))
    async with client(server) as c:
        task = await c.get("t1")
        await c.get(task)  # follows the scrubbed poll_url: the key is not sent in a query
    assert not leaks([repr(task), task.model_dump_json(), task.display_status, caplog.text])
    assert not leaks([r.path for r in server.seen()])


@pytest.mark.parametrize("form", ["repr", "json", "url"])
async def test_escaped_forms_of_the_key_are_scrubbed(server: HostileServer, form: str) -> None:
    key = "sk-odd\\key'with\"quote/plus+0123456789"
    shown = {"repr": repr(key)[1:-1], "json": json.dumps(key)[1:-1],
             "url": quote(key, safe="")}[form]
    server.route("GET", "/v1/tasks/", Reply(400, json={"error": {
        "message": f"invalid key {shown}", "type": "invalid_api_key"}}))
    async with client(server, api_key=key) as c:
        with pytest.raises(Exception) as info:
            await c.get("t1")
    assert shown not in str(info.value) and "[redacted]" in str(info.value)


async def test_a_key_read_from_a_file_is_stripped_and_its_escaped_echo_scrubbed(
        server: HostileServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    from_file = KEY + "\n"
    server.route("GET", "/v1/tasks/", Reply(401, json={"error": {
        "message": f"unknown key {from_file!r}", "type": "invalid_api_key"}}))
    async with client(server, api_key=from_file) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.get("t1")
    assert server.seen()[0].headers["authorization"] == f"Bearer {KEY}"  # no newline sent
    assert not leaks([str(info.value), repr(info.value), caplog.text])


@pytest.mark.parametrize("bad", [KEY[:10] + " " + KEY[10:], KEY[:10] + "\n" + KEY[10:],
                                 KEY[:10] + "\x00" + KEY[10:], KEY[:10] + "é" + KEY[10:], "   "])
async def test_a_key_that_cannot_work_is_refused_before_anything_is_sent(
        server: HostileServer, bad: str) -> None:
    with pytest.raises(UsageError) as info:
        AsyncSeedanceClient(bad, server.base_url, journal=False)
    assert not server.seen()
    assert not leaks([str(info.value), repr(info.value)])
    assert KEY[12:20] not in str(info.value)


async def test_the_token_never_follows_a_poll_url_to_another_host(server: HostileServer,
                                                                   journal) -> None:
    with HostileServer() as other:
        other.route("GET", "/", Reply(json=task_body("t1", "completed")))
        server.route("POST", CREATE, Reply(json=task_body(
            "t1", poll_url=f"{other.base_url}/v1/tasks/t1")))
        server.route("GET", "/v1/tasks/", Reply(json=done_body(server)))
        serve_video(server)
        async with client(server, journal) as c:
            task = await c.create(REQ)
            path = await c.download(await c.get(task))
        assert not other.seen()
    api = [r for r in server.seen() if r.path.startswith("/v1/")]
    cdn = server.seen("GET", "/cdn/")
    assert [r.path for r in api] == [CREATE, "/v1/tasks/t1"] and path.exists()
    assert all(bearer(r) == f"Bearer {KEY}" for r in api)
    assert cdn and all("authorization" not in r.headers for r in cdn)  # results go without it


@pytest.mark.parametrize("poll_url", ["//evil.example/v1/tasks/t1", "evil.example/v1/tasks/t1",
                                      "/v1/../admin", "/admin/t1", 12345])
async def test_odd_poll_urls_fall_back_to_the_fixed_route(server: HostileServer,
                                                          poll_url: object) -> None:
    server.route("GET", "/", Reply(json=task_body("t1", "processing", poll_url=poll_url)))
    async with client(server) as c:
        await c.get(await c.get("t1"))
    assert [r.path for r in server.seen()] == ["/v1/tasks/t1", "/v1/tasks/t1"]


async def test_a_redirect_from_the_api_is_not_followed(server: HostileServer) -> None:
    with HostileServer() as other:
        other.route("GET", "/", Reply(json=task_body("t1", "completed")))
        server.route("GET", "/v1/tasks/", Reply(302, headers={
            "Location": f"{other.base_url}/v1/tasks/t1"}, json={}))
        async with client(server) as c:
            with pytest.raises(Exception, match="HTTP 302"):
                await c.get("t1")
        assert not other.seen()
