"""What a notebook pays: saved-notebook growth, bundle size and import time."""

from __future__ import annotations

import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._common import STATIC, Config, child_env, ratio_of_medians, say


def bundle_sizes(static: Path = STATIC) -> dict[str, Any]:
    """Bytes of widget.js + widget.css, or None with the reason."""
    files = [static / "widget.js", static / "widget.css"]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        return {"bundle_bytes": None,
                "bundle_bytes_reason": f"missing {', '.join(missing)} in {static}: "
                                       "run `npm run build` in js/"}
    data = [f.read_bytes() for f in files]
    return {"bundle_bytes": sum(len(d) for d in data),
            "bundle_detail": {f.name: len(d) for f, d in zip(files, data, strict=True)}
            | {"gzip_total": sum(len(gzip.compress(d, 9)) for d in data)}}




_NB_SETUP = """\
import asyncio
from seedance_widgets import Gallery, TaskWidget, VideoRequest, connect

def request(i):
    return VideoRequest(model="seedance-2.0-fast", duration=4, seed=i,
                        prompt=f"a paper boat drifting down a rainy street, take {i}")

async def settle(trackers):
    # The widgets' own polls may be a step behind client.wait: let them show the end.
    for _ in range(400):
        if all(t.task.is_terminal and (t.saved_path or not t.save_videos) for t in trackers):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("widgets did not reach the end")
"""

_NB_GALLERY = """\
gallery = Gallery()
client = gallery.client
tasks = []
for i in range({n}):
    tasks.append(await client.create(request(i)))
    gallery.add(tasks[-1])
for t in tasks:
    await client.wait(t)
await settle(gallery.trackers)
gallery
"""

_NB_WIDGETS = """\
from IPython.display import display
client = connect()
widgets = []
for i in range({n}):
    widgets.append(TaskWidget(await client.create(request(i)), client=client))
for w in widgets:
    await client.wait(w.snapshot)
await settle([w.tracker for w in widgets])
for w in widgets:
    display(w)
"""


def _run_notebook(code: str, workdir: Path, name: str) -> tuple[int, dict[str, Any]]:
    import nbclient
    import nbformat

    home = workdir / f"home-{name}"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(_NB_SETUP), nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    env = child_env(SEEDANCE_WIDGETS_HOME=str(home), TOKENLAB_API_KEY=None,
                    TOKENLAB_BASE_URL=None,
                    SEEDANCE_EMU_QUEUE_S="0.1", SEEDANCE_EMU_RUN_S="0.3")
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits os.environ
    try:
        nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                store_widget_state=True,
                                resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    path = workdir / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    states = nb.metadata.get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    esm = [len(str(s.get("state", {}).get("_esm", ""))) for s in states.values()]
    css = [len(str(s.get("state", {}).get("_css", ""))) for s in states.values()]
    return path.stat().st_size, {"widget_models": len(states),
                                 "bundle_copies": sum(1 for e in esm if e),
                                 "bundle_bytes_in_state": sum(esm) + sum(css)}


def notebook_growth(cfg: Config) -> dict[str, Any]:
    n = cfg.notebook_tasks
    sizes: dict[str, int] = {}
    detail: dict[str, Any] = {"tasks": n}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, code in (("gallery_0", _NB_GALLERY.format(n=0)),
                           (f"gallery_{n}", _NB_GALLERY.format(n=n)),
                           ("widgets_1", _NB_WIDGETS.format(n=1)),
                           (f"widgets_{n}", _NB_WIDGETS.format(n=n))):
            t0 = time.perf_counter()
            sizes[name], detail[name] = _run_notebook(code, work, name)
            say(f"notebook {name}: {sizes[name]} B in {time.perf_counter() - t0:.1f} s")
    detail["sizes"] = sizes
    return {"notebook_bytes_per_task": {
        "gallery": round((sizes[f"gallery_{n}"] - sizes["gallery_0"]) / n),
        "widget_per_task": round((sizes[f"widgets_{n}"] - sizes["widgets_1"]) / (n - 1)),
    }, "notebook_detail": detail | {
        "baseline": "gallery: (size_N - size of a Gallery of 0) / N; widget_per_task: "
                    "(size_N - size of 1 TaskWidget) / (N - 1)"}}


# ====================================================================== import time
def _wall(code: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def import_ratio(cfg: Config) -> dict[str, Any]:
    env = child_env(TOKENLAB_API_KEY=None)
    ours_code, deps_code = "import seedance_widgets", "import anywidget, httpx, pydantic"
    _wall(ours_code, env), _wall(deps_code, env)  # warm caches and bytecode
    ours: list[float] = []
    deps: list[float] = []
    for i in range(cfg.import_reps):  # alternate (and swap the order) so both share the noise
        for code, bucket in ((ours_code, ours), (deps_code, deps))[:: 1 if i % 2 else -1]:
            bucket.append(_wall(code, env))
    return {"import_ratio": round(ratio_of_medians(ours, deps), 3),
            "import_ms": {"seedance_widgets": round(statistics.median(ours) * 1000, 1),
                          "anywidget_httpx_pydantic": round(statistics.median(deps) * 1000, 1),
                          "reps": cfg.import_reps}}


