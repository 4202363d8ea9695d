"""A notebook saved with widget state: small per task, and no key anywhere in the file."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from seedance_widgets.emulator import Emulator, Timings

SECRET = "sk-saved-notebook-" + "K" * 32


def _run(cells: list[str], env: dict[str, str], path: Path) -> int:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    old = dict(os.environ)
    os.environ.update(env)  # the kernel inherits this environment
    try:
        NotebookClient(nb, timeout=180, kernel_name="python3", store_widget_state=True).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    nbformat.write(nb, path)
    return path.stat().st_size


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str]]:
    tmp = tmp_path_factory.mktemp("saved-nb")
    out: dict[str, tuple[int, str]] = {}
    with Emulator(timings=Timings(queue_s=0.1, run_s=0.3), api_keys=[SECRET]) as emu:
        env = {"TOKENLAB_API_KEY": SECRET, "TOKENLAB_BASE_URL": emu.base_url,
               "SEEDANCE_WIDGETS_HOME": str(tmp / "home")}
        for n in (1, 21):
            cells = [
                "import asyncio\n"
                "from seedance_widgets import Gallery, SeedancePanel, connect\n"
                "client = connect()\n"
                "gallery = Gallery(client=client)\n"
                "panel = SeedancePanel(client, gallery=gallery, prompt='kept small')\n"
                f"tasks = [await client.create(model='seedance-2.0-fast', duration=4, seed=i,\n"
                f"         prompt=f'run {{i}}: a lighthouse at dusk, waves') for i in range({n})]\n"
                "for t in tasks:\n"
                "    gallery.add(t)\n"
                "await asyncio.gather(*(client.wait(t) for t in tasks))\n"
                "for _ in range(100):\n"
                "    if all(c['saved_path'] for c in gallery.tasks):\n"
                "        break\n"
                "    await asyncio.sleep(0.1)\n"
                "panel",
                "gallery",
            ]
            path = tmp / f"gallery-{n}.ipynb"
            size = _run(cells, env, path)
            out[str(n)] = (size, path.read_text())
    return out


def test_gallery_of_20_grows_at_most_3kb_per_card(saved: dict[str, tuple[int, str]]) -> None:
    (one, _), (many, text21) = saved["1"], saved["21"]
    assert "application/vnd.jupyter.widget-state+json" in text21
    per_task = (many - one) / 20
    print(f"saved notebook: {one} B with 1 task, {many} B with 21 -> {per_task:.0f} B per task")
    assert per_task <= 3_000


def test_key_appears_nowhere_in_the_saved_notebook(saved: dict[str, tuple[int, str]]) -> None:
    for _size, text in saved.values():
        assert SECRET not in text and "K" * 16 not in text
        assert "Bearer" not in text
