"""Run All with a real key set spends nothing: the notebooks submit only from the UI or
behind an explicit flag. The "real" service here is the emulator with a key, on loopback."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from seedance_widgets.emulator import Emulator, Timings

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SECRET = "sk-run-all-" + "R" * 30


@pytest.mark.parametrize("name", ["quickstart", "prompt_iteration", "python_api"])
def test_run_all_with_a_key_creates_no_task(name: str, tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    with Emulator(timings=Timings(queue_s=0.1, run_s=0.3), api_keys=[SECRET]) as emu:
        old = dict(os.environ)
        os.environ.update({"TOKENLAB_API_KEY": SECRET, "TOKENLAB_BASE_URL": emu.base_url,
                           "SEEDANCE_WIDGETS_HOME": str(tmp_path / "home")})
        try:
            NotebookClient(nb, timeout=120, kernel_name="python3",
                           resources={"metadata": {"path": str(tmp_path)}}).execute()
        finally:
            os.environ.clear()
            os.environ.update(old)
        assert emu.task_count() == 0
    texts = [o.get("text", "") for c in nb.cells for o in c.get("outputs", [])]
    assert not any("demo mode" in t for t in texts)  # it really ran against the keyed server
