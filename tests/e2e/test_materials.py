"""Issue #12's panel parts in real JupyterLab and Chromium: the assets drawer, "Register as
asset" with its live status, and a local MP4 dropped into the panel, uploaded to a local-folder
media host only when asked, then fetched by the emulator.

"Public" media come from real loopback web servers (tests/media.py), which log every request
with its headers, so the tests can tell who fetched what and that no API key went along.
Screenshots for review: artifacts/e2e/materials-{drawer,upload}-{light,dark}.png.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seedance_widgets.emulator import Emulator, Timings

from ..media import (
    BLUE,
    GREEN,
    RED,
    YELLOW,
    MediaServer,
    frames,
    media_server,
    mp4,
    quadrants,
    region_mean,
)
from .harness import ARTIFACTS_DIR
from .steps import STATUS, generate, kernel_value, open_panel, use_theme, wait_for

# Inner parts of the four quadrants, clear of the emulator's overlays (as in
# tests/test_emulator_inputs.py), and the tolerance after H.264 and a rescale.
QUADS = {RED: (0.1, 0.1, 0.4, 0.4), GREEN: (0.6, 0.1, 0.9, 0.4),
         BLUE: (0.1, 0.6, 0.4, 0.85), YELLOW: (0.6, 0.6, 0.9, 0.85)}
TOLERANCE = 24


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    # PROCESSING lasts long enough to be seen in the page.
    with Emulator(timings=Timings(queue_s=0.3, run_s=1.2, asset_ready_s=2.5)) as emu:
        yield emu


@pytest.fixture
def site(tmp_path: Path) -> Iterator[MediaServer]:
    with media_server(tmp_path / "public") as server:
        yield server


def shoot(nb: Any, name: str) -> Path:
    """The panel alone, for review."""
    path = ARTIFACTS_DIR / f"materials-{name}.png"
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    nb.widget(0).scroll_into_view_if_needed()
    nb.widget(0).screenshot(path=str(path))
    return path


def test_register_a_loopback_url_insert_it_and_the_video_starts_on_it(
        notebook: Any, emulator: Emulator, site: MediaServer) -> None:
    url = site.put("product.png", quadrants())
    nb = open_panel(notebook, emulator, operation="reference-to-video", duration=4,
                    prompt="the product turns slowly")
    # a URL reference, registered from its item; its status is live until it ends
    refs = nb.widget(0, "[data-testid=reference-url-input]").first
    refs.fill(url)
    refs.press("Enter")
    item = nb.widget(0, "[data-testid=reference-item]").first
    item.wait_for(state="visible", timeout=15_000)
    item.locator("[data-testid=register-asset]").click()
    status = item.locator("[data-testid=asset-status]").first
    wait_for(lambda: status.is_visible() and status.inner_text() == "PROCESSING", 20,
             "PROCESSING")
    shots = [shoot(nb, "register-processing-light")]
    wait_for(lambda: status.inner_text() == "ACTIVE", 30, "ACTIVE")
    asset_id = status.get_attribute("title") or ""
    assert asset_id.startswith("asset-")
    name = item.locator(".sw-ref-name").first
    wait_for(lambda: name.get_attribute("title") == f"asset://{asset_id}", 15,
             "the reference uses the asset")
    notice = nb.widget(0, "[data-testid=notice]").first
    assert f"the form uses asset://{asset_id}" in notice.inner_text()
    picture = item.locator("img.sw-thumb").first  # the asset keeps its picture
    wait_for(lambda: picture.evaluate("i => i.complete && i.naturalWidth") == 640, 10,
             "the asset's picture")
    shots.append(shoot(nb, "register-active-light"))
    assert item.locator("[data-testid=register-asset]").count() == 0
    assert any(h.path == "/product.png" and "SeedanceEmulator" in h.headers.get("user-agent", "")
               for h in site.hits), "the emulator fetched the source"

    # the drawer: ACTIVE assets with thumbnails; a click puts it in the operation's image field
    nb.widget(0, "[data-testid=operation]").first.select_option("image-to-video")
    nb.widget(0, "[data-testid=assets-toggle]").first.click()
    drawer = nb.widget(0, "[data-testid=assets-drawer]").first
    drawer.wait_for(state="visible", timeout=10_000)
    card = drawer.locator(f"[data-testid=asset-item][data-asset-id='{asset_id}']").first
    card.wait_for(state="visible", timeout=15_000)
    assert "product.png" in card.inner_text()
    thumb = card.locator("img").first
    wait_for(lambda: thumb.evaluate("i => i.complete && i.naturalWidth") == 640, 10,
             "the thumbnail")
    assert drawer.locator("[data-testid=asset-target]").first.input_value() == "image_url"
    shots.append(shoot(nb, "drawer-light"))
    try:
        use_theme(nb.page, "JupyterLab Dark", light=False)
        time.sleep(0.8)
        shots.append(shoot(nb, "drawer-dark"))
    finally:
        use_theme(nb.page, "JupyterLab Light", light=True)
    card.click()
    image = nb.widget(0, "[data-testid=image-url]").first
    wait_for(lambda: image.input_value() == f"asset://{asset_id}", 15, "inserted")

    generate(nb)
    panel_card = nb.widget(0, "[data-testid=panel-card]").first
    wait_for(lambda: panel_card.locator(STATUS).first.inner_text().strip() == "completed", 60,
             "completed")
    assert emulator.tasks_snapshot()[0]["request"]["image_url"] == f"asset://{asset_id}"
    saved = kernel_value(nb, "panel.current.live['saved_path']",
                         "panel.current.live['saved_path']", timeout=30)
    first = frames(Path(saved).read_bytes())[0]
    for color, box in QUADS.items():
        mean = region_mean(first, box)
        assert np.all(np.abs(mean - np.array(color)) <= TOLERANCE), (box, mean.round(), color)
    assert all(p.exists() for p in shots)


SLOW_HOST = """\
import time
from seedance_widgets import AsyncSeedanceClient, FsspecMediaHost, History, SeedancePanel

