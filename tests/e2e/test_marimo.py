"""The panel, the gallery and a TaskWidget in a real marimo app (`marimo run`) in Chromium.

The app is what a marimo user writes: a panel in demo mode (the kernel's own emulator), its
gallery, and a task started from code shown by a TaskWidget. What a marimo front end does
differently is what this checks: views live in shadow roots, cards are child models found
through `host.getModel`, messages from the page arrive as separate HTTP requests (with their
binary buffers as base64), the kernel answers nothing while a cell runs, running a cell
again closes every model it made (the button below re-runs the TaskWidget's cell), and
`marimo run` serves a second viewer from another kernel thread of the same process.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..media import GREEN, mp4
from .harness import ARTIFACTS_DIR, free_port, server_env
from .steps import DROP_PNG, GEN, STATUS, assert_video_plays, luminance, wait_for

pytest.importorskip("marimo", reason="marimo is not installed (pip install -e '.[test]')")

APP = textwrap.dedent('''
    import marimo

    app = marimo.App()


    @app.cell
    def _():
        import marimo as mo
        from seedance_widgets import (FsspecMediaHost, Gallery, SeedancePanel, TaskWidget,
                                      VideoRequest)

        # videos reach the page as bytes from the kernel: custom messages with buffers
        panel = SeedancePanel(prompt="a red fox running through fresh snow",
                              video_delivery="kernel",
                              media_host=FsspecMediaHost("MEDIA_DIR", "http://127.0.0.1:9/m"))
        panel
        return Gallery, TaskWidget, VideoRequest, mo, panel


    @app.cell
    def _(panel):
        panel.gallery
        return


    @app.cell
    async def _(VideoRequest, mo, panel):
        started = await panel.client.create(VideoRequest(
            model="seedance-2.0-fast", prompt="a paper boat on a pond", duration=4))
        again = mo.ui.button(value=0, on_click=lambda n: n + 1, label="Show the task again")
        again
        return again, started


    @app.cell
    def _(TaskWidget, again, panel, started):
        again.value  # a click runs this cell again, and marimo closes the models it made
        TaskWidget(started, client=panel.client)
        return


    @app.cell
    def _(Gallery, panel):
        Gallery.from_history(panel.client, title="History")  # every viewer's runs
        return


    @app.cell
    def _():
        import time

        time.sleep(7)  # a slow cell: the kernel answers no widget message meanwhile
        return


    if __name__ == "__main__":
        app.run()
''')


@dataclass
class MarimoApp:
    url: str
    home: Path  # SEEDANCE_WIDGETS_HOME of the app's kernel
    proc: subprocess.Popen[bytes]
    log: Path

    def emulator_tasks(self) -> int:
        """Tasks the demo emulator made (it keeps one JSON file per task in its state dir)."""
        return len(list((self.home / "emulator").glob("ldtask_*.json")))

    def log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


@pytest.fixture
def marimo_app(tmp_path: Path) -> Iterator[MarimoApp]:
    env = server_env(tmp_path)  # HOME, XDG and SEEDANCE_WIDGETS_HOME in tmp; no API key
    env.update(SEEDANCE_EMU_QUEUE_S="0.5", SEEDANCE_EMU_RUN_S="1.5",
               MARIMO_SKIP_UPDATE_CHECK="1")
    root = tmp_path / "root"
    root.mkdir()
    (root / "app.py").write_text(APP.replace("MEDIA_DIR", str(tmp_path / "published")))
    port = free_port()
    log = tmp_path / "marimo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "marimo", "run", "app.py", "--headless", "--no-token",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    app = MarimoApp(f"http://127.0.0.1:{port}", Path(env["SEEDANCE_WIDGETS_HOME"]), proc, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"marimo exited with {proc.returncode}:\n{app.log_tail()}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(app.url + "/health", timeout=2).close()
                break
            if time.monotonic() > deadline:
                pytest.fail(f"marimo did not answer in 60 s:\n{app.log_tail()}")
            time.sleep(0.2)
        yield app
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    import psutil

    children: list[Any] = []
    with contextlib.suppress(psutil.Error):
        children = psutil.Process(proc.pid).children(recursive=True)
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.kill()


def test_panel_gallery_and_task_widget_in_marimo(marimo_app: MarimoApp, browser: Any,
                                                  tmp_path: Path) -> None:
    errors: list[str] = []
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
        page.goto(marimo_app.url)
        return page

    page = open_page()
    try:
        started = _panel_and_task_widget(page, marimo_app)
        _generate_and_rerun(page, marimo_app)
        _drops(page, marimo_app, tmp_path / "take 1.mp4")
        _cell_runs_again(page)
        _second_viewer(page, open_page(), started)
        _dark_theme(page)
    except BaseException:
        print(f"[marimo] page errors: {errors}\n[marimo] server log:\n{marimo_app.log_tail()}")
        raise
    finally:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.set_viewport_size({"width": 1280, "height": 2600})  # marimo scrolls a box
            page.screenshot(path=str(ARTIFACTS_DIR / "marimo-final.png"))
        for context in contexts:
            context.close()
    assert not errors, errors
    assert marimo_app.emulator_tasks() == 4  # two TaskWidget tasks, Generate, its re-run


def _panel_and_task_widget(page: Any, app: MarimoApp) -> str:
    """The panel renders inside marimo's shadow root, styled, with its price and demo badge;
    the task started from code completes and plays (URL delivery). Returns its id."""
    price = page.locator("[data-testid=price]").first
    price.wait_for(state="visible", timeout=60_000)
    wait_for(lambda: "$" in price.inner_text(), 20, "the price")
    assert page.locator("[data-testid=demo-badge]").first.is_visible()
    gen = page.locator(GEN).first
    assert gen.evaluate("b => getComputedStyle(b).backgroundColor") not in ("", "rgba(0, 0, 0, 0)")

    # While the slow cell runs the panel's ping goes unanswered: it says the kernel is busy
    # (marimo gives a widget no kernel status), never that it was lost, and recovers.
    busy = page.locator("[data-testid=kernel-busy]").first
    lost = page.locator("[data-testid=kernel-lost]").first
    wait_for(lambda: busy.is_visible(), 15, "the busy note during the slow cell")
    assert not lost.is_visible()
    wait_for(lambda: not busy.is_visible(), 20, "the kernel's answer after the slow cell")
    assert not lost.is_visible()

    task_card = page.locator("[data-testid=task-card]")
    wait_for(lambda: _status(task_card) == "completed", 30, "the TaskWidget's task completed")
    assert_video_plays(task_card.first.locator("[data-testid=video]"))
    assert app.emulator_tasks() == 1
    return (task_card.first.locator("[data-testid=card-id]").text_content() or "").strip()


def _generate_and_rerun(page: Any, app: MarimoApp) -> None:
    """Generate makes exactly one task; the panel's and the gallery's cards play the video sent
    by the kernel (buffers from Python to the page); Re-run from the gallery card loads the
    form and the next Generate makes the re-run."""
    gen = page.locator(GEN).first
    wait_for(lambda: gen.get_attribute("aria-disabled") == "false", 20, "Generate enabled")
    gen.click()
    wait_for(lambda: app.emulator_tasks() == 2, 15, "one task created")
    panel_card = page.locator("[data-testid=panel-card]")
    wait_for(lambda: _status(panel_card) == "completed", 30, "the panel's card completed")
    assert_video_plays(panel_card.first.locator("[data-testid=video]"))
    assert panel_card.first.locator("video").evaluate("v => v.currentSrc").startswith("blob:")
    gallery = _gallery(page, "Seedance runs")
    wait_for(lambda: gallery.count() == 1 and _status(gallery) == "completed", 20, "gallery")
    assert_video_plays(gallery.first.locator("[data-testid=video]"))
    first_id = (gallery.first.locator("[data-testid=card-id]").text_content() or "").strip()
    assert first_id.startswith("ldtask_") and app.emulator_tasks() == 2
    page.screenshot(path=str(ARTIFACTS_DIR / "marimo-generated.png"))

    gallery.first.locator("[data-testid=rerun]").click()
    notice = page.locator("[data-testid=notice]").first
    wait_for(lambda: f"rerun of {first_id}" in notice.inner_text(), 15, "the re-run loaded")
    wait_for(lambda: gen.get_attribute("aria-disabled") == "false", 20, "Generate enabled")
    gen.click()
    wait_for(lambda: gallery.count() == 2 and _status(gallery) == "completed", 30, "the re-run")
    origin = gallery.first.locator("[data-testid=card-details]").text_content() or ""
    assert f"Re-run of {first_id}" in origin and app.emulator_tasks() == 3


def _drops(page: Any, app: MarimoApp, clip: Path) -> None:
    """Dropped files reach the kernel (buffers from the page to Python): an image is decoded
    there (a fake one refused), a video clip is kept for the media host's Upload."""
    notice = page.locator("[data-testid=notice]").first
    page.locator("[data-testid=operation]").first.select_option("reference-to-video")
    zone = page.locator("[data-testid=drop-zone]").first
    zone.wait_for(state="visible", timeout=15_000)
    zone.evaluate(DROP_PNG, False)
    refs = page.locator("[data-testid=reference-item]")
    wait_for(lambda: refs.count() == 1 and "added red.png" in notice.inner_text(), 15, "image")
    zone.evaluate(DROP_PNG, True)
    wait_for(lambda: "zeros.png is not a readable PNG" in notice.inner_text(), 15, "refusal")
    clip.write_bytes(mp4(GREEN, 2))
    page.locator("[data-testid=reference-file-input]").first.set_input_files(str(clip))
    status = refs.locator("[data-testid=upload-status]")
    wait_for(lambda: refs.count() == 2 and "not uploaded yet" in (
        status.first.text_content() or ""), 15, "the clip kept in the kernel")
    assert not any((app.home.parent / "published").glob("**/*.mp4"))  # nothing published


