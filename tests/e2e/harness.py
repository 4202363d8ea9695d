"""Helpers that drive a real JupyterLab / Jupyter Notebook 7 in Debian's Chromium.

The fixtures in ``tests/e2e/conftest.py`` wrap these helpers; tests normally only use
the fixtures.  Nothing here depends on ``seedance_widgets``' own widgets.

Fixtures (see conftest.py)
--------------------------
``jupyter_server``
    A :class:`JupyterServer` (one per comms mode, started lazily, shared by all tests of
    this folder; package-scoped).
    Default mode ``"perCommTarget"``; choose the mode with indirect parametrization::

        # all_comms_modes == pytest.mark.parametrize("jupyter_server", COMMS_MODES, indirect=True)
        @all_comms_modes
        def test_x(notebook): ...

``browser``
    One headless ``/usr/bin/chromium`` (Playwright sync API), package-scoped; each
    notebook gets its own browser context.

``notebook``
    Factory ``notebook(cells, *, ui="lab" | "notebook7", name=None) -> NotebookPage``:
    writes an nbformat-4 notebook from a list of code-cell sources into the server root,
    opens it in a fresh browser context/page (1280x1000) -- JupyterLab at
    ``/lab/workspaces/<fresh>/tree/<name>?token=T`` (a new workspace, so no tabs or
    kernels of earlier tests are restored), Notebook 7 at ``/notebooks/<name>?token=T``
    -- and waits until the kernel is really attached and idle (server: a session for
    the file with an idle, connected kernel; page: the UI's readiness conditions).
    At teardown (pass or fail) it saves ``artifacts/e2e/<test>-final.png``, closes the
    page and shuts the kernel down.

    ``saved=<nbformat notebook>`` writes that notebook as it is (outputs, widget state)
    and signs it as trusted, to test what reopening a saved notebook shows.

``notebook7``
    Same factory with ``ui="notebook7"`` preset (``/notebooks/<name>`` URL).

NotebookPage API
----------------
``page``                       the Playwright ``Page``
``run_all()``                  menu Run -> "Run All Cells"
``run_cell(i)``                select cell ``i`` (click its prompt) and press Ctrl+Enter
                               (run without advancing: no empty cell gets appended)
``wait_cell_done(i, timeout=60)``  wait until cell ``i``'s prompt shows ``[N]`` (a *new* N
                               if the cell had run before); returns N.  The prompt updates
                               on execute_reply: the kernel may read busy a moment longer,
                               so use ``wait_kernel_idle()`` before asserting it is idle
``run_and_wait(i, timeout=60)`` ``run_cell`` + ``wait_cell_done``
``cell(i)``                    locator of the ``i``-th ``.jp-Cell``
``output(i)``                  locator of cell ``i``'s ``.jp-Cell-outputArea``
``output_text(i)``             its inner text
``stderr_text(i)``             text of cell ``i``'s stderr and traceback outputs, "" if none
``widget(i, selector=None, nth=0)``  root element of the ``nth`` widget view in cell
                               ``i``'s output (ipywidgets' ``.jupyter-widgets`` element,
                               anywidget's ``el``); with ``selector``: matching elements in
                               that view, root included (``widget(0, ".widget-slider")``)
``add_cell_and_run(source)``   append a code cell at the end, type ``source``, run it;
                               returns the new cell's index (works while a task runs)
``kernel_busy()``              True while the kernel status is busy
``wait_kernel_idle(timeout)``  wait for the idle status
``screenshot(name)``           save ``artifacts/e2e/<test>-<name>.png``; returns the path
``console_errors``             list of console 'error' messages and page errors (strings)
``unexpected_console_errors()`` the same without ``KNOWN_CONSOLE_NOISE`` of this UI
``error_details``              the same errors with stacks / source locations
``external_requests``          http(s) requests the page tried to send off 127.0.0.1

Example
-------
::

    from .harness import all_comms_modes, kernel_wait_source

    @all_comms_modes
    def test_button(notebook):
        nb = notebook([
            "import ipywidgets as w\\nclicks = []\\n"
            "b = w.Button(description='go')\\nb.on_click(clicks.append)\\nb",
            "print('ok')",
        ])
        nb.run_all()
        nb.wait_cell_done(1)
        nb.widget(0, "button").click()
        # with comms over subshells the click is handled on another thread, maybe after
        # the next cell starts: wait for it inside the kernel (without blocking its loop)
        i = nb.add_cell_and_run(kernel_wait_source("clicks") + "print(len(clicks))")
        nb.wait_cell_done(i)
        assert nb.output_text(i).strip() == "1"
        nb.screenshot("after-click")

Comm messages from the browser (clicks, ``model.save_changes()``) are handled on a
subshell thread in ``perCommTarget`` mode and can be processed *after* a cell run later
starts; in ``disabled`` mode they queue on the main shell before it.  Read their effects
with ``kernel_wait_source(condition)`` (polls with ``await asyncio.sleep``) rather than a
bare ``print``.

Environment
-----------
The server runs with ``JUPYTER_CONFIG_DIR``, ``JUPYTER_DATA_DIR``, ``JUPYTER_RUNTIME_DIR``,
``JUPYTERLAB_SETTINGS_DIR``, ``JUPYTERLAB_WORKSPACES_DIR``, ``IPYTHONDIR`` and ``HOME`` in a
temporary folder; kernels inherit ``SEEDANCE_WIDGETS_HOME=<tmp>/sw-home`` and no
``TOKENLAB_API_KEY`` / ``TOKENLAB_BASE_URL``.  The extensions of the venv
(``sys.prefix/share/jupyter``) are still found; the server fixture checks that the
ipywidgets manager and anywidget lab extensions are in the page config.
Lab settings written (ids verified against ``<venv>/share/jupyter/lab/schemas`` and read
back through ``/lab/api/settings/<id>`` at every start-up, see ``verify_lab_settings``):

- ``@jupyterlab/apputils-extension:notification``
  ``{"fetchNews": "false", "checkForUpdates": false}``
- ``@jupyterlab/notebook-extension:tracker`` ``{"windowingMode": "none"}``
- ``@jupyterlab/apputils-extension:kernels-settings`` ``{"commsOverSubshells": <mode>}``

The server also gets ``LabApp.news_url=None``, ``NeverCheckForUpdate`` and the read-only
extension manager, and Chromium resolves no host but 127.0.0.1, so nothing reaches the
internet.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "artifacts" / "e2e"
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # belt and braces: the browser cannot resolve any host but the local server
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
]
COMMS_MODES = ("perCommTarget", "disabled")
DEFAULT_COMMS_MODE = "perCommTarget"
KERNEL_NAME = "python3"
KERNEL_DISPLAY_NAME = "Python 3 (ipykernel)"
VIEWPORT = {"width": 1280, "height": 1000}

#: lab extensions that must be present in the page config for widgets to render
REQUIRED_LAB_EXTENSIONS = ("@jupyter-widgets/jupyterlab-manager", "anywidget")

#: ``pytest.mark.parametrize`` over both ``commsOverSubshells`` modes (indirect on the
#: ``jupyter_server`` fixture)
all_comms_modes = pytest.mark.parametrize("jupyter_server", COMMS_MODES, indirect=True)

#: wall-clock measurements collected during the session, printed in the terminal summary
TIMINGS: dict[str, float] = {}

#: upstream page errors that are not ours, per UI (seen with Notebook 7.6.5 whether or
#: not any settings are written; the second when the server has served JupyterLab
#: pages before: Notebook 7's file-browser restorer calls a command it never registers)
KNOWN_CONSOLE_NOISE: dict[str, tuple[str, ...]] = {
    "lab": (),
    "notebook7": (
        r"^pageerror: Cannot read properties of undefined \(reading 'schema'\)$",
        r"^pageerror: Command 'filebrowser:open-path' not registered\.$",
    ),
}

#: an output that holds a rendered widget view (ipywidgets' WidgetRenderer is a Panel)
WIDGET_OUTPUT = ".jp-OutputArea-output.lm-Panel"

_PROMPT_DONE = re.compile(r"^\s*\[(\d+)\]:?\s*$")


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_settings(comms_mode: str) -> dict[str, dict[str, Any]]:
    """Settings files to write, keyed by ``<package>/<plugin>.jupyterlab-settings`` path."""
    if comms_mode not in ("disabled", "perComm", "perCommTarget"):
        raise ValueError(f"unknown commsOverSubshells mode {comms_mode!r}")
    return {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
            "windowingMode": "none",
        },
        "@jupyterlab/apputils-extension/kernels-settings.jupyterlab-settings": {
            "commsOverSubshells": comms_mode,
        },
    }


def write_lab_settings(settings_dir: Path, comms_mode: str) -> None:
    for rel, value in lab_settings(comms_mode).items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value, indent=2))


def server_env(base: Path) -> dict[str, str]:
    """The environment of the server, and so of its kernels: everything in ``base``."""
    env = dict(os.environ)
    for var in (
        "TOKENLAB_API_KEY",
        "TOKENLAB_BASE_URL",
        "ANYWIDGET_HMR",
        "JUPYTER_TOKEN",
        "JUPYTER_PATH",
        "JUPYTER_CONFIG_PATH",
        "PYTHONSTARTUP",
        "XDG_RUNTIME_DIR",
    ):
        env.pop(var, None)
    dirs = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_DATA_DIR": base / "data",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": base / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "lab-workspaces",
        "IPYTHONDIR": base / "ipython",
        "HOME": base / "home",
        "XDG_CONFIG_HOME": base / "home" / ".config",
        "XDG_DATA_HOME": base / "home" / ".local" / "share",
        "XDG_CACHE_HOME": base / "home" / ".cache",
        "SEEDANCE_WIDGETS_HOME": base / "sw-home",
    }
    for var, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env["PYTHONUNBUFFERED"] = "1"
    # the kernel (sys.executable of the server) must import the same packages
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@dataclass
class JupyterServer:
    """A running ``jupyter lab`` subprocess (also serving Notebook 7 at ``/notebooks``)."""

    comms_mode: str
    port: int
    token: str
    root: Path
    base: Path
    log_path: Path
    proc: subprocess.Popen[bytes]
    startup_seconds: float = 0.0
    page_config: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lab_url(self, name: str, workspace: str | None = None) -> str:
        """``/lab/tree/<name>``; with ``workspace``, in that (fresh) named workspace."""
        prefix = f"/lab/workspaces/{workspace}" if workspace else "/lab"
        return f"{self.url}{prefix}/tree/{name}?token={self.token}"

    def notebook7_url(self, name: str) -> str:
        return f"{self.url}/notebooks/{name}?token={self.token}"

    # ----- REST
    def api(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def sessions(self) -> list[dict[str, Any]]:
        return self.api("GET", "/api/sessions")

    def shutdown_sessions(self, path: str | None = None) -> None:
        """Delete the sessions (and so shut down the kernels) of ``path``, or all."""
        with contextlib.suppress(Exception):
            for s in self.sessions():
                if path is None or s.get("path") == path:
                    with contextlib.suppress(Exception):
                        self.api("DELETE", f"/api/sessions/{s['id']}")

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    # ----- lifetime
    def stop(self, timeout: float = 15) -> None:
        """Shut kernels down, stop the server, and kill anything left behind."""
        import psutil

        children: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(self.proc.pid).children(recursive=True)
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.api("POST", "/api/shutdown", timeout=5)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        alive = [c for c in children if c.is_running()]
        for c in alive:
            with contextlib.suppress(psutil.Error):
                c.terminate()
        _, alive = psutil.wait_procs(alive, timeout=5)
        for c in alive:
            with contextlib.suppress(psutil.Error):
                c.kill()


def _read_page_config(server: JupyterServer, path: str) -> dict[str, Any]:
    req = urllib.request.Request(
        f"{server.url}{path}", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        html = resp.read().decode()
    m = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S
    )
    if not m:
        raise RuntimeError(f"no jupyter-config-data in {path}")
    return json.loads(m.group(1))


def _wait_status(server: JupyterServer, deadline: float) -> bool:
    """Poll ``/api/status`` (with the token) until it answers: True; False if the
    process exited first; TimeoutError at ``deadline`` (the server is stopped)."""
    last_err: Exception | None = None
    while True:
        if server.proc.poll() is not None:
            return False
        try:
            server.api("GET", "/api/status", timeout=2)
            return True
        except (urllib.error.URLError, OSError, ValueError) as e:
            last_err = e
        if time.monotonic() > deadline:
            server.stop()
            raise TimeoutError(f"jupyter lab not ready in time ({last_err}):\n{server.log_tail()}")
        time.sleep(0.2)


def start_jupyter_server(
    base: Path, comms_mode: str = DEFAULT_COMMS_MODE, timeout: float = 60
) -> JupyterServer:
    """Start ``python -m jupyterlab`` isolated in ``base``; return when ``/api/status`` answers."""
    t0 = time.monotonic()
    base.mkdir(parents=True, exist_ok=True)
    env = server_env(base)
    root = base / "root"
    root.mkdir(exist_ok=True)
    write_lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]), comms_mode)
    # server-side: no announcements, no update check, no PyPI extension manager
    (Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "LabApp": {
                    "news_url": None,
                    "check_for_updates_class": (
                        "jupyterlab.handlers.announcements.NeverCheckForUpdate"
                    ),
                    "extension_manager": "readonly",
                },
            },
            indent=2,
        )
    )
    token = secrets.token_hex(16)
    log_path = base / "server.log"
    deadline = t0 + timeout
    for attempt in range(3):
        # free_port() can race with another process binding the port before the server
        # does; with --port-retries=0 the server then exits and we try another port
        port = free_port()
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
        ]  # fmt: skip
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        server = JupyterServer(comms_mode, port, token, root, base, log_path, proc)
        if _wait_status(server, deadline):
            break
        if attempt < 2 and re.search(r"already in use|Address already", server.log_tail()):
            continue
        raise RuntimeError(
            f"jupyter lab exited with {proc.returncode} during start-up:\n{server.log_tail()}"
        )
    server.startup_seconds = time.monotonic() - t0
    # the venv's extensions must still be found despite the isolated data dir
    server.page_config = _read_page_config(server, "/lab")
    names = {e.get("name") for e in server.page_config.get("federated_extensions", [])}
    missing = [n for n in REQUIRED_LAB_EXTENSIONS if n not in names]
    if missing:
        server.stop()
        raise RuntimeError(f"lab extensions missing from page config: {missing}; found {names}")
    # the settings files were picked up under the ids the schemas define
    try:
        verify_lab_settings(server)
    except Exception:
        server.stop()
        raise
    return server


def settings_id(rel_path: str) -> str:
    """``@pkg/plugin-extension/name.jupyterlab-settings`` -> ``@pkg/plugin-extension:name``."""
    pkg, _, name = rel_path.removesuffix(".jupyterlab-settings").rpartition("/")
    return f"{pkg}:{name}"


def verify_lab_settings(server: JupyterServer) -> None:
    """Read each written setting back through ``/lab/api/settings/<id>``: a wrong id is
    a 404, a key missing from the schema or a value that did not load is an error."""
    for rel, expected in lab_settings(server.comms_mode).items():
        sid = settings_id(rel)
        reply = server.api("GET", f"/lab/api/settings/{sid}")
        got = reply.get("settings", {})
        props = reply.get("schema", {}).get("properties", {})
        for key, value in expected.items():
            if key not in props:
                raise RuntimeError(f"setting {sid} has no key {key!r} in its schema")
            if got.get(key) != value:
                raise RuntimeError(f"setting {sid} {key}={got.get(key)!r}, wanted {value!r}")


# --------------------------------------------------------------------------- notebooks


def write_notebook(path: Path, sources: list[str]) -> Path:
    """Write an nbformat-4 notebook of code cells bound to the ``python3`` kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": KERNEL_DISPLAY_NAME,
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def write_trusted(server: JupyterServer, path: Path, nb: Any) -> Path:
    """Write an nbformat notebook with its outputs, signed with the server's notebook secret
    so JupyterLab treats it as trusted (as it does a notebook the user ran and saved)."""
    import nbformat
    from nbformat.sign import NotebookNotary

    nb.metadata.setdefault("kernelspec", {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY_NAME,
                                          "language": "python"})
    NotebookNotary(data_dir=str(server.base / "data")).sign(nb)
    nbformat.write(nb, str(path))
    return path


