"""Material assets (`client.assets`) meet the same hostile server: one retry loop, answers read
through the one entry point, deadlines kept, the key scrubbed, creates never resent."""

from __future__ import annotations

import time

import pytest

from seedance_widgets import APIConnectionError, AuthenticationError
from seedance_widgets._errors import AssetTimeoutError

from .conftest import KEY, client
from .server import HostileServer, Reply, Silence

ASSETS = "/v1/videos/assets"
PROCESSING = {"id": "asset-20260720123456-abc12", "object": "seedance.material_asset",
              "status": "PROCESSING", "asset_type": "Image", "ready": False,
              "library_type": "aigc_avatar"}


@pytest.mark.parametrize("answer", [Reply(body=b"<html>ok</html>"), Reply(body=b"[" * 50_000),
                                    Reply(body=b"", trickle=(1, 0.05), endless=True)],
                         ids=["html", "deep", "trickle"])
async def test_an_unreadable_asset_create_is_said_and_never_resent(server: HostileServer,
                                                                   answer: Reply) -> None:
    server.route("POST", ASSETS, answer)
    async with client(server, timeout=0.5) as c:
        with pytest.raises(APIConnectionError, match=r"may (exist|have reached)"):
            await c.assets.create("https://cdn.example/a.png")
    assert len(server.seen("POST", ASSETS)) == 1


async def test_an_echoed_key_in_an_asset_error_is_scrubbed(server: HostileServer) -> None:
    server.route("POST", ASSETS, lambda req: Reply(401, json={"error": {
        "message": f"no such key: {req.headers['authorization']}", "type": "invalid_api_key"}}))
    async with client(server) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.assets.create("https://cdn.example/a.png")
    assert KEY not in str(info.value) and KEY not in repr(info.value.body)


async def test_waiting_for_an_asset_ends_by_its_deadline(server: HostileServer) -> None:
    server.route("GET", ASSETS, [Reply(json=PROCESSING), Silence()])
    async with client(server) as c:
        t0 = time.monotonic()
        with pytest.raises(AssetTimeoutError, match="still PROCESSING"):
            await c.assets.wait_active(PROCESSING["id"], timeout=1.5)
    assert time.monotonic() - t0 <= 2.5 and len(server.seen("GET", ASSETS)) >= 2
