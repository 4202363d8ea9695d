"""The emulator as a client sees it: a real HTTP server speaking the TokenLab video contract.

Every body is checked against the contract schema of its route and status; the videos are
decoded with PyAV; each fault knob is switched on and observed from the client side.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from seedance_widgets._catalog import (
    CNY_PER_USD,
    DEFAULT_MODELS,
    default_catalog,
    parse_model_detail,
)
from seedance_widgets.emulator import DEMO_API_KEY, Emulator, Faults, Timings

from .contract import check, check_response

FAST = Timings(queue_s=0.3, run_s=0.6)
CREATE = "/v1/videos/generations"
TASK = "/v1/tasks/{id}"
LEGACY = "/v1/videos/generations/{id}"
PROMPT = "a red kite over a green hill"


def client_for(emu: Emulator, key: str | None = None, **kw: Any) -> httpx.Client:
    return httpx.Client(base_url=emu.base_url, timeout=10,
                        headers={"Authorization": f"Bearer {key or emu.api_key}"}, **kw)


def create(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    r = client.post(CREATE, json={"model": "seedance-2.0-fast", "prompt": PROMPT, **fields})
    assert r.status_code == 200, r.text
    check_response(CREATE, "post", 200, r.json())
    return r.json()


def wait_for(client: httpx.Client, task_id: str, until: tuple[str, ...] = ("completed", "failed"),
             timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/v1/tasks/{task_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        check_response(TASK, "get", 200, body)
        if body["status"] in until:
            return body
        assert time.monotonic() < deadline, f"task stuck at {body}"
        time.sleep(0.05)


def decode(data: bytes) -> tuple[float, int, int]:
    """(duration s, width, height) of an MP4."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        rate = float(stream.average_rate or 24)
        return frames / rate, stream.codec_context.width, stream.codec_context.height


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(timings=FAST, api_keys=(DEMO_API_KEY, "sk-second-user-key")) as e:
        yield e


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with client_for(emu) as c:
        yield c


@pytest.fixture
def other(emu: Emulator) -> Iterator[httpx.Client]:
    with client_for(emu, "sk-second-user-key") as c:
        yield c


def fresh(**kw: Any) -> Emulator:
    return Emulator(**{"timings": FAST, **kw}).start()


# ---------------------------------------------------------------------- auth and validation
@pytest.mark.parametrize(("path", "method", "doc_path"), [
    ("/v1/tasks/ldtask_x", "get", TASK),
    ("/v1/models", "get", "/v1/models"),
    (CREATE, "post", CREATE),
])
def test_401_without_key_and_with_a_wrong_key(emu: Emulator, path: str, method: str,
                                               doc_path: str) -> None:
    with httpx.Client(base_url=emu.base_url) as anon:
        r = anon.request(method.upper(), path, json={} if method == "post" else None)
        assert r.status_code == 401
        assert r.json()["error"]["type"] == "unauthorized"
        check_response(doc_path, method, 401, r.json())
        wrong = "sk-not-a-real-key-123"
        r = anon.request(method.upper(), path, headers={"Authorization": f"Bearer {wrong}"})
        assert r.status_code == 401
        assert r.json() == {"error": {"message": "Invalid API key provided",
                                      "type": "invalid_api_key"}}
        assert wrong not in r.text
    assert DEMO_API_KEY not in repr(emu.request_log)
    assert "sk-not-a-real" not in repr(emu.request_log)


def test_400_names_the_field_and_the_allowed_resolutions(client: httpx.Client) -> None:
    r = client.post(CREATE, json={"model": "seedance-2.0-fast", "prompt": PROMPT,
                                  "resolution": "1080p"})
    assert r.status_code == 400
    body = r.json()
    check_response(CREATE, "post", 400, body)
    err = body["error"]
    assert err["allowed_resolutions"] == ["480p", "720p"]
    assert (err["type"], err["param"], err["code"]) == (
        "invalid_request_error", "resolution", "resolution_not_allowed")
    assert err["message"].startswith("resolution: ")
    assert body["validation_errors"][0]["field"] == "resolution"