def kernel_wait_source(condition: str, timeout: float = 10) -> str:
    """Cell source that waits (``await asyncio.sleep``, so the kernel's loop keeps
    running) until the Python expression ``condition`` is true or ``timeout`` passes;
    append the code that reads the result."""
    return (
        "import asyncio as _e2e_asyncio, time as _e2e_time\n"
        f"_e2e_deadline = _e2e_time.monotonic() + {timeout!r}\n"
        f"while not ({condition}) and _e2e_time.monotonic() < _e2e_deadline:\n"
        "    await _e2e_asyncio.sleep(0.05)\n"
    )


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120] or "test"


# --------------------------------------------------------------------------- browser


def require_chromium() -> str:
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(
            f"{CHROMIUM_PATH} is missing. Install Debian's Chromium with "
            "`apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium` "
            "(do NOT run `playwright install`).",
            pytrace=False,
        )
    return CHROMIUM_PATH


def launch_browser(playwright: Any, home: Path) -> Any:
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("TOKENLAB_API_KEY",)}
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    return playwright.chromium.launch(
        executable_path=require_chromium(), headless=True, args=CHROMIUM_ARGS, env=env
    )


# JS predicates for kernel readiness ---------------------------------------------------
# Both UIs show an *idle* execution indicator before any kernel is attached (the
# kernel-readiness race), so these are only checked after the server reports a session
# for the notebook whose kernel is idle and has a websocket connection (see
# NotebookPage._wait_session_kernel).