class SlowHost(FsspecMediaHost):
    # A local-folder host whose copy takes 20 steps of 0.35 s, so progress can be watched.
    def _copy(self, path, remote, total, progress):
        data = path.read_bytes()
        step = max(1, -(-len(data) // 20))
        progress(0, total)
        with self._fs.open(remote, 'wb') as dst:
            for i in range(0, len(data), step):
                time.sleep(0.35)
                dst.write(data[i:i + step])
                progress(min(i + step, total), total)

client = AsyncSeedanceClient({key!r}, {url!r}, history=History('media.sqlite3'))
panel = SeedancePanel(client, media_host=SlowHost({folder!r}, {base!r}), duration=4,
                      operation='reference-to-video', prompt='continue @video1')
panel"""


def test_dropped_mp4_is_uploaded_when_asked_and_the_emulator_fetches_it(
        notebook: Any, emulator: Emulator, site: MediaServer, tmp_path: Path) -> None:
    clip = tmp_path / "take 3.mp4"
    clip.write_bytes(mp4(GREEN, 3))
    nb = notebook([
        SLOW_HOST.format(key=emulator.api_key, url=emulator.base_url, folder=str(site.root),
                         base=site.base_url),
        "SeedancePanel(client, operation='reference-to-video', prompt='no host here')",
    ])
    nb.run_all()
    nb.wait_cell_done(1, timeout=90)
    # a real file chosen in the drop zone's file input
    nb.widget(0, "[data-testid=reference-file-input]").first.set_input_files(str(clip))
    item = nb.widget(0, "[data-testid=reference-item]").first
    item.wait_for(state="visible", timeout=15_000)
    upload = item.locator("[data-testid=upload]").first
    upload.wait_for(state="visible", timeout=15_000)
    assert "not uploaded yet" in item.locator("[data-testid=upload-status]").inner_text()
    reason = nb.widget(0, "[data-testid=generate-reason]").first
    assert "not uploaded yet" in reason.inner_text()
    assert "$" in nb.widget(0, "[data-testid=price]").first.inner_text()  # priced first
    assert not any(site.root.iterdir()), "nothing is published before Upload"
    shots = [shoot(nb, "upload-pending-light")]

    upload.click()
    bar = item.locator("[data-testid=upload-progress]").first
    bar.wait_for(state="visible", timeout=15_000)
    wait_for(lambda: 5 <= int(bar.get_attribute("aria-valuenow") or 0) < 60, 15, "progress")
    shots.append(shoot(nb, "upload-light"))
    try:
        use_theme(nb.page, "JupyterLab Dark", light=False)
        time.sleep(0.3)
        assert int(bar.get_attribute("aria-valuenow") or 0) < 100, "still uploading"
        shots.append(shoot(nb, "upload-dark"))
    finally:
        use_theme(nb.page, "JupyterLab Light", light=True)
    name = item.locator(".sw-ref-name").first
    wait_for(lambda: (name.get_attribute("title") or "").startswith(site.base_url), 30,
             "the reference uses the public URL")
    public = name.get_attribute("title") or ""
    assert public.endswith("/take-3.mp4")
    wait_for(lambda: not reason.is_visible() or "upload" not in reason.inner_text(), 10,
             "Generate on")

    generate(nb)
    panel_card = nb.widget(0, "[data-testid=panel-card]").first
    wait_for(lambda: panel_card.locator(STATUS).first.inner_text().strip() == "completed", 60,
             "completed")
    assert emulator.tasks_snapshot()[0]["request"]["video_urls"] == [public]
    path = public.removeprefix(site.base_url.rstrip("/"))
    by_emulator = [h for h in site.hits if h.path == path
                   and "SeedanceEmulator" in h.headers.get("user-agent", "")]
    assert by_emulator, f"the emulator never fetched {path}: {site.hits}"
    for hit in site.hits:  # the media host never saw the API key
        assert "authorization" not in hit.headers, hit
        assert emulator.api_key not in repr(hit), hit

    # a panel with no media host says exactly what to configure
    nb.widget(1, "[data-testid=reference-file-input]").first.set_input_files(str(clip))
    message = nb.widget(1, ".sw-zone-msg").first
    wait_for(lambda: "media_host=FsspecMediaHost(" in message.inner_text(), 15, "the help")
    assert "SEEDANCE_MEDIA_HOST" in message.inner_text()
    assert nb.widget(1, "[data-testid=reference-item]").count() == 0
    assert all(p.exists() for p in shots)
