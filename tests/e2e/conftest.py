"""Fixtures for the real-browser end-to-end tests; the helper API is documented in harness.py.

Servers and the browser are package-scoped (one per run of this folder): they are torn
down after the last e2e test, before the rest of the suite's async tests run, so the
Playwright sync API's event loop never coexists with pytest-asyncio's.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import (
    ARTIFACTS_DIR,
    DEFAULT_COMMS_MODE,
    TIMINGS,
    JupyterServer,
    NotebookPage,
    launch_browser,
    require_chromium,
    safe_name,
    start_jupyter_server,
    write_notebook,
    write_trusted,
)

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    if _HERE in Path(str(item.fspath)).resolve().parents:
        key = f"test {item.nodeid.split('::', 1)[-1]}"
        TIMINGS[key] = TIMINGS.get(key, 0.0) + rep.duration
    return rep


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TIMINGS:
        return
    terminalreporter.section("e2e timings (s)")
    for key, value in TIMINGS.items():
        terminalreporter.write_line(f"{value:7.2f}  {key}")
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS_DIR / "timings.json").write_text(json.dumps(TIMINGS, indent=2))


# --------------------------------------------------------------------------- server


@pytest.fixture(scope="package")
def _jupyter_servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], JupyterServer]]:
    """Start servers lazily, one per commsOverSubshells mode, shared by all e2e tests."""
    servers: dict[str, JupyterServer] = {}

    def get(mode: str) -> JupyterServer:
        if mode not in servers:
            base = tmp_path_factory.mktemp(f"jupyter-{mode}")
            server = start_jupyter_server(base, mode)
            TIMINGS[f"server start-up ({mode})"] = server.startup_seconds
            servers[mode] = server
        server = servers[mode]
        if server.proc.poll() is not None:
            pytest.fail(
                f"jupyter server ({mode}) died with {server.proc.returncode}:\n{server.log_tail()}",
                pytrace=False,
            )
        return server

    yield get
    for server in servers.values():
        server.stop()


@pytest.fixture
def jupyter_server(
    request: pytest.FixtureRequest, _jupyter_servers: Callable[[str], JupyterServer]
) -> JupyterServer:
    """The JupyterLab server for ``commsOverSubshells`` = ``request.param``
    (default ``perCommTarget``); parametrize with ``harness.all_comms_modes``."""
    return _jupyter_servers(getattr(request, "param", DEFAULT_COMMS_MODE))


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="package")
def _playwright() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(_playwright: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    t0 = time.monotonic()
    b = launch_browser(_playwright, tmp_path_factory.mktemp("browser-home"))
    TIMINGS["browser launch"] = time.monotonic() - t0
    yield b
    b.close()


# --------------------------------------------------------------------------- notebooks


def _make_notebook_factory(
    jupyter_server: JupyterServer, browser: Any, request: pytest.FixtureRequest, default_ui: str
) -> tuple[Callable[..., NotebookPage], list[NotebookPage]]:
    pages: list[NotebookPage] = []
    counter = itertools.count()
    test_name = safe_name(request.node.name)

    def open_notebook(
        cells: list[str], *, ui: str = default_ui, name: str | None = None, timeout: float = 90,
        saved: Any = None,
    ) -> NotebookPage:
        k = next(counter)
        stem = safe_name(name or test_name)
        path = jupyter_server.root / f"{stem}-{secrets.token_hex(3)}.ipynb"
        if saved is not None:
            write_trusted(jupyter_server, path, saved)
        else:
            write_notebook(path, cells)
        nb = NotebookPage(
            server=jupyter_server,
            browser=browser,
            path=path,
            ui=ui,
            artifact_prefix=test_name if k == 0 else f"{test_name}-{k}",
        )
        pages.append(nb)
        nb.open(timeout)
        TIMINGS[f"open+kernel ready {request.node.name}#{k}"] = nb.open_seconds
        return nb

    return open_notebook, pages


def _finish_pages(pages: list[NotebookPage], request: pytest.FixtureRequest) -> None:
    node = request.node
    failed = any(
        getattr(getattr(node, f"rep_{when}", None), "failed", False) for when in ("setup", "call")
    )
    for nb in pages:
        try:
            if not nb.closed:
                nb.screenshot("final")
        except Exception as e:
            print(f"[e2e] final screenshot failed: {e}")
        if failed:
            print(f"[e2e] {nb.name} ({nb.ui}) console errors:")
            for detail in nb.error_details:
                print(f"  {detail}")
            print(f"[e2e] external requests: {nb.external_requests}")
        nb.close()
    if failed and pages:
        print(f"[e2e] server log tail:\n{pages[0].server.log_tail()}")


@pytest.fixture
def notebook(
    jupyter_server: JupyterServer, browser: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., NotebookPage]]:
    """Factory ``notebook(cells, *, ui="lab"|"notebook7", name=None, saved=None)``; ``saved``
    (an nbformat notebook, e.g. one nbclient executed) is written as it is, outputs and widget
    state included, and signed as trusted so its outputs render."""
    factory, pages = _make_notebook_factory(jupyter_server, browser, request, "lab")
    yield factory
    _finish_pages(pages, request)


@pytest.fixture
def notebook7(
    jupyter_server: JupyterServer, browser: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., NotebookPage]]:
    """Like ``notebook`` but opens Jupyter Notebook 7 (``/notebooks/<name>``)."""
    factory, pages = _make_notebook_factory(jupyter_server, browser, request, "notebook7")
    yield factory
    _finish_pages(pages, request)