# JupyterLab: the three conditions of the facts file
_LAB_READY_JS = """
() => {
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  if (!ind || ind.getAttribute('data-status') !== 'idle') return false;
  const kb = document.querySelector('[data-jp-item-name=kernelName] jp-button');
  const label = kb ? (kb.getAttribute('aria-label') || kb.textContent || '').trim() : '';
  if (!label || /No Kernel/i.test(label)) return false;
  return [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
    .map(e => e.textContent.replace(/\\s+/g, ' ').trim())
    .some(t => / \\| Idle$/.test(t) && !/No Kernel/i.test(t));
}
"""

# Notebook 7 has no status bar.  Observed (Notebook 7.6): the toolbar's execution
# indicator goes idle -> initializing -> connecting -> busy -> idle, while the top-bar
# ".jp-NotebookKernelStatus" reads "Kernel Initializing" / "Kernel Connecting" and is
# empty once connected; the toolbar kernel name is a jp-button like in JupyterLab.
_NB7_READY_JS = """
() => {
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  if (!ind || ind.getAttribute('data-status') !== 'idle') return false;
  const kb = document.querySelector('[data-jp-item-name=kernelName] jp-button');
  const label = kb ? (kb.getAttribute('aria-label') || kb.textContent || '').trim() : '';
  if (!label || /No Kernel/i.test(label)) return false;
  const st = document.querySelector('.jp-NotebookKernelStatus');
  return !st || st.textContent.trim() === '';
}
"""


