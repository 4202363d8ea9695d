"""Smoke scenarios: the harness drives real JupyterLab / Notebook 7 and widgets render.

Nothing here uses seedance_widgets' own widgets; they check the machinery the real
scenarios stand on (widget manager, anywidget, comms in both commsOverSubshells modes).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .harness import all_comms_modes, kernel_wait_source

pytestmark = pytest.mark.e2e

SLIDER_CELLS = [
    "import ipywidgets as w; b = w.IntSlider(value=7); b",
    "print(6*7)",
]

ANYWIDGET_CELL = r'''
import threading
import anywidget
import traitlets

class W(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const b = document.createElement('button');
        b.dataset.testid = 'ping';
        b.textContent = 'ping';
        b.onclick = () => { model.set('count', model.get('count') + 1); model.save_changes(); };
        el.appendChild(b);
      }
    }
    """
    count = traitlets.Int(0).tag(sync=True)

w = W()
threads = []
w.observe(lambda change: threads.append(threading.current_thread().name), names="count")
w
'''.strip()

# With commsOverSubshells the comm messages run on a subshell thread, possibly after
# this cell has started: wait (without blocking the main loop) until both clicks landed.
READ_COUNT_CELL = kernel_wait_source("w.count >= 4") + (
    'print("count", w.count)\nprint("main", sorted(set(threads)) == ["MainThread"])'
)


def _assert_clean(nb) -> None:
    assert nb.external_requests == [], nb.external_requests
    assert nb.unexpected_console_errors() == [], nb.error_details


def _assert_slider_and_42(nb) -> None:
    nb.run_all()
    nb.wait_cell_done(0)
    nb.wait_cell_done(1)
    slider = nb.widget(0, ".widget-slider")
    expect(slider).to_be_visible()
    expect(nb.output(0).locator(".widget-readout")).to_have_text("7")
    expect(nb.output(1)).to_contain_text("42")
    assert nb.output(0).locator(".jp-RenderedText").count() == 0  # no "model not found" etc.


@all_comms_modes
def test_lab_slider_renders_and_cell_prints(notebook, jupyter_server):
    nb = notebook(SLIDER_CELLS)
    _assert_slider_and_42(nb)
    # the prompt shows [N] on execute_reply; the idle status follows on IOPub
    nb.wait_kernel_idle(10)
    assert not nb.kernel_busy()
    _assert_clean(nb)


@all_comms_modes
def test_lab_anywidget_clicks_reach_kernel(notebook, jupyter_server):
    nb = notebook([ANYWIDGET_CELL])
    nb.run_all()
    nb.wait_cell_done(0)
    button = nb.widget(0, "[data-testid=ping]")
    expect(button).to_be_visible()
    # Four clicks, spaced: JupyterLab makes the comm target's subshell on first use, and on a
    # loaded machine the first clicks were once both handled on the main shell before it was up.
    for _ in range(4):
        button.click()
        nb.page.wait_for_timeout(150)
    nb.screenshot("clicked")
    i = nb.add_cell_and_run(READ_COUNT_CELL)
    nb.wait_cell_done(i)
    text = nb.output_text(i)
    assert re.search(r"^count 4$", text, re.M), text
    # the setting really reached the kernel: comm handlers run on the main thread only
    # when comms over subshells are disabled
    on_main = jupyter_server.comms_mode == "disabled"
    assert f"main {on_main}" in text, text
    _assert_clean(nb)


def test_notebook7_slider_renders(notebook7):
    nb = notebook7(SLIDER_CELLS)
    _assert_slider_and_42(nb)
    i = nb.add_cell_and_run("print('nb7', b.value)")
    nb.wait_cell_done(i)
    assert "nb7 7" in nb.output_text(i)
    _assert_clean(nb)


HELPER_CELLS = [
    # 0: a synchronous cell that keeps the kernel busy
    "import time\ntime.sleep(2.5)\nprint('slept')",
    # 1: a background task on the kernel's loop that outlives its cell
    "import asyncio\n"
    "import ipywidgets as w\n"
    "p = w.IntProgress(value=0, max=30)\n"
    "async def tick():\n"
    "    for k in range(30):\n"
    "        await asyncio.sleep(0.1)\n"
    "        p.value = k + 1\n"
    "task = asyncio.get_running_loop().create_task(tick())\n"
    "p",
    # 2: an exception
    "1/0",
]


def test_lab_harness_helpers(notebook):
    """The helpers the real scenarios rely on: run_cell, kernel_busy, add_cell_and_run
    while a task runs, stderr_text."""
    nb = notebook(HELPER_CELLS)
    nb.run_cell(0)
    nb.page.wait_for_function(
        "() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
        "?.getAttribute('data-status') === 'busy'",
        timeout=10_000,
    )
    assert nb.kernel_busy()
    nb.wait_cell_done(0)
    assert "slept" in nb.output_text(0)
    nb.wait_kernel_idle(10)
    assert not nb.kernel_busy()

    nb.run_and_wait(1)
    expect(nb.widget(1, ".widget-hprogress")).to_be_visible()
    # another cell runs at once while the task is still running
    i = nb.add_cell_and_run("print('task done:', task.done(), p.value < 30)")
    assert i == 3
    nb.wait_cell_done(i, timeout=10)
    assert "task done: False True" in nb.output_text(i)
    # the task finishes with no cell running and the browser sees the last value
    expect(nb.widget(1, ".widget-hprogress .progress-bar")).to_have_attribute(
        "style", re.compile(r"width:\s*100%"), timeout=15_000
    )

    nb.run_and_wait(2)
    assert "ZeroDivisionError" in nb.stderr_text(2)
    assert nb.stderr_text(0) == ""
    assert nb.cell_count() == 4
    _assert_clean(nb)
