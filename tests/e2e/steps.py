"""Steps the Seedance scenarios share: notebooks with a panel, waits, drops, themes, videos."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from seedance_widgets.emulator import Emulator

GEN = "[data-testid=generate]"
STATUS = "[data-testid=task-status]"
REASON = "[data-testid=generate-reason]"


def panel_source(emu: Emulator, **fields: Any) -> str:
    args = "".join(f", {k}={v!r}" for k, v in fields.items())
    return (
        "from seedance_widgets import AsyncSeedanceClient, History, SeedancePanel\n"
        f"client = AsyncSeedanceClient({emu.api_key!r}, {emu.base_url!r}, "
        "history=History('history.sqlite3'))\n"
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
    nb.wait_cell_done(1 + len(extra or []), timeout=90)
    nb.widget(0, GEN).first.wait_for(state="visible", timeout=30_000)
    return nb


def generate(nb: Any) -> None:
    gen = nb.widget(0, GEN).first
    wait_for(lambda: gen.is_enabled(), 20, "Generate enabled")
    gen.click()


def finish_one(nb: Any, gallery_cell: int = 1, timeout: float = 60) -> Any:
    """Generate, then wait for the newest gallery card to complete; returns that card."""
    generate(nb)
    card = nb.widget(gallery_cell, "[data-testid=gallery-card]").first
    card.wait_for(state="visible", timeout=30_000)
    wait_for(lambda: card.locator(STATUS).first.inner_text().strip() == "completed", timeout,
             "completed")
    return card


def kernel_value(nb: Any, condition: str, expression: str, timeout: float = 15) -> str:
    """Wait in the kernel until `condition` holds, then print `expression`; return the text."""
    from .harness import kernel_wait_source

    i = nb.add_cell_and_run(kernel_wait_source(condition, timeout) + f"print({expression})")
    nb.wait_cell_done(i, timeout=timeout + 30)
    return nb.output_text(i).strip()


def assert_video_plays(video: Any) -> None:
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


DROP_URLS = """(zone, urls) => {
    const dt = new DataTransfer();
    dt.setData('text/uri-list', '# dragged from a page\\r\\n' + urls.join('\\r\\n') + '\\r\\n');
    for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true,
                                                cancelable: true}));
    }
}"""

# A real PNG drawn on a canvas, or (zeros=true) 500 zero bytes that only claim to be one.
DROP_PNG = """async (zone, zeros) => {
    let blob;
    if (zeros) blob = new Blob([new Uint8Array(500)], {type: 'image/png'});
    else {
        const c = document.createElement('canvas'); c.width = 32; c.height = 24;
        const g = c.getContext('2d'); g.fillStyle = '#c33'; g.fillRect(0, 0, 32, 24);
        blob = await new Promise(r => c.toBlob(r, 'image/png'));
    }
    const dt = new DataTransfer();
    dt.items.add(new File([blob], zeros ? 'zeros.png' : 'red.png', {type: 'image/png'}));
    for (const type of ['dragenter', 'dragover', 'drop']) {
        zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true,
                                                cancelable: true}));
    }
}"""


def luminance(rgb: str) -> float:
    parts = [float(x) for x in rgb[rgb.index("(") + 1: rgb.index(")")].split(",")[:3]]
    lin = [(c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4
           for c in parts]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def use_theme(page: Any, name: str, light: bool) -> None:
    command(page, f"Use Theme: {name}")
    wait_for(lambda: page.evaluate("document.body.dataset.jpThemeLight") == str(light).lower(),
             20, f"theme {name}")


def command(page: Any, label: str) -> None:
    """Run a JupyterLab command from the command palette."""
    # Focus the app, not a text field: a cell's prompt column is safe to click (the middle
    # of the notebook may be a widget's checkbox label).
    page.locator(".jp-InputArea-prompt").first.click()
    page.keyboard.press("Control+Shift+C")
    palette = page.locator("#modal-command-palette .lm-CommandPalette-input")
    palette.wait_for(state="visible", timeout=10_000)
    palette.fill(label)
    page.locator("#modal-command-palette .lm-CommandPalette-item",
                 has_text=label).first.click()


def restart_kernel(page: Any) -> None:
    command(page, "Restart Kernel…")
    page.locator(".jp-Dialog-button.jp-mod-accept").first.click()
    time.sleep(1.5)
    wait_for(lambda: "| Idle" in page.locator("#jp-main-statusbar").first.inner_text(), 60,
             "the restarted kernel idle")
