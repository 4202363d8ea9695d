"""The Seedance panel in real JupyterLab (and Notebook 7) in Debian's Chromium.

Each scenario names the bullet of issue #11's "Why" it shows fixed. Most point the kernel at an
emulator in this test process, so the test can read its request log; the first runs in demo
mode, as a new user would.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_widgets.emulator import Emulator, Timings

from .harness import ARTIFACTS_DIR, REPO_ROOT, all_comms_modes
from .steps import (
    DROP_PNG,
    DROP_URLS,
    GEN,
    REASON,
    STATUS,
    assert_video_plays,
    creates,
    finish_one,
    generate,
    kernel_value,
    luminance,
    open_panel,
    panel_source,
    restart_kernel,
    use_theme,
    wait_for,
)

# The README's screenshot is this run's picture of the panel with a finished task:
# SEEDANCE_UPDATE_SCREENSHOT=1 copies it into the repo.
README_SHOT = REPO_ROOT / "notebooks" / "screenshots" / "panel.png"


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    marker = request.node.get_closest_marker("timings")
    timings = Timings(**marker.kwargs) if marker else Timings(queue_s=0.5, run_s=1.5)
    with Emulator(timings=timings) as emu:
        yield emu


def _panel_picture(nb: Any) -> Path:
    nb.widget(0, "[data-testid=video]").first.evaluate(
        "v => { v.pause(); v.currentTime = Math.min(1.5, v.duration / 2); }")
    nb.page.set_viewport_size({"width": 1400, "height": 1000})
    nb.widget(0).scroll_into_view_if_needed()
    time.sleep(0.5)
    shot = ARTIFACTS_DIR / "readme-panel.png"
    nb.widget(0).screenshot(path=str(shot))
    if os.environ.get("SEEDANCE_UPDATE_SCREENSHOT") == "1":
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, README_SHOT)
    return shot


def open_demo_panel(notebook: Any, prompt: str, run_s: int) -> Any:
    """A panel in demo mode (the kernel's own emulator), Generate clicked."""
    nb = notebook([
        "import os\n"
        "os.environ['SEEDANCE_EMU_QUEUE_S'] = '1.5'\n"
        f"os.environ['SEEDANCE_EMU_RUN_S'] = '{run_s}'\n"
        "from seedance_widgets import SeedancePanel\n"
        f"panel = SeedancePanel(prompt={prompt!r}, duration=4, return_last_frame=True)\n"
        "panel",
    ])
    nb.run_all()
    nb.wait_cell_done(0, timeout=90)
    nb.widget(0, GEN).first.wait_for(state="visible", timeout=30_000)
    badge = nb.widget(0, "[data-testid=demo-badge]").first
    assert badge.is_visible() and "demo mode" in (badge.get_attribute("title") or "")
    assert "$" in nb.widget(0, "[data-testid=price]").first.inner_text()
    generate(nb)
    return nb


# --------------------------------------------------------------------------- scenarios
@all_comms_modes
def test_text_to_video_demo_mode_plays_and_kernel_stays_free(notebook: Any) -> None:
    """Demo badge stays (Why: "the demo banner disappears"); live status, progress and a
    playing video; elapsed ticks in the browser while a cell keeps the kernel busy."""
    nb = open_demo_panel(notebook, "a red fox running through fresh snow", run_s=6)
    status = nb.widget(0, STATUS).first
    wait_for(lambda: status.inner_text().strip() in ("pending", "processing"), 30, "a task")
    notice = nb.widget(0, "[data-testid=notice]").first
    wait_for(lambda: "submitted" in notice.inner_text().lower(), 20, "the submit notice")
    assert nb.widget(0, "[data-testid=demo-badge]").first.is_visible()  # its own element
    elapsed = nb.widget(0, "[data-testid=elapsed]").first
    t0 = time.monotonic()
    i = nb.add_cell_and_run("import time\ntime.sleep(3)\nprint(6 * 7)")
    wait_for(lambda: nb.kernel_busy(), 10, "the busy kernel")
    first = elapsed.inner_text()
    time.sleep(1.6)
    assert elapsed.inner_text() != first, "elapsed must tick while the kernel is busy"
    nb.wait_cell_done(i, timeout=20)
    assert nb.output_text(i).strip() == "42" and time.monotonic() - t0 < 15
    progress = nb.widget(0, "[data-testid=task-progress]").first
    wait_for(lambda: status.inner_text().strip() == "completed" or (
        progress.get_attribute("aria-valuenow") or "0") not in ("0", ""), 30, "progress")
    nb.screenshot("processing")
    wait_for(lambda: status.inner_text().strip() == "completed", 60, "completed")
    assert_video_plays(nb.widget(0, "[data-testid=video]").first)
    nb.screenshot("completed")
    _panel_picture(nb)
    assert not nb.unexpected_console_errors()


def test_model_switch_keeps_nearest_resolution_and_kwargs_imply_operation(
        notebook: Any, emulator: Emulator) -> None:
    """Why: "switching models drops 1080p to 480p" and "dropped inputs"."""
    img = "https://example.com/cat.png"
    nb = open_panel(notebook, emulator, model="seedance-2.0", prompt="p", resolution="1080p",
                    extra=["from seedance_widgets import SeedancePanel\n"
                           f"SeedancePanel(client, prompt='a cat', image_url={img!r})",
                           f"SeedancePanel(client, operation='text-to-video', image_url={img!r})"])
    res = nb.widget(0, "[data-testid=resolution]").first
    assert {"1080p", "4k"} <= set(res.evaluate("s => [...s.options].map(o => o.value)"))
    nb.widget(0, "[data-testid=model]").first.select_option("seedance-2.0-fast")
    wait_for(lambda: res.input_value() == "720p", 10, "the nearest resolution")
    assert res.evaluate("s => [...s.options].map(o => o.value)") == ["480p", "720p"]
    notice = nb.widget(0, "[data-testid=notice]").first
    wait_for(lambda: "nearest, 720p" in notice.inner_text(), 10, "the notice")
    # keyword arguments imply the operation, or the error names the field
    assert nb.widget(2, "[data-testid=operation]").first.input_value() == "image-to-video"
    assert nb.widget(2, "[data-testid=image-url]").first.input_value() == img
    assert "image_url is not an input of text-to-video" in nb.stderr_text(3)
    nb.screenshot("model-switch")


def test_errors_only_after_touch_price_always_and_reasons(notebook: Any,
                                                          emulator: Emulator) -> None:
    """Why: "errors before any action", "the price is hidden"."""
    nb = open_panel(notebook, emulator)  # a fresh panel: no prompt
    errors = nb.widget(0, "[data-testid^=field-error-]")
    assert errors.count() == 0
    assert "$" in nb.widget(0, "[data-testid=price]").first.inner_text()
    reason = nb.widget(0, REASON).first
    assert "write a prompt" in reason.inner_text()
    gen = nb.widget(0, GEN).first
    assert not gen.is_enabled()
    nb.widget(0, "[data-testid=operation]").first.select_option("image-to-video")
    time.sleep(1.0)
    assert errors.count() == 0, "switching operation must not show errors at once"
    gen.click(force=True)  # pressing Generate shows every error, sends nothing
    nb.widget(0, "[data-testid=field-error-prompt]").first.wait_for(state="visible")
    prompt = nb.widget(0, "[data-testid=prompt]").first
    prompt.fill("   ")
    prompt.press("Control+Enter")  # the keyboard path must not submit either
    time.sleep(1.5)
    nb.screenshot("field-error")
    assert creates(emulator) == 0


@pytest.mark.timings(queue_s=60, run_s=2)
def test_pending_task_is_cancelled_once_no_charge_rerun(notebook: Any,
                                                       emulator: Emulator) -> None:
    """Why: cancelled cards showed the estimate like a charge, "cancelled" twice, no Re-run."""
    nb = open_panel(notebook, emulator, model="seedance-2.0", prompt="cancel me", duration=4)
    generate(nb)
    card = nb.widget(1, "[data-testid=gallery-card]").first
    status = card.locator(STATUS).first
    wait_for(lambda: status.inner_text().strip() == "pending", 30, "pending")
    cancel = card.locator("[data-testid=cancel]").first
    wait_for(lambda: cancel.is_enabled(), 10, "cancel enabled")
    cancel.click()
    wait_for(lambda: status.inner_text().strip() == "cancelled", 30, "cancelled")
    snap = emulator.tasks_snapshot()
    assert len(snap) == 1 and snap[0]["cancelled"]
    assert any(e.method == "DELETE" for e in emulator.request_log)
    visible = card.evaluate("c => c.innerText")
    assert visible.lower().count("cancelled") == 1, visible
    assert "$" not in visible and "no charge" in visible
    assert card.locator("[data-testid=rerun]").first.is_visible()
    nb.screenshot("cancelled")


def test_url_references_and_tags_follow_a_reorder(notebook: Any, emulator: Emulator) -> None:
    """Why: "tags go wrong on reorder"; URLs dropped from a page become references."""
    a, b = "https://example.com/refs/front.png", "https://example.com/refs/back.png"
    nb = open_panel(notebook, emulator, operation="reference-to-video", duration=4,
                    prompt="@image1 turns into @image2")
    nb.widget(0, "[data-testid=drop-zone]").first.evaluate(DROP_URLS, [a, b])
    items = nb.widget(0, "[data-testid=reference-item]")
    wait_for(lambda: items.count() == 2, 15, "two references")
    items.nth(1).locator("[data-testid=reference-up]").click()
    prompt = nb.widget(0, "[data-testid=prompt]").first
    wait_for(lambda: prompt.input_value() == "@image2 turns into @image1", 15, "renumbered")
    generate(nb)
    wait_for(lambda: emulator.task_count() == 1, 30, "the task")
    request = emulator.tasks_snapshot()[0]["request"]
    assert request["reference_images"] == [b, a]
    assert request["prompt"] == "@image2 turns into @image1"
    nb.screenshot("references")


def test_image_files_are_decoded_before_they_are_accepted(notebook: Any,
                                                          emulator: Emulator) -> None:
    """Why: "a 500-byte file of zeros named .png is accepted as an image"."""
    nb = open_panel(notebook, emulator, operation="reference-to-video", prompt="this colour")
    zone = nb.widget(0, "[data-testid=drop-zone]").first
    zone.evaluate(DROP_PNG, True)
    notice = nb.widget(0, "[data-testid=notice]").first
    wait_for(lambda: "not a readable PNG" in notice.inner_text(), 15, "the refusal")
    assert nb.widget(0, "[data-testid=reference-item]").count() == 0
    zone.evaluate(DROP_PNG, False)
    thumb = nb.widget(0, "[data-testid=reference-item] img").first
    thumb.wait_for(state="visible", timeout=15_000)
    wait_for(lambda: thumb.evaluate("i => i.complete && i.naturalWidth") == 32, 10,
             "thumbnail decoded")
    out = kernel_value(nb, "panel.form['references']",
                       "panel.form['references'][0]['url'][:9], "
                       "panel.request.reference_images[0][:22]")
    assert out == "upload:// data:image/png;base64,"
    nb.screenshot("image-dropped")


def test_double_click_makes_one_task(notebook: Any, emulator: Emulator) -> None:
    nb = open_panel(notebook, emulator, prompt="just once", duration=4)
    gen = nb.widget(0, GEN).first
    wait_for(lambda: gen.is_enabled(), 20, "Generate enabled")
    gen.dblclick()
    wait_for(lambda: emulator.task_count() >= 1, 30, "a task")
    time.sleep(2.0)
    assert emulator.task_count() == 1 and creates(emulator) == 1


def test_history_off_is_said_for_the_panels_whole_life(notebook: Any,
                                                       emulator: Emulator) -> None:
    """#9: a data folder that cannot hold the history: the panel builds, says so in a line that
    stays after later notices, and still generates."""
    setup = (
        "open('not-a-folder', 'w').close()  # the history would have to live inside a file\n"
        "from seedance_widgets import AsyncSeedanceClient, History, SeedancePanel\n"
        f"client = AsyncSeedanceClient({emulator.api_key!r}, {emulator.base_url!r}, "
        "history=History('not-a-folder/history.sqlite3'))\n"
        "panel = SeedancePanel(client, prompt='a lighthouse at dusk', duration=4)\n"
        "panel")
    nb = notebook([setup, "panel.gallery"])
    nb.run_all()
    nb.wait_cell_done(1, timeout=90)
    off = nb.widget(0, "[data-testid=history-off]").first
    off.wait_for(state="visible", timeout=30_000)
    said = off.inner_text()
    assert said.startswith("history is off: ") and "not-a-folder" in said
    finish_one(nb)
    notice = nb.widget(0, "[data-testid=notice]").first
    wait_for(lambda: "Submitted" in notice.inner_text(), 15, "the submit notice")
    assert off.is_visible() and off.inner_text() == said
    assert emulator.task_count() == 1
    nb.screenshot("history-off")


def test_over_budget_is_refused_before_the_click(notebook: Any, emulator: Emulator) -> None:
    """Why: "the budget is checked only after the click"."""
    nb = open_panel(notebook, emulator, model="seedance-2.0", prompt="expensive",
                    resolution="1080p", duration=10, budget_usd=1.0)
    gen = nb.widget(0, GEN).first
    reason = nb.widget(0, REASON).first
    wait_for(lambda: "over budget" in reason.inner_text(), 20, "the reason")
    assert not gen.is_enabled()
    gen.click(force=True)
    time.sleep(1.0)
    assert creates(emulator) == 0
    nb.screenshot("over-budget")


def test_dark_theme_is_legible(notebook: Any, emulator: Emulator) -> None:
    nb = open_panel(notebook, emulator, prompt="night city, rain", duration=4)
    finish_one(nb)
    page = nb.page
    try:
        use_theme(page, "JupyterLab Dark", light=False)
        time.sleep(1.0)
        colours = nb.widget(0, "[data-testid=prompt]").first.evaluate(
            """el => {
                const bg = (n) => { while (n) { const c = getComputedStyle(n).backgroundColor;
                    if (c && !c.endsWith(', 0)') && c !== 'transparent') return c;
                    n = n.parentElement; } return 'rgb(255, 255, 255)'; };
                const label = el.closest('.sw-root') || el;
                return {fg: getComputedStyle(el).color, bg: bg(el),
                        labelFg: getComputedStyle(label).color, labelBg: bg(label)};
            }""")
        for fg, bg in ((colours["fg"], colours["bg"]), (colours["labelFg"], colours["labelBg"])):
            hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
            assert (hi + 0.05) / (lo + 0.05) >= 4.5, colours
        assert luminance(colours["labelBg"]) < 0.2, colours  # really dark
        nb.screenshot("dark")
    finally:
        use_theme(page, "JupyterLab Light", light=True)


def test_notebook7_panel_generates(notebook7: Any, emulator: Emulator) -> None:
    nb = notebook7([panel_source(emulator, prompt="notebook seven", duration=4),
                    "panel.gallery"])
    nb.run_all()
    nb.wait_cell_done(1, timeout=90)
    nb.widget(0, GEN).first.wait_for(state="visible", timeout=30_000)
    finish_one(nb)
    assert emulator.task_count() == 1
    nb.screenshot("notebook7")


def test_stale_panel_after_restart_says_kernel_lost_and_history_resumes(notebook: Any) -> None:
    """Why: "after a kernel restart, Generate greys for 3 s and nothing happens"."""
    prompt = "this task survives a kernel restart"
    nb = open_demo_panel(notebook, prompt, run_s=18)
    status = nb.widget(0, STATUS).first
    wait_for(lambda: status.inner_text().strip() == "processing", 30, "processing")
    restart_kernel(nb.page)
    nb.widget(0, GEN).first.click()  # the old panel's kernel is gone
    lost = nb.widget(0, "[data-testid=kernel-lost]").first
    lost.wait_for(state="visible", timeout=15_000)
    assert "run this cell again" in lost.inner_text()
    assert "Gallery.from_history()" in lost.inner_text()
    nb.screenshot("kernel-lost")
    i = nb.add_cell_and_run("from seedance_widgets import Gallery\n"
                            "gallery = Gallery.from_history()\n"
                            "gallery")
    nb.wait_cell_done(i, timeout=90)
    card = nb.widget(i, "[data-testid=gallery-card]").filter(has_text=prompt).first
    card.wait_for(state="visible", timeout=30_000)
    card_status = card.locator(STATUS).first
    assert card_status.inner_text().strip() in ("pending", "processing", "completed")
    wait_for(lambda: card_status.inner_text().strip() == "completed", 60, "resumed to the end")
    assert card.locator("[data-testid=video]").count() == 1
    nb.screenshot("resumed")


def test_video_only_the_kernel_can_reach_plays_from_a_blob(notebook: Any,
                                                           emulator: Emulator) -> None:
    nb = open_panel(notebook, emulator, prompt="delivered by the kernel", duration=4,
                    video_delivery="kernel")
    asked: list[str] = []
    nb.page.on("request", lambda r: asked.append(r.url) if "/files/" in r.url else None)
    finish_one(nb)
    video = nb.widget(1, "[data-testid=video]").first
    wait_for(lambda: (video.get_attribute("src") or "").startswith("blob:"), 30, "a blob src")
    assert_video_plays(video)
    assert not asked, f"the browser fetched the result itself: {asked}"
    nb.screenshot("kernel-delivery")