def _cell_runs_again(page: Any) -> None:
    """Running the TaskWidget's cell again (marimo closes the models that cell made): the new
    view gets a live card of the same task, not the closed one."""
    task_card = page.locator("[data-testid=task-card]")
    old = task_card.first.element_handle()
    page.get_by_role("button", name="Show the task again").click()
    wait_for(lambda: not old.evaluate("e => e.isConnected"), 15, "the cell run again")
    wait_for(lambda: task_card.count() == 1 and _status(task_card) == "completed", 20,
             "the re-shown TaskWidget's card")
    assert_video_plays(task_card.first.locator("[data-testid=video]"))


def _second_viewer(page: Any, other: Any, started: str) -> None:
    """A second viewer gets a kernel thread of the same process: its history shows every run
    with card models of its own, and a Re-run in one viewer fills only that viewer's panel."""
    history = _gallery(other, "History")
    wait_for(lambda: history.count() == 4, 20, "the second viewer's history of 4 runs")
    wait_for(lambda: sum(_status(history.nth(k)) == "completed" for k in range(4)) >= 3, 20,
             "the earlier runs shown completed")
    page.locator("[data-testid=task-card] [data-testid=rerun]").first.click()
    notice = page.locator("[data-testid=notice]").first
    wait_for(lambda: f"rerun of {started}" in notice.inner_text(), 15, "the viewer's own panel")
    other_notice = other.locator("[data-testid=notice]").first
    assert started not in (other_notice.text_content() or "")


def _dark_theme(page: Any) -> None:
    """marimo's dark theme (its `dark` class sets the page's color-scheme): the widgets follow."""
    brand = page.locator(".sw-brand").first
    assert luminance(brand.evaluate("e => getComputedStyle(e).color")) < 0.2
    page.evaluate("document.body.classList.add('dark')")
    wait_for(lambda: luminance(brand.evaluate("e => getComputedStyle(e).color")) > 0.5, 10,
             "light text in the dark theme")
    card_bg = _gallery(page, "Seedance runs").first.evaluate(
        "e => getComputedStyle(e).backgroundColor")
    assert luminance(card_bg) < 0.05, card_bg
    page.set_viewport_size({"width": 1280, "height": 2600})  # marimo scrolls an inner box
    page.screenshot(path=str(ARTIFACTS_DIR / "marimo-dark.png"))


def _gallery(page: Any, title: str) -> Any:
    """The cards of the gallery with this title."""
    box = page.locator(".sw-gallery").filter(has=page.locator(".sw-title", has_text=title))
    return box.locator("[data-testid=gallery-card]")


def _status(cards: Any) -> str:
    if not cards.count():
        return ""
    return re.sub(r"\s+", " ", cards.first.locator(STATUS).first.text_content() or "").strip()
