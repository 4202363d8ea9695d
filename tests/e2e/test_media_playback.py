"""An emulator MP4 with sound plays in real Chromium (a plain loopback page, no JupyterLab).

Signals, each independent of an audio output device (headless Chromium may have none):
- the <video> element reaches HAVE_CURRENT_DATA or better, plays past 0.5 s, raises no error
  and reports decoded audio bytes (`webkitAudioDecodedByteCount`);
- Web Audio's `decodeAudioData` (in an OfflineAudioContext) decodes the file's AAC track to
  samples whose RMS is well above silence, and a silent file decodes to no audio at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedance_widgets.emulator import Emulator, Timings

from ..media import MediaServer, media_server

PAGE = """<!doctype html><meta charset="utf-8"><title>playback</title>
<video id="v" muted playsinline preload="auto"></video>"""

PLAY_JS = """async (url) => {
  const v = document.getElementById('v');
  const errors = [];
  v.addEventListener('error', () => errors.push(v.error ? v.error.code : 'error'));
  v.src = url;
  await v.play();
  const began = performance.now();
  while (v.currentTime < 0.6 && performance.now() - began < 15000) {
    await new Promise(r => setTimeout(r, 50));
  }
  return {readyState: v.readyState, currentTime: v.currentTime, errors,
          audioBytes: v.webkitAudioDecodedByteCount, videoBytes: v.webkitVideoDecodedByteCount,
          width: v.videoWidth, height: v.videoHeight};
}"""

DECODE_JS = """async (url) => {
  const data = await (await fetch(url)).arrayBuffer();
  const ctx = new OfflineAudioContext(1, 48000, 48000);
  try {
    const audio = await ctx.decodeAudioData(data);
    const ch = audio.getChannelData(0);
    let sum = 0;
    for (let i = 0; i < ch.length; i++) sum += ch[i] * ch[i];
    return {ok: true, channels: audio.numberOfChannels, seconds: audio.duration,
            rms: Math.sqrt(sum / ch.length)};
  } catch (e) {
    return {ok: false, error: String(e)};
  }
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    with media_server(tmp_path_factory.mktemp("site")) as server:
        server.put("index.html", PAGE.encode())
        yield server


def _render(emu: Emulator, **fields: Any) -> str:
    with httpx.Client(base_url=emu.base_url, timeout=30,
                      headers={"Authorization": f"Bearer {emu.api_key}"}) as c:
        r = c.post("/v1/videos/generations", json={"model": "seedance-2.0-fast", "duration": 4,
                                                     "prompt": "a chirp", **fields})
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30
        while (task := c.get(f"/v1/tasks/{r.json()['id']}").json())["status"] != "completed":
            assert task["status"] != "failed" and time.monotonic() < deadline, task
            time.sleep(0.05)
        return str(task["video_url"])


def test_emulator_mp4_with_audio_plays_in_chromium(browser: Any, site: MediaServer,
                                                  tmp_path: Path) -> None:
    with Emulator(timings=Timings(queue_s=0, run_s=0.1)) as emu:
        # The page and the video share the loopback host, as a notebook and its files would.
        site.put("sound.mp4", httpx.get(_render(emu, seed=7)).content)
        site.put("silent.mp4", httpx.get(_render(emu, seed=7, output_audio=False)).content)
    page = browser.new_page()
    try:
        page.goto(site.url("index.html"))
        played = page.evaluate(PLAY_JS, site.url("sound.mp4"))
        assert played["errors"] == [], played
        assert played["readyState"] >= 2 and played["currentTime"] >= 0.5, played
        assert played["width"] > 0 and played["videoBytes"] > 0, played
        assert played["audioBytes"] > 0, played  # Chromium decoded the AAC track
        sound = page.evaluate(DECODE_JS, site.url("sound.mp4"))
        assert sound["ok"] and sound["channels"] >= 1, sound
        assert sound["seconds"] == pytest.approx(4, abs=0.1) and sound["rms"] > 0.05, sound
        silent = page.evaluate(DECODE_JS, site.url("silent.mp4"))
        assert not silent["ok"], silent  # no audio track to decode
    finally:
        page.close()
