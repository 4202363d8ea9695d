"""The Seedance widgets in real JupyterLab (and Notebook 7) in Debian's Chromium.

Most scenarios point the kernel at an emulator running in this test process, so the test can
read its request log and task list; the first runs in demo mode, as a new user would.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from seedance_widgets.emulator import Emulator, Timings

from .harness import ARTIFACTS_DIR, REPO_ROOT, all_comms_modes, kernel_wait_source

# The README's screenshot is this run's picture of the panel with a finished task:
# SEEDANCE_UPDATE_SCREENSHOT=1 copies it into the repo.
README_SHOT = REPO_ROOT / "notebooks" / "screenshots" / "panel.png"

GEN = "[data-testid=generate]"
STATUS = "[data-testid=task-status]"


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    marker = request.node.get_closest_marker("timings")
    timings = Timings(**marker.kwargs) if marker else Timings(queue_s=0.5, run_s=1.5)
    with Emulator(timings=timings) as emu:
        yield emu


def panel_source(emu: Emulator, **fields: Any) -> str:
    args = "".join(f", {k}={v!r}" for k, v in fields.items())
    return (
        "from seedance_widgets import AsyncSeedanceClient, Journal, SeedancePanel\n"
        f"client = AsyncSeedanceClient({emu.api_key!r}, {emu.base_url!r}, "
        "journal=Journal('journal.jsonl'))\n"
        f"panel = SeedancePanel(client{args})\n"
        "panel"
    )


def creates(emu: Emulator) -> int:
    return sum(1 for e in emu.request_log
               if e.method == "POST" and e.path.startswith("/v1/videos/generations"))


def wait_for(check: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def open_panel(notebook: Any, emu: Emulator, extra: list[str] | None = None,
               **fields: Any) -> Any:
    nb = notebook([panel_source(emu, **fields), "panel.gallery", *(extra or [])])
    nb.run_all()
    nb.wait_cell_done(1, timeout=90)
    nb.widget(0, GEN).first.wait_for(state="visible", timeout=30_000)
    return nb


def assert_video_plays(nb: Any, cell: int) -> None:
    video = nb.widget(cell, "[data-testid=video]").first
    video.wait_for(state="attached", timeout=60_000)
    state = video.evaluate(
        """async (v) => {
            v.muted = true;
            try { await v.play(); } catch (e) {}
            const t0 = Date.now();
            while (v.readyState < 2 && !v.error && Date.now() - t0 < 15000) {
                await new Promise(r => setTimeout(r, 100));
            }
            await new Promise(r => setTimeout(r, 600));
            return {ready: v.readyState, error: v.error && v.error.code,
                    time: v.currentTime, duration: v.duration, src: v.currentSrc};
        }""")
    assert state["ready"] >= 2 and state["error"] is None, state
    assert state["duration"] > 3 and state["time"] > 0, state


def _panel_picture(nb: Any) -> Path:
    nb.widget(0, "[data-testid=video]").first.evaluate(
        "v => { v.pause(); v.currentTime = Math.min(1.5, v.duration / 2); }")
    nb.page.set_viewport_size({"width": 1280, "height": 1600})  # the whole panel in view
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
        f"panel = SeedancePanel(prompt={prompt!r}, duration=4)\n"
        "panel",
    ])
    nb.run_all()
    nb.wait_cell_done(0, timeout=90)
    gen = nb.widget(0, GEN).first
    gen.wait_for(state="visible", timeout=30_000)
    badge = nb.widget(0, "[data-testid=demo-badge]").first
    assert badge.is_visible() and "demo mode" in (badge.get_attribute("title") or "")
    wait_for(lambda: gen.is_enabled(), 20, "Generate enabled")
    assert "$" in nb.widget(0, "[data-testid=price]").first.inner_text()
    gen.click()
    return nb


# --------------------------------------------------------------------------- scenarios
@all_comms_modes
def test_text_to_video_demo_mode_plays_and_kernel_stays_free(notebook: Any) -> None:
    """1 + 11: demo mode, live status and progress, a playing video, cells run meanwhile."""
    nb = open_demo_panel(notebook, "a red fox running through fresh snow", run_s=6)
    status = nb.widget(0, STATUS).first
    wait_for(lambda: status.inner_text().strip() in ("pending", "processing"), 30, "a task")
    # The kernel is idle while the task runs: another cell runs at once.
    t0 = time.monotonic()
    i = nb.add_cell_and_run("print(6 * 7)")
    nb.wait_cell_done(i, timeout=20)
    ran_in = time.monotonic() - t0
    assert nb.output_text(i).strip() == "42"
    assert status.inner_text().strip() in ("pending", "processing"), "task ended too soon"
    progress = nb.widget(0, "[data-testid=task-progress]").first
    wait_for(lambda: (progress.get_attribute("aria-valuenow") or "0") not in ("0", ""), 30,
             "progress")
    nb.screenshot("processing")
    wait_for(lambda: status.inner_text().strip() == "completed", 60, "completed")
    assert_video_plays(nb, 0)
    nb.screenshot("completed")
    _panel_picture(nb)
    assert ran_in < 15
    assert not nb.unexpected_console_errors()


def test_fast_model_offers_no_1080p_or_4k(notebook: Any, emulator: Emulator) -> None:
    """2."""
    nb = open_panel(notebook, emulator, model="seedance-2.0", prompt="p")
    res = nb.widget(0, "[data-testid=resolution]").first
    assert {"1080p", "4k"} <= set(res.evaluate("s => [...s.options].map(o => o.value)"))
    nb.widget(0, "[data-testid=model]").first.select_option("seedance-2.0-fast")
    wait_for(lambda: res.evaluate("s => [...s.options].map(o => o.value)") == ["480p", "720p"],
             10, "fast resolutions")
    nb.widget(0, "[data-testid=model]").first.select_option("seedance-2.0-mini")
    wait_for(lambda: res.evaluate("s => [...s.options].map(o => o.value)") == ["480p", "720p"],
             10, "mini resolutions")
    nb.screenshot("fast-options")


def test_invalid_input_shows_field_error_and_sends_nothing(notebook: Any,
                                                           emulator: Emulator) -> None:
    """3."""
    nb = open_panel(notebook, emulator, prompt="a valid prompt")
    prompt = nb.widget(0, "[data-testid=prompt]").first
    prompt.fill("   ")
    err = nb.widget(0, "[data-testid=field-error-prompt]").first
    err.wait_for(state="visible", timeout=15_000)
    assert "blank" in err.inner_text()
    gen = nb.widget(0, GEN).first
    wait_for(lambda: not gen.is_enabled(), 10, "Generate disabled")
    prompt.press("Control+Enter")  # the keyboard path must not submit either
    time.sleep(1.5)
    nb.screenshot("field-error")
    assert creates(emulator) == 0


@pytest.mark.timings(queue_s=60, run_s=2)
def test_pending_task_is_cancelled(notebook: Any, emulator: Emulator) -> None:
    """4."""
    nb = open_panel(notebook, emulator, model="seedance-2.0", prompt="cancel me", duration=4)
    nb.widget(0, GEN).first.click()
    status = nb.widget(0, STATUS).first
    wait_for(lambda: status.inner_text().strip() == "pending", 30, "pending")
    cancel = nb.widget(0, "[data-testid=cancel]").first
    wait_for(lambda: cancel.is_enabled(), 10, "cancel enabled")
    cancel.click()
    wait_for(lambda: status.inner_text().strip() == "cancelled", 30, "cancelled")
    snap = emulator.tasks_snapshot()
    assert len(snap) == 1 and snap[0]["cancelled"]
    assert any(e.method == "DELETE" for e in emulator.request_log)
    nb.screenshot("cancelled")


DROP_URL = """(zone, url) => {
    const dt = new DataTransfer();
    dt.setData('text/uri-list', '# dragged from a page\\r\\n' + url + '\\r\\n');
    for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true,
                                                cancelable: true}));
    }
}"""

DROP_PNG = """async (zone) => {
    const c = document.createElement('canvas'); c.width = 32; c.height = 24;
    const g = c.getContext('2d'); g.fillStyle = '#c33'; g.fillRect(0, 0, 32, 24);
    const blob = await new Promise(r => c.toBlob(r, 'image/png'));
    const dt = new DataTransfer();
    dt.items.add(new File([blob], 'red.png', {type: 'image/png'}));
    for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true,
                                                cancelable: true}));
    }
}"""


def test_url_reference_is_dropped(notebook: Any, emulator: Emulator) -> None:
    """5: a synthetic DataTransfer drop of text/uri-list."""
    url = "https://example.com/refs/product-front.png"
    nb = open_panel(notebook, emulator, operation="reference-to-video",
                    prompt="keep the product identity", duration=4)
    zone = nb.widget(0, "[data-testid=drop-zone]").first
    zone.evaluate(DROP_URL, url)
    item = nb.widget(0, "[data-testid=reference-item]").first
    item.wait_for(state="visible", timeout=15_000)
    i = nb.add_cell_and_run(kernel_wait_source("panel.form['references']")
                            + "print(panel.form['references'][0]['url'], panel.can_submit)")
    nb.wait_cell_done(i, timeout=30)
    assert nb.output_text(i).strip() == f"{url} True"
    nb.widget(0, GEN).first.click()
    wait_for(lambda: emulator.task_count() == 1, 30, "the task")
    assert emulator.tasks_snapshot()[0]["request"]["reference_images"] == [url]
    nb.screenshot("url-dropped")


def test_image_file_is_dropped_and_shows_a_thumbnail(notebook: Any,
                                                      emulator: Emulator) -> None:
    """6."""
    nb = open_panel(notebook, emulator, operation="reference-to-video", prompt="this colour")
    zone = nb.widget(0, "[data-testid=drop-zone]").first
    zone.evaluate(DROP_PNG)
    thumb = nb.widget(0, "[data-testid=reference-item] img").first
    thumb.wait_for(state="visible", timeout=15_000)
    wait_for(lambda: thumb.evaluate("i => i.complete && i.naturalWidth") == 32, 10,
             "thumbnail decoded")
    i = nb.add_cell_and_run(kernel_wait_source("panel.form['references']")
                            + "r = panel.request.reference_images[0]\n"
                            "print(panel.form['references'][0]['url'][:9], r[:22])")
    nb.wait_cell_done(i, timeout=30)
    assert nb.output_text(i).strip() == "upload:// data:image/png;base64,"
    nb.screenshot("image-dropped")


def _finish_one(nb: Any, emu: Emulator) -> None:
    nb.widget(0, GEN).first.click()
    card = nb.widget(1, "[data-testid=gallery-card]").first
    card.wait_for(state="visible", timeout=30_000)
    wait_for(lambda: nb.widget(1, STATUS).first.inner_text().strip() == "completed", 60,
             "completed")


def test_finished_task_is_extended(notebook: Any, emulator: Emulator) -> None:
    """7."""
    nb = open_panel(notebook, emulator, model="seedance-2.0", prompt="a kite over a beach",
                    duration=4)
    _finish_one(nb, emulator)
    first_id = emulator.tasks_snapshot()[0]["id"]
    nb.widget(1, "[data-testid=extend]").first.click()
    op = nb.widget(0, "[data-testid=operation]").first
    wait_for(lambda: op.input_value() == "video-extension", 15, "extension form")
    assert nb.widget(0, "[data-testid=task-id]").first.input_value() == first_id
    gen = nb.widget(0, GEN).first
    wait_for(lambda: gen.is_enabled(), 15, "Generate enabled")
    gen.click()
    wait_for(lambda: emulator.task_count() == 2, 30, "the extension task")
    ext = emulator.tasks_snapshot()[1]
    assert ext["operation"] == "video-extension" and ext["request"]["task_id"] == first_id
    wait_for(lambda: nb.widget(1, "[data-testid=gallery-card]").count() == 2, 20, "2 cards")
    nb.screenshot("extended")


def test_gallery_card_is_rerun_with_an_edit(notebook: Any, emulator: Emulator) -> None:
    """8."""
    nb = open_panel(notebook, emulator, prompt="a lighthouse at dusk", duration=4, seed=7)
    _finish_one(nb, emulator)
    nb.widget(1, "[data-testid=rerun]").first.click()
    prompt = nb.widget(0, "[data-testid=prompt]").first
    wait_for(lambda: prompt.input_value() == "a lighthouse at dusk", 15, "form loaded")
    prompt.fill("a lighthouse at dusk, storm clouds")
    gen = nb.widget(0, GEN).first
    wait_for(lambda: gen.is_enabled() and "storm" in prompt.input_value(), 15, "ready")
    time.sleep(0.6)  # the form is sent after a short typing debounce
    gen.click()
    wait_for(lambda: emulator.task_count() == 2, 30, "the re-run")
    assert emulator.tasks_snapshot()[1]["request"]["prompt"].endswith("storm clouds")
    diff = nb.widget(1, "[data-testid=card-diff]").first
    diff.wait_for(state="visible", timeout=20_000)
    assert "prompt" in diff.inner_text()
    nb.screenshot("rerun")


def test_double_click_makes_one_task(notebook: Any, emulator: Emulator) -> None:
    """9."""
    nb = open_panel(notebook, emulator, prompt="just once", duration=4)
    nb.widget(0, GEN).first.dblclick()
    wait_for(lambda: emulator.task_count() >= 1, 30, "a task")
    time.sleep(2.0)
    assert emulator.task_count() == 1 and creates(emulator) == 1


def test_over_budget_submit_is_refused(notebook: Any, emulator: Emulator) -> None:
    """Issue 4 acceptance: an over-budget submit is refused with a message."""
    nb = open_panel(notebook, emulator, model="seedance-2.0", prompt="expensive",
                    resolution="1080p", duration=10, budget_usd=1.0)
    nb.widget(0, GEN).first.click()
    notice = nb.widget(0, "[data-testid=notice]").first
    wait_for(lambda: "over budget" in notice.inner_text(), 20, "the refusal")
    time.sleep(1.0)
    assert creates(emulator) == 0
    nb.screenshot("over-budget")


def _luminance(rgb: str) -> float:
    parts = [float(x) for x in rgb[rgb.index("(") + 1: rgb.index(")")].split(",")[:3]]
    lin = [(c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
           for c in parts]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _use_theme(page: Any, name: str, light: bool) -> None:
    page.locator(".jp-Notebook").first.click()  # focus the app, not a text field
    page.keyboard.press("Control+Shift+C")
    palette = page.locator("#modal-command-palette .lm-CommandPalette-input")
    palette.wait_for(state="visible", timeout=10_000)
    palette.fill(f"Use Theme: {name}")
    page.locator("#modal-command-palette .lm-CommandPalette-item",
                 has_text=f"Use Theme: {name}").first.click()
    wait_for(lambda: page.evaluate("document.body.dataset.jpThemeLight") == str(light).lower(),
             20, f"theme {name}")


def test_dark_theme_is_legible(notebook: Any, emulator: Emulator) -> None:
    """10: switch JupyterLab to its dark theme, then check contrast and take a screenshot."""
    nb = open_panel(notebook, emulator, prompt="night city, rain", duration=4)
    _finish_one(nb, emulator)
    page = nb.page
    try:
        _use_theme(page, "JupyterLab Dark", light=False)
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
            hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
            assert (hi + 0.05) / (lo + 0.05) >= 4.5, colours
        assert _luminance(colours["labelBg"]) < 0.2, colours  # really dark
        nb.screenshot("dark")
    finally:
        _use_theme(page, "JupyterLab Light", light=True)


def test_notebook7_panel_generates(notebook7: Any, emulator: Emulator) -> None:
    """12: Jupyter Notebook 7 smoke."""
    nb = notebook7([panel_source(emulator, prompt="notebook seven", duration=4),
                    "panel.gallery"])
    nb.run_all()
    nb.wait_cell_done(1, timeout=90)
    gen = nb.widget(0, GEN).first
    gen.wait_for(state="visible", timeout=30_000)
    wait_for(lambda: gen.is_enabled(), 20, "Generate enabled")
    gen.click()
    wait_for(lambda: nb.widget(1, STATUS).first.inner_text().strip() == "completed", 60,
             "completed")
    assert emulator.task_count() == 1
    nb.screenshot("notebook7")


def test_kernel_restart_then_gallery_from_history_resumes(notebook: Any) -> None:
    """Issue 4: after a kernel restart, the journal's unfinished demo task resumes updating."""
    prompt = "this task survives a kernel restart"
    nb = open_demo_panel(notebook, prompt, run_s=18)
    status = nb.widget(0, STATUS).first
    wait_for(lambda: status.inner_text().strip() == "processing", 30, "processing")
    # Restart the way a user does: the command, then the confirmation dialog.
    page = nb.page
    page.locator(".jp-Notebook").first.click()
    page.keyboard.press("Control+Shift+C")
    palette = page.locator("#modal-command-palette .lm-CommandPalette-input")
    palette.wait_for(state="visible", timeout=10_000)
    palette.fill("Restart Kernel")
    page.locator("#modal-command-palette .lm-CommandPalette-item",
                 has_text="Restart Kernel…").first.click()
    page.locator(".jp-Dialog-button.jp-mod-accept").first.click()
    time.sleep(1.5)
    wait_for(lambda: "| Idle" in page.locator("#jp-main-statusbar").first.inner_text(), 60,
             "the restarted kernel idle")
    i = nb.add_cell_and_run("from seedance_widgets import Gallery\n"
                            "gallery = Gallery.from_history()\n"
                            "gallery")
    nb.wait_cell_done(i, timeout=90)
    card = nb.widget(i, "[data-testid=gallery-card]").filter(has_text=prompt).first
    card.wait_for(state="visible", timeout=30_000)
    card_status = card.locator(STATUS).first
    assert card_status.inner_text().strip() in ("pending", "processing", "completed")
    nb.screenshot("after-restart")
    wait_for(lambda: card_status.inner_text().strip() == "completed", 60, "resumed to the end")
    assert card.locator("[data-testid=video]").count() == 1
    nb.screenshot("resumed")


def test_video_only_the_kernel_can_reach_plays_from_a_blob(notebook: Any,
                                                           emulator: Emulator) -> None:
    """Issue 4, video delivery: bytes over the widget channel become a Blob URL."""
    nb = open_panel(notebook, emulator, prompt="delivered by the kernel", duration=4,
                    video_delivery="kernel")
    asked: list[str] = []
    nb.page.on("request", lambda r: asked.append(r.url) if "/files/" in r.url else None)
    _finish_one(nb, emulator)
    video = nb.widget(1, "[data-testid=video]").first
    wait_for(lambda: (video.get_attribute("src") or "").startswith("blob:"), 30, "a blob src")
    assert_video_plays(nb, 1)
    assert not asked, f"the browser fetched the result itself: {asked}"
    nb.screenshot("kernel-delivery")