@pytest.mark.parametrize(("fields", "param", "hint"), [
    ({"duration": 3}, "duration", "allowed_durations"),
    ({"aspect_ratio": "2:1"}, "aspect_ratio", "allowed_aspect_ratios"),
    ({"operation": "audio-to-video"}, "operation", "supported_operations"),
    ({"prompt": "x" * 3001}, "prompt", "prompt_max_characters"),
    ({"model": "seedance-9"}, "model", None),
])
def test_400_hints(client: httpx.Client, fields: dict[str, Any], param: str,
                   hint: str | None) -> None:
    r = client.post(CREATE, json={"model": "seedance-2.0-fast", "prompt": PROMPT, **fields})
    assert r.status_code == 400
    check_response(CREATE, "post", 400, r.json())
    err = r.json()["error"]
    assert err["param"] == param
    if hint:
        assert err[hint]
    else:
        assert err["type"] == "model_not_found"
    if hint == "allowed_durations":
        assert err[hint] == ["-1", *(str(d) for d in range(4, 16))]


def test_400_for_bad_json_and_non_object(client: httpx.Client) -> None:
    for raw in (b"{not json", b"[1, 2]"):
        r = client.post(CREATE, content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400
        check_response(CREATE, "post", 400, r.json())
        assert r.json()["error"]["type"] == "invalid_request_error"
    # The connection is still in step after refusals: the next request is answered normally.
    assert client.get("/v1/models").status_code == 200


def test_402_when_the_estimate_exceeds_the_balance() -> None:
    with fresh(balance_usd=0.10) as emu, client_for(emu) as c:
        r = c.post(CREATE, json={"model": "seedance-2.0-fast", "prompt": PROMPT, "duration": 5})
        assert r.status_code == 402
        check_response(CREATE, "post", 402, r.json())
        err = r.json()["error"]
        assert err["type"] == "insufficient_balance"
        assert err["estimated_cost_usd"] > err["balance_usd"] == 0.10
        assert emu.task_count() == 0


# ---------------------------------------------------------------------- lifecycle and results
def test_create_poll_download_and_decode(emu: Emulator, client: httpx.Client) -> None:
    created = create(client, duration=4, aspect_ratio="9:16", return_last_frame=True)
    tid = created["id"]
    assert tid.startswith("ldtask_") and len(tid) == 7 + 32
    assert created["task_id"] == tid and created["poll_url"] == f"/v1/tasks/{tid}"
    assert created["status"] == "pending"
    seen = {wait_for(client, tid, ("processing",))["status"]}
    done = wait_for(client, tid)
    seen.add(done["status"])
    assert seen == {"processing", "completed"}
    assert done["progress"] == 100
    assert done["video"]["duration"] == 4
    assert (done["video"]["width"], done["video"]["height"]) == (720, 1280)
    assert done["video_url"] == done["video"]["url"] == done["content"]["video_url"]
    assert done["last_frame_url"] == done["content"]["last_frame_url"]
    assert done["billing"]["tokens"] == round(4 * 720 * 1280 * 24 / 1024)
    legacy = client.get(f"/v1/videos/generations/{tid}")
    check_response(LEGACY, "get", 200, legacy.json())
    assert legacy.json()["video_url"] == done["video_url"]

    video = httpx.get(done["video_url"])  # a signed URL: no Authorization header
    assert video.status_code == 200
    assert video.headers["content-type"] == "video/mp4"
    assert video.headers["accept-ranges"] == "bytes"
    assert video.headers["access-control-allow-origin"] == "*"
    duration, width, height = decode(video.content)
    assert duration == pytest.approx(4, abs=0.05)
    assert width / height == pytest.approx(9 / 16, abs=0.02)

    part = httpx.get(done["video_url"], headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-1099/{len(video.content)}"
    assert part.content == video.content[100:1100]
    tail = httpx.get(done["video_url"], headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == video.content[-10:]
    head = httpx.head(done["video_url"])
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(video.content)

    frame = httpx.get(done["last_frame_url"])
    assert frame.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(frame.content))
    assert image.width / image.height == pytest.approx(9 / 16, abs=0.02)

    beyond = httpx.get(done["video_url"], headers={"Range": f"bytes={len(video.content)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(video.content)}"
    check("ApiError", beyond.json())

    bad = httpx.get(done["video_url"].replace("sig=", "sig=0"))
    assert bad.status_code == 403
    check("ApiError", bad.json())


def test_durations_and_ratio_defaults(client: httpx.Client) -> None:
    chosen = create(client, duration=-1, seed=7)["id"]
    default = create(client, aspect_ratio="adaptive")["id"]
    a, b = wait_for(client, chosen), wait_for(client, default)
    assert a["status"] == b["status"] == "completed"
    assert 4 <= a["video"]["duration"] <= 15 and a["seed"] == 7
    assert b["video"]["duration"] == 5
    assert (b["video"]["width"], b["video"]["height"]) == (1280, 720)
    duration, width, height = decode(httpx.get(a["video_url"]).content)
    assert duration == pytest.approx(a["video"]["duration"], abs=0.05)
    assert width / height == pytest.approx(16 / 9, abs=0.02)
    assert "last_frame_url" not in b


def test_video_extension_needs_a_completed_task_of_the_same_key(
        client: httpx.Client, other: httpx.Client) -> None:
    source = wait_for(client, create(client, duration=4, resolution="480p")["id"])
    r = other.post(CREATE, json={"model": "seedance-2.0-fast", "operation": "video-extension",
                                 "task_id": source["id"]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "task_id"
    check_response(CREATE, "post", 400, r.json())
    ext = create(client, operation="video-extension", task_id=source["id"], duration=4)
    done = wait_for(client, ext["id"])
    assert done["status"] == "completed"
    assert done["video"]["height"] == 496  # resolution inherited from the source (480p)
    # Input video seconds are billed: (4 s in + 4 s out) at 480p 16:9.
    assert done["billing"]["tokens"] == round(8 * 864 * 496 * 24 / 1024)


def test_result_url_expires() -> None:
    with fresh(timings=Timings(queue_s=0, run_s=0.1), result_ttl_s=0.5) as emu, \
            client_for(emu) as c:
        done = wait_for(c, create(c, duration=4)["id"])
        assert httpx.get(done["video_url"]).status_code == 200
        time.sleep(0.6)
        r = httpx.get(done["video_url"])
        assert r.status_code == 403
        assert r.json() == {"error": {"message": "URL expired", "type": "permission_error",
                                      "code": "url_expired"}}


def test_progress_can_be_withheld() -> None:
    with fresh(timings=Timings(queue_s=0, run_s=5, report_progress=False)) as emu, \
            client_for(emu) as c:
        body = wait_for(c, create(c)["id"], ("processing",))
        assert "progress" not in body


# ---------------------------------------------------------------------- cancel and ownership
def test_cancel_while_pending(client: httpx.Client) -> None:
    tid = create(client)["id"]
    r = client.delete(f"/v1/tasks/{tid}")
    assert r.status_code == 200
    check_response(TASK, "delete", 200, r.json())
    assert r.json() == {"id": tid, "task_id": tid, "poll_url": f"/v1/tasks/{tid}",
                        "status": "failed", "cancelled": True,
                        "cancellation_status": "cancelled",
                        "error": "Task cancelled before execution",
                        "created": r.json()["created"], "updated": r.json()["updated"],
                        "model": "seedance-2.0-fast"}
    time.sleep(FAST.queue_s + FAST.run_s + 0.1)  # past the time it would have completed
    after = client.get(f"/v1/tasks/{tid}").json()
    assert (after["status"], after["cancelled"]) == ("failed", True)
    again = client.delete(f"/v1/tasks/{tid}")
    assert again.status_code == 409
    check_response(TASK, "delete", 409, again.json())


def test_cancel_while_processing_is_409() -> None:
    with fresh(timings=Timings(queue_s=0, run_s=30)) as emu, client_for(emu) as c:
        tid = create(c)["id"]
        r = c.delete(f"/v1/tasks/{tid}")
        assert r.status_code == 409
        check_response(TASK, "delete", 409, r.json())
        assert c.get(f"/v1/tasks/{tid}").json()["status"] == "processing"


def test_mini_cannot_be_cancelled(client: httpx.Client) -> None:
    tid = create(client, model="seedance-2.0-mini")["id"]
    r = client.delete(f"/v1/tasks/{tid}")
    assert r.status_code == 400
    check_response(TASK, "delete", 400, r.json())
    assert "cancelled" not in client.get(f"/v1/tasks/{tid}").json()


def test_another_keys_task_is_forbidden(client: httpx.Client, other: httpx.Client) -> None:
    tid = create(client)["id"]
    for r, method in ((other.get(f"/v1/tasks/{tid}"), "get"),
                      (other.delete(f"/v1/tasks/{tid}"), "delete")):
        assert r.status_code == 403
        assert r.json()["error"]["type"] == "permission_error"
        check_response(TASK, method, 403, r.json())
    # The older route documents no 403: another key's task is simply not found there.
    r = other.get(f"/v1/videos/generations/{tid}")
    assert r.status_code == 404
    check_response(LEGACY, "get", 404, r.json())
    assert client.get(f"/v1/tasks/{tid}").status_code == 200


def test_unknown_task_route_and_method(client: httpx.Client) -> None:
    missing = "ldtask_" + "0" * 32
    r = client.get(f"/v1/tasks/{missing}")
    assert r.status_code == 404 and r.json()["error"]["type"] == "async_task_not_found"
    check("ApiError", r.json())
    r = client.delete(f"/v1/tasks/{missing}")
    assert r.status_code == 404
    check_response(TASK, "delete", 404, r.json())
    check_response(LEGACY, "get", 404, client.get(f"/v1/videos/generations/{missing}").json())
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    check("ApiError", r.json())
    r = client.put("/v1/models")
    assert r.status_code == 405
    check("ApiError", r.json())


# ---------------------------------------------------------------------- models and pricing
@pytest.mark.parametrize("spec", DEFAULT_MODELS, ids=lambda s: s.id)
def test_model_detail_round_trips(client: httpx.Client, spec: Any) -> None:
    r = client.get(f"/v1/models/{spec.id}")
    assert r.status_code == 200
    check_response("/v1/models/{model}", "get", 200, r.json())
    parsed = parse_model_detail(r.json())
    assert parsed.resolutions == spec.resolutions
    assert parsed.durations == spec.durations
    assert parsed.aspect_ratios == spec.aspect_ratios
    assert parsed.operations == spec.operations
    assert parsed.prompt_max_characters == spec.prompt_max_characters
    assert parsed.references == spec.references
    assert parsed.cancellable == spec.cancellable
    for op in spec.operations:
        assert parsed.allowed_resolutions(op) == spec.allowed_resolutions(op)
        assert parsed.allowed_durations(op) == spec.allowed_durations(op)


def test_model_lists_and_pricing(client: httpx.Client) -> None:
    ids = list(default_catalog().ids())
    full = client.get("/v1/models", params={"category": "video"}).json()
    check_response("/v1/models", "get", 200, full)
    check("ModelsResponse", full)
    assert [m["id"] for m in full["data"]] == ids
    compact = client.get("/v1/models", params={"view": "compact"}).json()
    check("CompactModelsResponse", compact)
    assert compact["count"] == len(ids)
    assert client.get("/v1/models", params={"category": "chat"}).json()["data"] == []
    bad = client.get("/v1/models", params={"view": "tiny"})
    assert bad.status_code == 400
    check_response("/v1/models", "get", 400, bad.json())

    for spec in DEFAULT_MODELS:
        r = client.get(f"/v1/models/{spec.id}/pricing")
        check_response("/v1/models/{model}/pricing", "get", 200, r.json())
        summary = r.json()["pricing_summary"]
        if spec.cny_per_million is None:
            assert summary["usd_per_1m_tokens"] is None and summary["note"]
        else:
            assert summary["usd_per_1m_tokens"] == pytest.approx(
                spec.cny_per_million[0] / CNY_PER_USD, abs=1e-6)
            assert summary["usd_per_1m_tokens_with_video_input"] == pytest.approx(
                spec.cny_per_million[1] / CNY_PER_USD, abs=1e-6)
    pricing = client.get("/v1/pricing").json()
    check_response("/v1/pricing", "get", 200, pricing)
    assert [e["model"] for e in pricing["data"]] == ids
    for path in ("/v1/models/seedance-9", "/v1/models/seedance-9/pricing"):
        r = client.get(path)
        assert r.status_code == 404
        check_response(path.replace("seedance-9", "{model}"), "get", 404, r.json())


# ---------------------------------------------------------------------- faults
def test_rate_limit_bursts_carry_headers_and_retry_after() -> None:
    faults = Faults(rate_limit_every=3, rate_limit_burst=2, rate_limit_retry_after_s=0.2)
    with fresh(faults=faults) as emu, client_for(emu) as c:
        answers = [c.get("/v1/models") for _ in range(7)]
        assert [r.status_code for r in answers] == [200, 200, 429, 429, 200, 429, 429]
        r = answers[2]
        check_response("/v1/models", "get", 429, r.json())
        err = r.json()["error"]
        assert (err["type"], err["retry_after"], err["retryable"]) == (
            "rate_limit_exceeded", 0.2, True)
        assert r.headers["retry-after"] == "1"
        assert r.headers["x-ratelimit-remaining"] == "0"
        assert int(r.headers["x-ratelimit-limit"]) > 0
        assert int(r.headers["x-ratelimit-reset"]) >= int(time.time())


def test_reset_closes_the_connection() -> None:
    with fresh(faults=Faults(reset_rate=1.0)) as emu, client_for(emu) as c:
        with pytest.raises(httpx.TransportError):
            c.get("/v1/models")
        assert emu.request_log[-1].status is None
        emu.set_faults(Faults())
        assert c.get("/v1/models").status_code == 200


def test_drop_after_create_makes_exactly_one_task() -> None:
    with fresh(faults=Faults(drop_after_create_rate=1.0)) as emu, client_for(emu) as c:
        with pytest.raises(httpx.TransportError):
            c.post(CREATE, json={"model": "seedance-2.0-fast", "prompt": PROMPT})
        assert emu.task_count() == 1
        assert emu.tasks_snapshot()[0]["request"]["prompt"] == PROMPT


def test_create_error_still_creates_the_task() -> None:
    with fresh(faults=Faults(create_error_rate=1.0)) as emu, client_for(emu) as c:
        r = c.post(CREATE, json={"model": "seedance-2.0-fast", "prompt": PROMPT})
        assert r.status_code == 500
        check_response(CREATE, "post", 500, r.json())
        assert r.json()["error"]["type"] == "server_error"
        assert emu.task_count() == 1


def test_error_rate_answers_5xx_on_reads() -> None:
    with fresh(faults=Faults(error_rate=1.0, seed=1)) as emu, client_for(emu) as c:
        statuses = set()
        for _ in range(12):
            r = c.get("/v1/models")
            statuses.add(r.status_code)
            check("ApiError", r.json())
            assert r.json()["error"]["type"] == "server_error"
        assert statuses <= {500, 502, 503} and len(statuses) > 1
        # Creates are not GET/DELETE: they are left alone by this knob.
        assert c.post(CREATE, json={"model": "seedance-2.0-fast", "prompt": PROMPT}
                      ).status_code == 200


def test_seeded_faults_repeat() -> None:
    def pattern() -> list[int]:
        with fresh(faults=Faults(error_rate=0.5, seed=42)) as emu, client_for(emu) as c:
            return [c.get("/v1/models").status_code for _ in range(16)]

    first = pattern()
    assert first == pattern()
    assert 200 in first and set(first) - {200}


def test_malformed_body_fails_to_parse() -> None:
    with fresh(faults=Faults(malformed_rate=1.0)) as emu, client_for(emu) as c:
        r = c.get("/v1/models")
        assert r.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.content)
        created = c.post(CREATE, json={"model": "seedance-2.0-fast", "prompt": PROMPT})
        assert created.json()["status"] == "pending"  # only GET answers are cut


def test_task_failure_rate_fails_tasks_with_an_error_object() -> None:
    with fresh(faults=Faults(task_failure_rate=1.0),
               timings=Timings(queue_s=0, run_s=0.1)) as emu, client_for(emu) as c:
        body = wait_for(c, create(c)["id"])
        assert body["status"] == "failed"
        assert body["error"]["code"] == "generation_failed" and body["error"]["message"]
        assert "video_url" not in body and "cancelled" not in body


def test_latency_is_added() -> None:
    with fresh(faults=Faults(latency_s=0.3)) as emu, client_for(emu) as c:
        began = time.monotonic()
        assert c.get("/v1/models").status_code == 200
        assert time.monotonic() - began >= 0.3


def test_throttled_download_and_a_client_that_leaves(capfd: pytest.CaptureFixture[str]) -> None:
    with fresh(timings=Timings(queue_s=0, run_s=0)) as emu, client_for(emu) as c:
        url = wait_for(c, create(c, duration=4)["id"])["video_url"]
        size = len(httpx.get(url).content)
        emu.set_faults(Faults(download_bytes_per_s=size * 2))  # about half a second
        began = time.monotonic()
        assert len(httpx.get(url).content) == size
        assert time.monotonic() - began >= 0.4
        # Leave in the middle of a slow download: the server must not print a traceback.
        with httpx.stream("GET", url) as r:
            next(r.iter_raw(1024))
        time.sleep(0.3)
    assert "Traceback" not in capfd.readouterr().err


# ---------------------------------------------------------------------- stop
def test_stop_is_idempotent_and_ends_kept_alive_connections() -> None:
    emu = fresh()
    c = client_for(emu)
    assert c.get("/v1/models").status_code == 200  # leaves a kept-alive connection open
    stopper = threading.Thread(target=emu.stop)
    stopper.start()
    stopper.join(timeout=5)
    assert not stopper.is_alive()
    emu.stop()
    with pytest.raises(httpx.TransportError):
        c.get("/v1/models")
    c.close()
    with pytest.raises(RuntimeError):
        emu.start()


def test_faults_from_env() -> None:
    env = {"SEEDANCE_EMU_ERROR_RATE": "0.25", "SEEDANCE_EMU_RATE_LIMIT_EVERY": "10",
           "SEEDANCE_EMU_SEED": "7", "SEEDANCE_EMU_LATENCY_S": " "}
    assert Faults.from_env(env) == Faults(error_rate=0.25, rate_limit_every=10, seed=7)
    with pytest.raises(ValueError, match="SEEDANCE_EMU_RESET_RATE"):
        Faults.from_env({"SEEDANCE_EMU_RESET_RATE": "often"})
    with pytest.raises(ValueError, match="error_rate"):
        Faults(error_rate=2)


def test_serve_prints_url_and_masked_keys_and_stops_on_ctrl_c() -> None:
    code = ("from seedance_widgets.emulator import serve; "
            "serve(0, ['sk-emulator-demo', 'sk-live-secret-0123456789'])")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(4)] if proc.stdout else []
        text = "".join(lines)
        assert "http://127.0.0.1:" in text
        assert "sk-emulator-demo" in text and "sk-liv…" in text
        assert "secret" not in text
        url = text.split("at ", 1)[1].split()[0]
        r = httpx.get(url + "/v1/models", headers={"Authorization": "Bearer sk-emulator-demo"})
        assert r.status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
