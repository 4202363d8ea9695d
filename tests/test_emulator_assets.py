"""The emulator's material asset routes, as a client sees them, checked against the contract.

Sources are served by a real loopback web server; every answer is validated against the
schema the contract gives for its route and status.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedance_widgets.emulator import DEMO_API_KEY, Emulator, Timings

from .contract import check_response
from .media import BLUE, RED, MediaServer, data_url, media_server, mp4, png, wav

ASSETS = "/v1/videos/assets"
ASSET = "/v1/videos/assets/{assetId}"
CREATE = "/v1/videos/generations"
OTHER_KEY = "sk-second-organization"
TIMINGS = Timings(queue_s=0.1, run_s=0.3, asset_ready_s=0.4, material_hold_s=5)
ASSET_ID = re.compile(r"^asset-\d{14}-[a-z0-9]{5}$")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    with media_server(tmp_path_factory.mktemp("public")) as server:
        server.put("red.png", png(RED))
        server.put("blue.png", png(BLUE))
        server.put("wide.png", png(RED, (1500, 400)))  # decodes, but 3.75:1 fails processing
        server.put("tiny.png", png(RED, (200, 200)))
        server.put("notes.txt", b"not an image")
        server.put("clip.mp4", mp4(BLUE, 3))
        server.put("voice.wav", wav(2))
        yield server


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(timings=TIMINGS, api_keys=(DEMO_API_KEY, OTHER_KEY)) as e:
        yield e


def client_for(emu: Emulator, key: str = DEMO_API_KEY) -> httpx.Client:
    return httpx.Client(base_url=emu.base_url, timeout=30,
                        headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with client_for(emu) as c:
        yield c


def create_asset(client: httpx.Client, url: str, **fields: Any) -> dict[str, Any]:
    r = client.post(ASSETS, json={"asset_url": url, **fields})
    assert r.status_code == 201, r.text
    check_response(ASSETS, "post", 201, r.json())
    return r.json()


def get_asset(client: httpx.Client, asset_id: str, **params: str) -> dict[str, Any]:
    r = client.get(f"{ASSETS}/{asset_id}", params=params)
    assert r.status_code == 200, r.text
    check_response(ASSET, "get", 200, r.json())
    return r.json()


def wait_status(client: httpx.Client, asset_id: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = get_asset(client, asset_id)
        if body["status"] != "PROCESSING":
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def refused(r: httpx.Response, path: str, method: str, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    check_response(path, method, status, r.json())
    assert r.json()["error"]["code"] == code, r.json()
    return r.json()["error"]


def generate(client: httpx.Client, **fields: Any) -> httpx.Response:
    body = {"model": "seedance-2.0-fast", "prompt": "the registered product, turning slowly",
            "duration": 4, **fields}
    return client.post(CREATE, json=body)


# ---------------------------------------------------------------------- lifecycle
def test_processing_then_active(client: httpx.Client, media: MediaServer) -> None:
    created = create_asset(client, media.url("red.png"), asset_name="Front view",
                           metadata={"sku": "A-1"})
    assert ASSET_ID.match(created["id"])
    assert (created["status"], created["ready"], created["error_message"]) == (
        "PROCESSING", False, None)
    assert (created["object"], created["asset_type"], created["library_type"]) == (
        "seedance.material_asset", "Image", "aigc_avatar")
    assert created["group_id"].startswith("group-") and created["project_name"] == "default"
    assert created["metadata"] == {"sku": "A-1"} and created["asset_name"] == "Front view"
    assert created["created_at"] > 1_700_000_000_000  # milliseconds, as the examples show
    active = wait_status(client, created["id"])
    assert (active["status"], active["ready"]) == ("ACTIVE", True)
    assert active["updated_at"] >= active["created_at"]
    # The source was fetched once, from loopback, without any credential.
    fetched = [h for h in media.hits if h.path == "/red.png"]
    assert fetched and all("authorization" not in h.headers for h in fetched)


@pytest.mark.parametrize(("name", "asset_type"), [("clip.mp4", "Video"),
                                                   ("voice.wav", "Audio")])
def test_video_and_audio_sources_probe(client: httpx.Client, media: MediaServer, name: str,
                                       asset_type: str) -> None:
    created = create_asset(client, media.url(name), asset_type=asset_type)
    assert wait_status(client, created["id"])["status"] == "ACTIVE"


def test_failed_after_the_deeper_check(client: httpx.Client, media: MediaServer) -> None:
    created = create_asset(client, media.url("wide.png"))
    assert created["status"] == "PROCESSING"
    failed = wait_status(client, created["id"])
    assert (failed["status"], failed["ready"]) == ("FAILED", False)
    assert "aspect ratio" in failed["error_message"]
    # A failed source cannot be renamed into use: the contract's 422.
    r = client.put(f"{ASSETS}/{created['id']}", json={"asset_name": "still wide"})
    refused(r, ASSET, "put", 422, "seedance_material_source_invalid")
    # Nor used in a generation.
    r = generate(client, image_url=f"asset://{created['id']}")
    err = refused(r, CREATE, "post", 400, "seedance_material_source_invalid")
    assert err["param"] == "image_url" and "aspect ratio" in err["message"]
    # Replacing the source starts processing again and can succeed.
    r = client.put(f"{ASSETS}/{created['id']}", json={"asset_url": media.url("blue.png")})
    assert r.status_code == 200, r.text
    check_response(ASSET, "put", 200, r.json())
    assert r.json()["status"] == "PROCESSING"
    assert wait_status(client, created["id"])["status"] == "ACTIVE"


# ---------------------------------------------------------------------- create refusals
@pytest.mark.parametrize(("body", "param", "code"), [
    ({"asset_url": "http://127.0.0.1:1/x.png", "colour": "red"}, "colour", "unknown_field"),
    ({"asset_name": "no url"}, "asset_url", "missing"),
    ({"asset_url": "http://127.0.0.1:1/x.png", "asset_type": "Model"}, "asset_type",
     "literal_error"),
    ({"asset_url": "http://127.0.0.1:1/x.png", "library_type": "liveness_face"}, "group_id",
     "missing_group_id"),
    ({"asset_url": "ftp://127.0.0.1/x.png"}, "asset_url", "invalid_url"),
    ({"asset_url": "http://127.0.0.1:1/x.png", "asset_name": ""}, "asset_name",
     "string_too_short"),
])
def test_create_validates_the_body(client: httpx.Client, body: dict[str, Any], param: str,
                                   code: str) -> None:
    err = refused(client.post(ASSETS, json=body), ASSETS, "post", 400, code)
    assert err["param"] == param and err["type"] == "invalid_request_error"


@pytest.mark.parametrize(("name", "asset_type", "why"), [
    ("missing.png", "Image", "HTTP 404"),
    ("notes.txt", "Image", "not an image"),
    ("tiny.png", "Image", "between 300px and 6000px"),
    ("red.png", "Video", "a reference video is mov/mp4"),
    ("notes.txt", "Video", "does not probe as a video"),
    ("clip.mp4", "Audio", "has no audio stream"),
])
def test_bad_or_unreachable_source_is_400(client: httpx.Client, media: MediaServer, name: str,
                                          asset_type: str, why: str) -> None:
    r = client.post(ASSETS, json={"asset_url": media.url(name), "asset_type": asset_type})
    err = refused(r, ASSETS, "post", 400, "seedance_material_source_invalid")
    assert err["param"] == "asset_url" and why in err["message"], err


def test_unreachable_port_is_400(client: httpx.Client) -> None:
    r = client.post(ASSETS, json={"asset_url": "http://127.0.0.1:9/nothing.png"})
    refused(r, ASSETS, "post", 400, "seedance_material_source_invalid")


# ---------------------------------------------------------------------- list, update, delete
def test_list_filters_and_pages(emu: Emulator, media: MediaServer) -> None:
    with Emulator(timings=TIMINGS) as fresh, client_for(fresh) as c:
        ids = [create_asset(c, media.url("red.png"), asset_name=f"n{i}")["id"]
               for i in range(3)]
        other = create_asset(c, media.url("blue.png"), project_name="p2",
                             library_type="liveness_face", group_id="group-x")["id"]
        pages, token = [], None
        while True:
            params = {"page_size": "2", **({"page_token": token} if token else {})}
            r = c.get(ASSETS, params=params)
            check_response(ASSETS, "get", 200, r.json())
            pages.append([a["id"] for a in r.json()["assets"]])
            token = r.json()["next_page_token"]
            if token is None:
                break
        assert pages == [ids[::-1][:2], ids[::-1][2:]]  # newest first, the other project apart
        # A group holds one library type: the contract's 409 mapping conflict.
        r = c.post(ASSETS, json={"asset_url": media.url("red.png"), "group_id": "group-x"})
        assert r.status_code == 409 and r.json()["error"]["param"] == "group_id"
        check_response(ASSETS, "post", 409, r.json())
        p2 = c.get(ASSETS, params={"project_name": "p2", "library_type": "liveness_face",
                                   "group_id": "group-x"}).json()
        assert [a["id"] for a in p2["assets"]] == [other]
        assert c.get(ASSETS, params={"status": "ACTIVE"}).json()["assets"] == []
        wait_status(c, ids[0])
        active = c.get(ASSETS, params={"status": "ACTIVE"}).json()["assets"]
        assert ids[0] in [a["id"] for a in active]
        for params, param in (({"page_size": "0"}, "page_size"),
                              ({"page_size": "101"}, "page_size"),
                              ({"page_token": "garbage!"}, "page_token"),
                              ({"status": "READY"}, "status"),
                              ({"library_type": "cartoon"}, "library_type")):
            r = c.get(ASSETS, params=params)
            assert r.status_code == 400 and r.json()["error"]["param"] == param
            check_response(ASSETS, "get", 400, r.json())


def test_update_and_its_refusals(client: httpx.Client, media: MediaServer) -> None:
    asset = create_asset(client, media.url("red.png"))
    r = client.put(f"{ASSETS}/{asset['id']}", json={"asset_name": "too early"})
    err = refused(r, ASSET, "put", 409, "seedance_material_preparing")
    assert err["retry_after"] > 0
    wait_status(client, asset["id"])
    r = client.put(f"{ASSETS}/{asset['id']}",
                   json={"asset_name": "Front view approved",
                         "metadata": {"approved_by": "creative-team"}})
    assert r.status_code == 200, r.text
    check_response(ASSET, "put", 200, r.json())
    assert (r.json()["asset_name"], r.json()["metadata"]) == (
        "Front view approved", {"approved_by": "creative-team"})
    for body, param in (({"nickname": "x"}, "nickname"), ({}, None),
                        ({"asset_type": "Video"}, "asset_type")):
        r = client.put(f"{ASSETS}/{asset['id']}", json=body)
        assert r.status_code == 400, r.text
        check_response(ASSET, "put", 400, r.json())
        assert r.json()["error"].get("param") == param
    r = client.put(f"{ASSETS}/asset-20260101000000-zzzzz", json={"asset_name": "x"})
    assert r.status_code == 404
    check_response(ASSET, "put", 404, r.json())


def test_delete_then_generation_refuses_it(client: httpx.Client, media: MediaServer) -> None:
    asset = create_asset(client, media.url("red.png"))
    wait_status(client, asset["id"])
    r = client.delete(f"{ASSETS}/{asset['id']}")
    assert r.status_code == 200
    check_response(ASSET, "delete", 200, r.json())
    assert r.json() == {"deleted": True, "id": asset["id"]}
    gone = get_asset(client, asset["id"])
    assert (gone["status"], gone["ready"]) == ("DELETED", False)
    assert asset["id"] not in [a["id"] for a in client.get(ASSETS).json()["assets"]]
    deleted = client.get(ASSETS, params={"status": "DELETED"}).json()["assets"]
    assert asset["id"] in [a["id"] for a in deleted]
    for fields in ({"image_url": f"asset://{asset['id']}"},
                   {"operation": "reference-to-video", "material_asset_ids": [asset["id"]]},
                   {"image_url": "asset://asset-20260101000000-nope1"}):
        err = refused(generate(client, **fields), CREATE, "post", 400,
                      "seedance_material_not_found")
        assert err["param"] in ("image_url", "material_asset_ids")


def test_unknown_and_foreign_assets(emu: Emulator, client: httpx.Client,
                                    media: MediaServer) -> None:
    missing = client.get(f"{ASSETS}/asset-20260101000000-zzzzz")
    assert missing.status_code == 404
    check_response(ASSET, "get", 404, missing.json())
    check_response(ASSET, "delete", 404,
                   client.delete(f"{ASSETS}/asset-20260101000000-zzzzz").json())
    mine = create_asset(client, media.url("red.png"))
    wait_status(client, mine["id"])
    with client_for(emu, OTHER_KEY) as other:
        assert other.get(f"{ASSETS}/{mine['id']}").status_code == 404
        assert mine["id"] not in [a["id"] for a in other.get(ASSETS).json()["assets"]]
        refused(generate(other, image_url=f"asset://{mine['id']}"), CREATE, "post", 400,
                "seedance_material_not_found")
    with httpx.Client(base_url=emu.base_url) as anon:
        r = anon.get(ASSETS)
        assert r.status_code == 401
        check_response(ASSETS, "get", 401, r.json())


# ---------------------------------------------------------------------- generations
def test_generation_is_held_until_the_asset_is_active(client: httpx.Client,
                                                      media: MediaServer) -> None:
    asset = create_asset(client, media.url("red.png"))
    began = time.monotonic()
    r = generate(client, image_url=f"asset://{asset['id']}")
    assert r.status_code == 200, r.text
    check_response(CREATE, "post", 200, r.json())
    assert time.monotonic() - began >= 0.2  # held while PROCESSING (0.4 s from creation)
    assert get_asset(client, asset["id"])["status"] == "ACTIVE"


def test_409_preparing_past_the_hold_bound(media: MediaServer) -> None:
    slow = Timings(queue_s=0.1, run_s=0.3, asset_ready_s=1.5, material_hold_s=0.2)
    with Emulator(timings=slow) as emu, client_for(emu) as c:
        asset = create_asset(c, media.url("red.png"))
        r = generate(c, image_url=f"asset://{asset['id']}")
        err = refused(r, CREATE, "post", 409, "seedance_material_preparing")
        assert err["material_asset_ids"] == [asset["id"]] and "auto_material_asset_ids" \
            not in err
        assert 0 < err["retry_after"] <= 1.5 and int(r.headers["retry-after"]) >= 1
        assert emu.task_count() == 0

        inline = data_url(png(BLUE, (64, 48)))
        r = generate(c, image_url=inline)
        err = refused(r, CREATE, "post", 409, "seedance_material_preparing")
        (auto_id,) = err["auto_material_asset_ids"]
        assert ASSET_ID.match(auto_id) and err["param"] == "material_asset_id"
        # The prepared material is the account's own asset, and the same bytes reuse it.
        assert get_asset(c, auto_id)["status"] == "PROCESSING"
        r = generate(c, image_url=inline)
        assert refused(r, CREATE, "post", 409, "seedance_material_preparing")[
            "auto_material_asset_ids"] == [auto_id]
        wait_status(c, auto_id)
        r = generate(c, image_url=inline)
        assert r.status_code == 200, r.text
        check_response(CREATE, "post", 200, r.json())
        assert r.json()["auto_material_asset_ids"] == [auto_id]
        assert emu.task_count() == 1


def test_assets_survive_a_restart_with_a_state_dir(tmp_path: Path,
                                                   media: MediaServer) -> None:
    state = tmp_path / "state"
    with Emulator(timings=TIMINGS, state_dir=state) as first, client_for(first) as c:
        asset = create_asset(c, media.url("red.png"), asset_name="kept")
        wait_status(c, asset["id"])
    with Emulator(timings=TIMINGS, state_dir=state) as second, client_for(second) as c:
        again = get_asset(c, asset["id"])
        assert (again["status"], again["asset_name"]) == ("ACTIVE", "kept")
        r = generate(c, image_url=f"asset://{asset['id']}")
        assert r.status_code == 200, r.text
