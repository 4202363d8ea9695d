"""The CLI with local files: uploaded to a local-folder media host served on loopback, then
fetched by the emulator; and the exact advice when no media host is configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seedance_widgets import cli
from seedance_widgets.emulator import Emulator, Timings

from .media import BLUE, frames, media_server, mp4, png

SECRET = "sk-live-cli-secret-0123456789"


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("TOKENLAB_", "SEEDANCE_MEDIA_"))}
    base.update(SEEDANCE_WIDGETS_HOME=str(cwd / "home"), SEEDANCE_EMU_QUEUE_S="0.1",
                SEEDANCE_EMU_RUN_S="0.3", **env)
    return subprocess.run([sys.executable, "-m", "seedance_widgets", *args], cwd=cwd,
                          env=base, capture_output=True, text=True, timeout=180)


def test_local_clip_is_uploaded_referenced_and_fetched(tmp_path: Path) -> None:
    clip = tmp_path / "my clip.mp4"
    clip.write_bytes(mp4(BLUE, 3))
    folder = tmp_path / "published"
    with media_server(folder) as public, Emulator(
            api_keys=(SECRET,), timings=Timings(queue_s=0.1, run_s=0.3)) as emu:
        done = run_cli(["generate", "--prompt", "the clip, continued", "--duration", "4",
                        "--reference", str(clip), "--media-host", f"file://{folder}",
                        "--media-base-url", public.base_url, "--yes", "--out", "out.mp4"],
                       tmp_path, TOKENLAB_API_KEY=SECRET, TOKENLAB_BASE_URL=emu.base_url)
        assert done.returncode == 0, done.stderr
        assert "uploading my clip.mp4" in done.stderr and "100%" in done.stderr
        (uploaded,) = [p for p in folder.rglob("*") if p.is_file()]
        assert uploaded.read_bytes() == clip.read_bytes()
        url = public.base_url + str(uploaded.relative_to(folder))
        request = emu.tasks_snapshot()[0]["request"]
        assert request["video_urls"] == [url]
        assert request["operation"] == "reference-to-video"
        fetched = [h for h in public.hits if h.path == "/" + str(uploaded.relative_to(folder))]
        assert fetched, public.hits  # the emulator fetched the published file
        for hit in public.hits:  # ... and nobody sent the media host the API key
            assert "authorization" not in hit.headers
            assert SECRET not in json.dumps(hit.headers)
    assert SECRET not in done.stdout + done.stderr
    first = frames((tmp_path / "out.mp4").read_bytes())[0]
    blue = np.all(np.abs(first.astype(int) - np.array(BLUE)) <= 30, axis=-1).mean()
    assert blue > 0.05  # the clip's tile shows its first frame


def test_local_video_without_a_media_host_says_what_to_configure(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(mp4(BLUE, 3))
    done = run_cli(["generate", "--prompt", "pq", "--reference", str(clip)], tmp_path)
    assert done.returncode != 0
    for needed in ("--reference", "clip.mp4", "local video", "--media-host",
                   "--media-base-url", "SEEDANCE_MEDIA_HOST", "file:///srv/media"):
        assert needed in done.stderr, done.stderr
    assert "created" not in done.stdout


def test_estimate_takes_local_files_without_uploading(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    image, clip = tmp_path / "a.png", tmp_path / "b.mp4"
    image.write_bytes(png(BLUE))
    clip.write_bytes(b"not read")
    assert cli.main(["estimate", "--prompt", "pq", "--reference", str(image),
                     "--reference", str(clip), "--duration", "4"]) == 0
    assert "reference-to-video" in capsys.readouterr().out
    assert cli.main(["estimate", "--prompt", "pq", "--image", str(tmp_path / "nope.png")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["estimate", "--prompt", "pq", "--video", str(image)]) == 1
    assert "expected a video file" in capsys.readouterr().err
