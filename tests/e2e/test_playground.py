"""Issue #11's playground in real JupyterLab and Chromium: the three card actions on every card,
copy-code run in a fresh demo kernel, the gallery (pages, search, stars, compare, layout), a
reopened saved notebook, and the look at 600, 900 and 1400 px in light and dark.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_widgets.emulator import Emulator, Timings

from .harness import ARTIFACTS_DIR
from .steps import (
    DROP_PNG,
    GEN,
    STATUS,
    assert_video_plays,
    finish_one,
    generate,
    kernel_value,
    open_panel,
    use_theme,
    wait_for,
)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(timings=Timings(queue_s=0.3, run_s=1.2)) as emu:
        yield emu


def test_card_actions_work_on_every_card(notebook: Any, emulator: Emulator) -> None:
    """Why: "dead buttons" (the panel card's Extend, Use last frame and Re-run did nothing),
    "extend needs a typed id" and "wrong estimates" (the source's known length is used)."""
    nb = open_panel(notebook, emulator, model="seedance-2.0", prompt="a kite over a beach",
                    duration=4, return_last_frame=True,
                    extra=["from seedance_widgets import TaskWidget"])
    finish_one(nb)
    first = emulator.tasks_snapshot()[0]["id"]
    i = nb.add_cell_and_run("TaskWidget(panel.tasks[0])")
    task_card = nb.widget(i, "[data-testid=task-card]").first
    wait_for(lambda: task_card.locator(STATUS).first.inner_text().strip() == "completed", 30,
             "the task widget")
    panel_card = nb.widget(0, "[data-testid=panel-card]").first
    gallery_card = nb.widget(1, "[data-testid=gallery-card]").first
    op = nb.widget(0, "[data-testid=operation]").first
    prompt = nb.widget(0, "[data-testid=prompt]").first

    # Extend, on the panel's own card: a picker of finished tasks, priced on the known 4 s.
    panel_card.locator("[data-testid=extend]").click()
    wait_for(lambda: op.input_value() == "video-extension", 15, "the extension form")
    picker = nb.widget(0, "[data-testid=task-id]").first
    assert picker.input_value() == first
    assert first in picker.evaluate("s => [...s.options].map(o => o.value).join(' ')")
    price = nb.widget(0, "[data-testid=price]").first
    # 720p 16:9 = 21,600 tokens/s; (4 s source + 4 s output), not (15 s assumed + 4 s).
    wait_for(lambda: "172,800 tokens" in price.inner_text(), 15, "the estimate on 4 s")

    # Use last frame, on a TaskWidget.
    task_card.locator("[data-testid=use-last-frame]").click()
    wait_for(lambda: op.input_value() == "image-to-video", 15, "the last-frame form")
    frame_url = nb.widget(0, "[data-testid=image-url]").first.input_value()
    assert frame_url.startswith("http://127.0.0.1") and "-last.png" in frame_url

    # Re-run, on a gallery card; then an edit, a run, and the diff against its source.
    gallery_card.locator("[data-testid=rerun]").click()
    wait_for(lambda: op.input_value() == "text-to-video"
             and prompt.input_value() == "a kite over a beach", 15, "the re-run form")
    prompt.fill("a kite over a beach, at night")
    time.sleep(0.6)  # the typing debounce
    generate(nb)
    wait_for(lambda: emulator.task_count() == 2, 30, "the re-run")
    assert emulator.tasks_snapshot()[1]["request"]["prompt"].endswith("at night")
    cards = nb.widget(1, "[data-testid=gallery-card]")
    wait_for(lambda: cards.count() == 2, 20, "the re-run's card")  # the page adds it async
    newest = cards.first
    assert "at night" in newest.inner_text()
    wait_for(lambda: newest.locator(STATUS).first.inner_text().strip() == "completed", 60,
             "the re-run done")
    details = newest.locator("[data-testid=card-details]").first
    assert not details.evaluate("d => d.open")  # folded by default
    details.locator("summary").click()
    diff = details.locator("[data-testid=card-diff]").first
    diff.wait_for(state="visible", timeout=10_000)
    assert "prompt" in diff.inner_text() and "at night" in diff.inner_text()
    assert first in details.inner_text()  # "Re-run of <id>"
    nb.screenshot("actions")


def test_copy_code_runs_in_a_fresh_demo_kernel(notebook: Any) -> None:
    """Why: "copy code doesn't run" (no key in demo mode; dropped images became text)."""
    nb = notebook([
        "import os\n"
        "os.environ['SEEDANCE_EMU_QUEUE_S'] = '0.3'\n"
        "os.environ['SEEDANCE_EMU_RUN_S'] = '1.0'\n"
        "from seedance_widgets import SeedancePanel\n"
        "panel = SeedancePanel(operation='image-to-video', prompt='the red square drifts',"
        " duration=4)\n"
        "panel",
    ])
    nb.run_all()
    nb.wait_cell_done(0, timeout=90)
    image = nb.widget(0, "[data-testid=image-url]").first
    image.wait_for(state="visible", timeout=30_000)
    image.evaluate(DROP_PNG, False)
    wait_for(lambda: image.input_value().startswith("upload://"), 15, "the upload")
    nb.page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    generate(nb)
    card = nb.widget(0, "[data-testid=panel-card]").first
    wait_for(lambda: card.locator(STATUS).first.inner_text().strip() == "completed", 60,
             "completed")
    copy = card.locator("[data-testid=copy-code]").first
    copy.click()
    wait_for(lambda: copy.inner_text() == "Copied", 15, "copied")
    code = nb.page.evaluate("navigator.clipboard.readText()")
    assert "connect_sync()" in code and "data_url(" in code and "inline image" not in code
    details = card.locator("[data-testid=card-details]").first
    details.locator("summary").click()
    shown = details.locator("[data-testid=code]").first
    wait_for(lambda: "connect_sync" in shown.inner_text(), 15, "the code tab")
    details.locator("[data-testid=code-tab-curl]").click()
    wait_for(lambda: "curl" in shown.inner_text() and "base64 -w0" in shown.inner_text(), 15,
             "the curl tab")
    details.locator("[data-testid=code-tab-json]").click()
    wait_for(lambda: '"prompt"' in shown.inner_text(), 15, "the JSON tab")
    # A fresh kernel (no widgets, no key) runs the copied code as it is.
    fresh = notebook([code], name="copied-code")
    fresh.run_all()
    fresh.wait_cell_done(0, timeout=120)
    out = fresh.output_text(0)
    assert "completed" in out and ".mp4" in out, out + fresh.stderr_text(0)


GALLERY_SETUP = """\
import asyncio
from seedance_widgets import AsyncSeedanceClient, Gallery, History
client = AsyncSeedanceClient({key!r}, {url!r}, history=History('gallery.sqlite3'))
prompts = ['a lighthouse at dusk', 'a lighthouse in a storm', 'a red kite', 'a blue kite',
           'a paper boat with an id-like name ' + 'x' * 80]
tasks = [await client.create(model='seedance-2.0-fast', prompt=p, duration=4, seed=i)
         for i, p in enumerate(prompts)]
await asyncio.gather(*(client.wait(t) for t in tasks))
gallery = Gallery.from_history(client, page_size=3)
gallery"""


def test_gallery_pages_search_star_compare_and_layout(notebook: Any,
                                                      emulator: Emulator) -> None:
    """Why: "gallery cards are cluttered" (long ids, small videos, uneven heights), and the
    gallery's newest page, older runs on request, search, filters, stars and compare."""
    nb = notebook([GALLERY_SETUP.format(key=emulator.api_key, url=emulator.base_url)])
    nb.run_all()
    nb.wait_cell_done(0, timeout=120)
    cards = nb.widget(0, "[data-testid=gallery-card]")
    wait_for(lambda: cards.count() == 3, 30, "the newest page")
    assert "paper boat" in cards.first.inner_text()  # newest first
    more = nb.widget(0, "[data-testid=gallery-more]").first
    more.click()
    wait_for(lambda: cards.count() == 5, 15, "older runs")
    assert not more.is_visible()
    wait_for(lambda: all(cards.nth(k).locator(STATUS).first.inner_text().strip() == "completed"
                         for k in range(5)), 30, "all completed")
    # layout: the video fills the card's width, nothing overflows, a row has one height
    geo = nb.widget(0, ".sw-grid").first.evaluate("""g => [...g.children].map(c => {
        const v = c.querySelector('video'), r = c.getBoundingClientRect();
        return {top: Math.round(r.top), h: Math.round(r.height), w: r.width,
                vw: v.getBoundingClientRect().width, sw: c.scrollWidth, cw: c.clientWidth};
    })""")
    for g in geo:
        assert g["vw"] >= g["w"] - 2 and g["sw"] <= g["cw"] + 1, geo
    rows: dict[int, set[int]] = {}
    for g in geo:
        rows.setdefault(g["top"], set()).add(g["h"])
    assert all(len(hs) == 1 for hs in rows.values()), geo
    # search over prompts and the status filter come from the history
    search = nb.widget(0, "[data-testid=gallery-search]").first
    search.fill("kite")
    wait_for(lambda: cards.count() == 2, 15, "two kites")
    nb.widget(0, "[data-testid=filter-status]").first.select_option("failed")
    wait_for(lambda: cards.count() == 0, 15, "no failed kite")
    nb.widget(0, "[data-testid=filter-status]").first.select_option("all")
    wait_for(lambda: cards.count() == 2, 15, "kites again")
    # star, kept by the kernel
    cards.first.locator("[data-testid=star]").click()
    wait_for(lambda: cards.first.locator("[data-testid=star]").get_attribute("aria-pressed")
             == "true", 10, "starred")
    assert kernel_value(nb, "gallery.cards[0].starred", "gallery.cards[0].starred") == "True"
    # compare: a visible affordance, then two videos side by side, played together
    nb.widget(0, "[data-testid=compare]").first.click()
    selects = nb.widget(0, "[data-testid=compare-select]")
    selects.nth(0).check()
    selects.nth(1).check()
    nb.widget(0, "[data-testid=compare-open]").first.click()
    view = nb.widget(0, "[data-testid=compare-view]").first
    view.wait_for(state="visible", timeout=10_000)
    videos = view.locator("[data-testid=compare-video]")
    assert videos.count() == 2
    assert_video_plays(videos.nth(0))
    wait_for(lambda: videos.nth(1).evaluate("v => !v.paused && v.currentTime > 0"), 10,
             "the second video plays along")
    nb.screenshot("gallery")


SAVED_CELLS = [
    "import asyncio\n"
    "from seedance_widgets import AsyncSeedanceClient, History, SeedancePanel, TaskWidget\n"
    "client = AsyncSeedanceClient({key!r}, {url!r}, history=History('saved.sqlite3'))\n"
    "panel = SeedancePanel(client, prompt='saved and reopened', duration=4)\n"
    "panel",
    "panel.gallery",
    "task = await panel.submit()\nTaskWidget(task)",
    "await client.wait(task)\n"
    "for _ in range(100):\n"
    "    if panel.current.live['saved_path']:\n"
    "        break\n"
    "    await asyncio.sleep(0.1)\n"
    "print(panel.current.live['display_status'])",
]


def test_reopened_saved_notebook_shows_the_final_state(notebook: Any, emulator: Emulator,
                                                       tmp_path: Path) -> None:
    """Why: "reopening a saved notebook gives 'model not found'; the HTML fallback is frozen
    at display time". Executed by nbclient (as nbconvert does), then opened in JupyterLab."""
    import nbformat
    from nbclient import NotebookClient

    nbk = nbformat.v4.new_notebook()
    nbk.cells = [nbformat.v4.new_code_cell(c.format(key=emulator.api_key, url=emulator.base_url))
                 for c in SAVED_CELLS]
    NotebookClient(nbk, timeout=120, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    # what nbconvert and VS Code show: each run's final state, with a <video>
    htmls = [o["data"]["text/html"] for c in nbk.cells for o in c.get("outputs", [])
             if "text/html" in o.get("data", {})]
    final = [h for h in htmls if "completed" in h]
    assert len(final) >= 3 and all("<video" in h for h in final), htmls
    assert not any("processing" in h or "pending" in h for h in htmls), htmls
    states = nbk.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    sizes = sorted(len(json.dumps(s)) for s in states.values())
    assert sizes[-1] > 20_000 and sizes[-2] < 10_000, sizes  # the bundle is stored once
    # opened in JupyterLab with another kernel: views render from the saved state, and the
    # panel says its kernel is gone and how to get the history back
    reopened = notebook([], name="reopened", saved=nbk)
    page = reopened.page
    page.locator("[data-testid=panel-card]").first.wait_for(timeout=30_000)
    lost = page.locator("[data-testid=kernel-lost]").first
    lost.wait_for(state="visible", timeout=15_000)
    assert "Gallery.from_history()" in lost.inner_text()
    assert "model not found" not in page.locator(".jp-NotebookPanel-notebook").first.inner_text()
    status = page.locator("[data-testid=gallery-card] [data-testid=task-status]").first
    assert status.inner_text().strip() == "completed"
    reopened.screenshot("reopened")


LOOK_CELLS = [
    "from seedance_widgets import AsyncSeedanceClient, History, SeedancePanel\n"
    "client = AsyncSeedanceClient({key!r}, {url!r}, history=History('look.sqlite3'))\n"
    "panel = SeedancePanel(client, model='seedance-2.0', prompt='a paper boat drifting down a "
    "rainy street, neon reflections', duration=4, budget_usd=5, return_last_frame=True)\n"
    "panel",
    "panel.gallery",
]


def test_look_at_600_900_1400_light_and_dark(notebook: Any, emulator: Emulator) -> None:
    """Two columns (form | result) when wide, one when narrow; screenshots for review."""
    nb = notebook([c.format(key=emulator.api_key, url=emulator.base_url) for c in LOOK_CELLS])
    nb.run_all()
    nb.wait_cell_done(1, timeout=90)
    nb.widget(0, GEN).first.wait_for(state="visible", timeout=30_000)
    finish_one(nb)
    generate(nb)  # a second run, so the gallery has two cards
    wait_for(lambda: nb.widget(1, "[data-testid=gallery-card]").count() == 2, 30, "2 cards")
    page = nb.page
    page.locator(".jp-InputArea-prompt").first.click()
    page.keyboard.press("Control+b")  # hide the file browser: the notebook gets the width
    shots: list[Path] = []
    try:
        for theme, light in (("JupyterLab Light", True), ("JupyterLab Dark", False)):
            use_theme(page, theme, light)
            for width in (600, 900, 1400):
                page.set_viewport_size({"width": width, "height": 1100})
                time.sleep(0.8)
                form = nb.widget(0, ".sw-form").first.bounding_box()
                result = nb.widget(0, ".sw-result").first.bounding_box()
                side_by_side = result["x"] >= form["x"] + form["width"] - 1
                panel_width = nb.widget(0, ".sw-panel").first.bounding_box()["width"]
                assert side_by_side == (panel_width >= 700), (width, panel_width)
                for cell, what in ((0, "panel"), (1, "gallery")):
                    path = ARTIFACTS_DIR / f"look-{what}-{width}-{'light' if light else 'dark'}.png"
                    nb.widget(cell).scroll_into_view_if_needed()
                    nb.widget(cell).screenshot(path=str(path))
                    shots.append(path)
    finally:
        use_theme(page, "JupyterLab Light", light=True)
    assert len(shots) == 12