class NotebookPage:
    """One notebook opened in a fresh browser context; see the module docstring."""

    def __init__(
        self,
        *,
        server: JupyterServer,
        browser: Any,
        path: Path,
        ui: str,
        artifact_prefix: str,
    ) -> None:
        self.server = server
        self.path = path
        self.name = path.name
        self.ui = ui
        self.artifact_prefix = artifact_prefix
        self.console_errors: list[str] = []
        self.error_details: list[str] = []  # page errors with their stacks
        self.external_requests: list[str] = []
        self._prompts_before: dict[int, str] = {}
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", self._on_pageerror)
        self.page.on("request", self._on_request)
        self.closed = False

    # ----- events
    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            self.console_errors.append(f"console.error: {msg.text}")
            loc = msg.location or {}
            self.error_details.append(
                f"console.error: {msg.text} @ {loc.get('url')}:{loc.get('lineNumber')}"
            )

    def _on_pageerror(self, err: Any) -> None:
        self.console_errors.append(f"pageerror: {err}")
        stack = getattr(err, "stack", None) or ""
        self.error_details.append(f"pageerror: {err}\n{stack[:1500]}")

    def _on_request(self, req: Any) -> None:
        url = req.url
        if url.startswith(("http://", "https://")) and not url.startswith(
            (f"http://127.0.0.1:{self.server.port}", "http://127.0.0.1/", "http://localhost")
        ):
            self.external_requests.append(url)

    def unexpected_console_errors(self) -> list[str]:
        """``console_errors`` without the known upstream noise of this UI."""
        noise = [re.compile(p) for p in KNOWN_CONSOLE_NOISE.get(self.ui, ())]
        return [e for e in self.console_errors if not any(n.search(e) for n in noise)]

    # ----- open & readiness
    def open(self, timeout: float = 60) -> NotebookPage:
        t0 = time.monotonic()
        if self.ui == "lab":
            # a fresh named workspace: nothing restored from earlier tests
            ws = safe_name(self.path.stem)
            url = self.server.lab_url(self.name, workspace=ws)
            ready = _LAB_READY_JS
        elif self.ui == "notebook7":
            url = self.server.notebook7_url(self.name)
            ready = _NB7_READY_JS
        else:
            raise ValueError(f"unknown ui {self.ui!r}")
        self.page.goto(url, wait_until="domcontentloaded")
        self.page.locator(".jp-NotebookPanel-notebook .jp-Cell").first.wait_for(
            state="visible", timeout=timeout * 1000
        )
        self._wait_session_kernel(timeout)
        self.page.wait_for_function(ready, timeout=timeout * 1000, polling=100)
        self.open_seconds = time.monotonic() - t0
        return self

    def _wait_session_kernel(self, timeout: float) -> None:
        """The server side agrees: a session for this file with an idle kernel."""
        deadline = time.monotonic() + timeout
        while True:
            for s in self.server.sessions():
                k = s.get("kernel") or {}
                if (
                    s.get("path") == self.name
                    and k.get("execution_state") == "idle"
                    and k.get("connections", 0) >= 1
                ):
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"no idle kernel session for {self.name}")
            time.sleep(0.1)

    # ----- cells
    @property
    def cells(self) -> Any:
        return self.page.locator(".jp-NotebookPanel-notebook .jp-Cell")

    def cell(self, i: int) -> Any:
        return self.cells.nth(i)

    def cell_count(self) -> int:
        return self.cells.count()

    def prompt(self, i: int) -> Any:
        return self.cell(i).locator(".jp-InputArea-prompt").first

    def prompt_text(self, i: int) -> str:
        return (self.prompt(i).text_content() or "").strip()

    def output(self, i: int) -> Any:
        return self.cell(i).locator(".jp-Cell-outputArea")

    def output_text(self, i: int) -> str:
        return self.output(i).inner_text()

    def stderr_text(self, i: int) -> str:
        """Text of cell ``i``'s stderr outputs; JupyterLab renders tracebacks with the
        same mime type (``application/vnd.jupyter.stderr``), so a raised exception shows
        here too.  "" when there is none."""
        outputs = self.output(i).locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
        )
        return "\n".join(outputs.all_inner_texts())

    def widget(self, i: int, selector: str | None = None, *, nth: int = 0) -> Any:
        """The ``nth`` widget view rendered in cell ``i``'s output (ipywidgets or anywidget).

        Without ``selector``: the view's root element (ipywidgets' ``.jupyter-widgets``
        element, anywidget's ``el``).  With ``selector``: elements matching it in that
        view, the root included (e.g. ``widget(0, ".widget-slider")``,
        ``widget(0, "[data-testid=ping]")``).
        """
        # the widget renderer is a Lumino Panel inside the output; text outputs are not
        container = self.output(i).locator(WIDGET_OUTPUT).nth(nth)
        return container.locator(selector) if selector else container.locator(":scope > .lm-Widget")

    def _remember_prompts(self, indices: list[int]) -> None:
        for i in indices:
            self._prompts_before[i] = self.prompt_text(i)

    def wait_cell_done(self, i: int, timeout: float = 60) -> int:
        """Wait until cell ``i``'s prompt reads ``[N]`` with an N it did not show before
        the last ``run_*``; return N."""
        before = self._prompts_before.get(i, "")
        prompt = self.prompt(i)
        deadline = time.monotonic() + timeout
        while True:
            text = (prompt.text_content() or "").strip()
            m = _PROMPT_DONE.match(text)
            if m and text != before:
                self._prompts_before[i] = text
                return int(m.group(1))
            if time.monotonic() > deadline:
                raise TimeoutError(f"cell {i} not done after {timeout}s (prompt {text!r})")
            time.sleep(0.1)

    def run_all(self) -> None:
        """Menu bar "Run" -> "Run All Cells"."""
        self._remember_prompts(list(range(self.cell_count())))
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    def select_cell(self, i: int) -> None:
        """Select cell ``i`` in command mode (click its input prompt)."""
        self.prompt(i).click()
        self.page.wait_for_function(
            """(i) => {
              const cells = document.querySelectorAll('.jp-NotebookPanel-notebook .jp-Cell');
              const c = cells[i];
              return c && c.classList.contains('jp-mod-active')
                && document.querySelector('.jp-NotebookPanel-notebook.jp-mod-commandMode');
            }""",
            arg=i,
            timeout=10_000,
        )

    def run_cell(self, i: int) -> None:
        """Select cell ``i`` and run it with Ctrl+Enter ("Run Selected Cell and Do not
        Advance"): unlike Shift+Enter it never appends an empty cell after the last one,
        so cell indices stay as written."""
        self._remember_prompts([i])
        self.select_cell(i)
        self.page.keyboard.press("Control+Enter")

    def run_and_wait(self, i: int, timeout: float = 60) -> int:
        self.run_cell(i)
        return self.wait_cell_done(i, timeout)

    def add_cell_and_run(self, source: str) -> int:
        """Append a code cell after the last one, type ``source`` and run it."""
        n = self.cell_count()
        self.select_cell(n - 1)
        self.page.keyboard.press("b")  # insert below, stays in command mode
        self.cells.nth(n).wait_for(state="attached", timeout=10_000)
        self.page.keyboard.press("Enter")  # edit mode
        editor = self.cell(n).locator(".cm-content")
        editor.wait_for(state="visible", timeout=10_000)
        self.page.wait_for_function(
            """(i) => {
              const c = document.querySelectorAll('.jp-NotebookPanel-notebook .jp-Cell')[i];
              return c && c.querySelector('.cm-editor.cm-focused');
            }""",
            arg=n,
            timeout=10_000,
        )
        # insert as one piece: no auto-indent or bracket auto-closing per keystroke
        self.page.keyboard.insert_text(source)
        self._prompts_before[n] = self.prompt_text(n)
        self.page.keyboard.press("Control+Enter")  # run, do not append another cell
        return n

    # ----- kernel
    def kernel_busy(self) -> bool:
        status = self.page.locator(".jp-Notebook-ExecutionIndicator").first.get_attribute(
            "data-status"
        )
        return status == "busy"

    def wait_kernel_idle(self, timeout: float = 60) -> None:
        self.page.wait_for_function(
            """() => {
              const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
              return ind && ind.getAttribute('data-status') === 'idle';
            }""",
            timeout=timeout * 1000,
        )

    # ----- artifacts
    def screenshot(self, name: str, full_page: bool = False) -> Path:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS_DIR / f"{self.artifact_prefix}-{safe_name(name)}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self.context.close()
        self.server.shutdown_sessions(self.name)
