"""Inputs that should be refused are refused before anything is sent, with a message that names
its field once; inputs that are fine (multi-line prompts, emoji sequences) still go out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from seedance_widgets._request import error_lines

from .conftest import CREATE, client, record_created, recorded_anything, task_body
from .server import HostileServer, Reply

ASSET = "asset://asset-20260720123456-abc12"
DATA = "data:image/png;base64,iVBORw0KGgo="
T2V = {"model": "seedance-2.0", "prompt": "a paper boat"}
I2V = {**T2V, "operation": "image-to-video"}

# (id, fields, the field the message must name, words it must contain)
REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    ("zero-width", {**T2V, "prompt": "\u200b\u200b\u200b"}, "prompt", "blank"),
    ("fillers", {**T2V, "prompt": "\u3164\u115f \u2800\u3164"}, "prompt", "blank"),
    ("bidi-marks", {**T2V, "prompt": "\u200e\u200f\u2066"}, "prompt", "blank"),
    ("combining-only", {**T2V, "prompt": "\u0301\u0301\u0301"}, "prompt", "blank"),
    ("nul", {**T2V, "prompt": "\x00\x00"}, "prompt", "control character"),
    ("nul-inside", {**T2V, "prompt": "a fox\x00 in snow"}, "prompt", "control character"),
    ("bell", {**T2V, "prompt": "a fox \x07"}, "prompt", "control character"),
    ("one-char", {**T2V, "prompt": "a"}, "prompt", "at least 2"),
    ("one-char-padded", {**T2V, "prompt": "  a\u200b "}, "prompt", "at least 2"),
    ("lone-surrogate", {**T2V, "prompt": "caf\udce9 au lait"}, "prompt", "cannot be encoded"),
    ("seed-true", {**T2V, "seed": True}, "seed", "whole number"),
    ("duration-true", {**T2V, "duration": True}, "duration", "whole number"),
    ("duration-huge", {**T2V, "duration": 10**5000}, "duration", "out of range"),
    ("duration-text", {**T2V, "duration": "5"}, "duration", "whole number"),
    ("seed-fraction", {**T2V, "seed": 1.5}, "seed", "whole number"),
    ("seed-nan", {**T2V, "seed": float("nan")}, "seed", "whole number"),
    ("priority-big", {**T2V, "priority": 10**30}, "priority", "out of range"),
    ("empty-data", {**I2V, "image_url": "data:image/png;base64,"}, "image_url", "no image data"),
    ("spaced-data", {**I2V, "image_url": DATA[:-4] + " " + DATA[-4:]}, "image_url", "base64"),
    ("url-newline", {**I2V, "image_url": "https://example.com/a.png\n"}, "image_url",
     "line break"),
    ("url-space", {**I2V, "image_url": "https://example.com/a.png "}, "image_url", "spaces"),
    ("asset-newline", {**I2V, "image_url": ASSET + "\n"}, "image_url", "line break"),
    ("reference-newline", {**T2V, "operation": "reference-to-video",
                           "reference_images": ["https://example.com/a.png", ASSET + "\n"]},
     "reference_images", "line break"),
    ("asset-id-newline", {**T2V, "operation": "reference-to-video",
                          "material_asset_ids": ["asset-20260720123456-abc12\n"]},
     "material_asset_ids", "line break"),
    ("task-id-newline", {"model": "seedance-2.0", "task_id": "ldtask_1\n"}, "task_id",
     "line break"),
    ("task-id-space", {"model": "seedance-2.0", "task_id": "ldtask 1"}, "task_id", "no spaces"),
    ("user-control", {**T2V, "user": "u\x1b[31m"}, "user", "control character"),
    ("model-surrogate", {**T2V, "model": "seedance\udcff"}, "model", "cannot be encoded"),
]


@pytest.mark.parametrize(("fields", "field", "words"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
async def test_refused_before_anything_is_sent(server: HostileServer, journal,
                                               fields: dict[str, Any], field: str,
                                               words: str) -> None:
    server.route("POST", CREATE, Reply(json=task_body()))
    async with client(server, journal) as c:
        with pytest.raises(ValidationError) as info:
            await c.create(**fields)
    assert not server.seen()  # nothing reached the server...
    assert not recorded_anything(journal)  # ...and no intent was recorded either
    lines = error_lines(info.value)
    assert len(lines) == 1 and lines[0].startswith(field), lines
    assert words in lines[0]
    assert lines[0].count(f"{field}:") <= 1 and f"{field}: {field}" not in lines[0]
    assert lines[0].encode("utf-8")  # printable: no lone surrogate in the message
    assert info.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize("prompt", ["line one\nline two\ttabbed", "👩\u200d💻 codes at night",
                                    "ok", "été à Paris", "山 (mountain)"])
async def test_fine_prompts_go_out_exactly(server: HostileServer, journal, prompt: str) -> None:
    server.route("POST", CREATE, Reply(json=task_body()))
    async with client(server, journal) as c:
        await c.create(model="seedance-2.0", prompt=prompt)
    (sent,) = server.creates
    assert json.loads(sent.body)["prompt"] == prompt


def test_a_stored_request_refused_by_todays_rules_stays_resumable() -> None:
    from seedance_widgets import VideoRequest

    assert VideoRequest.from_stored({"model": "seedance-2.0", "prompt": "p"}) is None
    assert VideoRequest.from_stored({"model": "seedance-2.0", "prompt": "pq"}) is not None
    assert VideoRequest.from_stored("junk") is None


async def test_resume_follows_a_task_whose_old_request_is_refused_now(
        server: HostileServer, journal) -> None:
    record_created(journal, "old1", server.base_url,
                   {"model": "seedance-2.0", "prompt": "p"})  # sent before the rule existed
    server.route("GET", "/v1/tasks/", Reply(json=task_body("old1", "processing")))
    async with client(server, journal) as c:
        (task,) = await c.resume_unfinished()
    assert task.id == "old1" and task.request is None
    assert [r.path for r in server.seen()] == ["/v1/tasks/old1"]


def test_pydantic_messages_are_named_too() -> None:
    from seedance_widgets import VideoRequest

    with pytest.raises(ValidationError) as info:
        VideoRequest(model="seedance-2.0", prompt=42, output_audio="loud")  # type: ignore[arg-type]
    lines = error_lines(info.value)
    assert any(line.startswith("prompt should be a valid string") for line in lines)
    assert any(line.startswith("output_audio") for line in lines)
