"""Files from server data: a task id never decides a path; every failure is a SeedanceError."""

from __future__ import annotations

from pathlib import Path

import pytest

from seedance_widgets import AmbiguousSubmitError, SeedanceError, TaskError
from seedance_widgets._errors import SaveError
from seedance_widgets._files import safe_filename

from .conftest import (
    CREATE,
    REQ,
    VIDEO,
    ambiguous_prints,
    client,
    done_body,
    serve_video,
    task_body,
)
from .server import HostileServer, Reply

HOSTILE_IDS = ["../../x", "/tmp/abs-evil", "..", "a/b/c", "C:\\evil\\x", "CON", "con.mp4",
               "x" * 300, "ünïcode-ид", ".hidden", "~/home-x", "a%2F..%2Fb"]


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("tid", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
async def test_a_hostile_task_id_saves_inside_the_videos_folder(
        server: HostileServer, journal, tmp_path: Path, _isolated_home: Path, tid: str) -> None:
    server.route("POST", CREATE, Reply(json=task_body(tid)))
    server.route("GET", "/v1/tasks/", Reply(json=done_body(server, "video")))
    serve_video(server)
    before = files_under(tmp_path)
    async with client(server, journal) as c:
        task = await c.create(REQ)
        path = await c.download(await c.get(task))
    videos = _isolated_home / "videos"
    assert task.id == tid  # the id itself is kept as the server spelt it
    assert path.parent == videos and path.read_bytes() == VIDEO
    assert len(path.name) <= 100 and "/" not in path.name and not path.name.startswith(".")
    written = files_under(tmp_path) - before
    outside = {p for p in written if videos not in p.parents and journal.path.parent
               not in p.parents}  # the history lives in its own folder
    assert written >= {path, path.with_name(path.name + ".json")} and not outside
    # What reached the server: the id only ever as one escaped path segment.
    polls = server.seen("GET", "/v1/tasks/")
    assert polls and all(p.path.count("/") == 3 for p in polls)


def test_safe_filename_rules() -> None:
    assert safe_filename("ldtask_abc123") == "ldtask_abc123.mp4"  # plain ids stay readable
    a, b = safe_filename("a/b"), safe_filename("a_b")
    assert a != b and a.startswith("a_b-") and b == "a_b.mp4"  # changed -> hashed, distinct
    assert len(safe_filename("y" * 5000)) <= 100
    assert safe_filename("..").startswith("task-") and safe_filename("").startswith("task-")
    assert safe_filename("nul").startswith("task_nul-")


async def test_an_id_with_nul_is_no_readable_id_so_the_create_is_ambiguous(
        server: HostileServer, journal) -> None:
    server.route("POST", CREATE, Reply(json=task_body("t\x001")))
    async with client(server, journal) as c:
        with pytest.raises(AmbiguousSubmitError, match="no readable task id"):
            await c.create(REQ)
    assert len(server.creates) == 1  # never resent
    assert ambiguous_prints(journal) == [REQ.fingerprint()]


async def test_a_user_folder_keeps_the_file_inside(server: HostileServer, tmp_path: Path) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=task_body(
        "../../../escape", "completed", video_url=f"{server.base_url}/cdn/v.mp4")))
    serve_video(server)
    out = tmp_path / "out"
    async with client(server) as c:
        path = await c.download("../../../escape", str(out) + "/")
    assert path.parent == out and path.read_bytes() == VIDEO
    assert not (tmp_path.parent / "escape.mp4").exists()


async def test_a_folder_that_cannot_be_made_is_a_save_error(server: HostileServer,
                                                            tmp_path: Path) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=done_body(server)))
    serve_video(server)
    blocker = tmp_path / "file"
    blocker.write_text("I am a file")
    async with client(server) as c:
        with pytest.raises(SaveError, match="cannot create the folder"):
            await c.download("t1", blocker / "sub" / "v.mp4")
    assert not server.seen("GET", "/cdn/")  # nothing fetched for a file that cannot be saved


async def test_a_lying_content_length_is_retried_then_refused(server: HostileServer,
                                                               tmp_path: Path) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=done_body(server)))
    server.route("GET", "/cdn/", Reply(body=VIDEO, content_length=len(VIDEO) + 100))
    async with client(server) as c:
        with pytest.raises(SeedanceError, match="download failed"):
            await c.download("t1", tmp_path / "v.mp4", timeout=10)
    assert len(server.seen("GET", "/cdn/")) == 3  # the policy's attempts, then an answer
    assert not list(tmp_path.glob("*v.mp4*"))  # no partial file left


async def test_a_result_over_max_bytes_stops_the_download(server: HostileServer,
                                                          tmp_path: Path) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=done_body(server)))
    serve_video(server, b"z" * 200_000)
    async with client(server) as c:
        with pytest.raises(SeedanceError, match="max_bytes"):
            await c.download("t1", tmp_path / "v.mp4", max_bytes=100_000)
    assert len(server.seen("GET", "/cdn/")) == 1 and not list(tmp_path.glob("*v.mp4*"))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "javascript:alert(1)",
                                 "https://cdn.example/a b.mp4", "https://cdn.example/v.mp4\n",
                                 "//cdn.example/v.mp4"])
async def test_result_urls_that_are_not_http_are_no_urls(server: HostileServer, tmp_path: Path,
                                                         url: str) -> None:
    server.route("GET", "/v1/tasks/", Reply(json=task_body("t1", "completed", video_url=url)))
    async with client(server) as c:
        task = await c.get("t1")
        assert task.video_url is None and task.succeeded
        with pytest.raises(TaskError, match="no video yet"):
            await c.download(task, tmp_path)
    assert not server.seen("GET", "/cdn/") and not list(tmp_path.rglob("*.mp4*"))
