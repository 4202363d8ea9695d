"""The front-end bundle, stored once per kernel: a shared asset model and a tiny loader `_esm`.

anywidget saves each instance's `_esm` into a notebook, so one `TaskWidget` per task used to
add the whole bundle per task. Here every widget carries only `static/loader.js` (about 1 KB)
and a reference to one `BundleAsset` model holding the bundle and its CSS; the loader imports it
from there.

marimo (0.25) hosts plain ipywidgets models as child models too, but it renders each view in a
shadow root (so CSS injected into the page's head does not reach it) and closes every model a
cell made when that cell runs again (so a shared asset would die with the cell that happened to
make it). So under marimo each widget carries the bundle and its CSS itself (with marimo.css:
the theme values JupyterLab would give): marimo mounts the CSS into the view's root and imports
a module once per content hash, and there is no asset.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import ipywidgets
import traitlets

from ._session import Session, alive, in_marimo, session

STATIC = Path(__file__).parent.parent / "static"
_MISSING = ("export default { render({ el }) { el.textContent = 'seedance_widgets: the front-end "
            "bundle is missing; run `npm run build` in js/ or reinstall the package.'; } }")


@cache
def _read(name: str) -> str:
    path = STATIC / name
    # A source checkout without `npm run build`: say so in the widget instead of failing.
    return path.read_text() if path.exists() else (_MISSING if name.endswith(".js") else "")


@cache
def inline_bundle() -> bool:
    """Whether widgets carry the bundle (marimo): decided once, as `_esm` is."""
    return in_marimo()


def widget_esm() -> str:
    return _read("widget.js") if inline_bundle() else _read("loader.js")


def widget_css() -> str:
    # marimo has none of JupyterLab's theme variables: marimo.css supplies its light and dark.
    return _read("widget.css") + _read("marimo.css") if inline_bundle() else ""


class BundleAsset(ipywidgets.Widget):
    """Holds the bundle once; `sha` lets the page import it once however many views load."""

    esm = traitlets.Unicode("").tag(sync=True)
    css = traitlets.Unicode("").tag(sync=True)
    sha = traitlets.Unicode("").tag(sync=True)


def shared_asset(scope: Session | None = None) -> BundleAsset | None:
    """The session's bundle model, or None where each widget carries the bundle (marimo)."""
    if inline_bundle():
        return None
    scope = scope or session()
    if not alive(scope.asset):  # closed, e.g. by Widget.close_all()
        esm, css = _read("widget.js"), _read("widget.css")
        sha = hashlib.sha256((esm + css).encode()).hexdigest()[:16]
        scope.asset = BundleAsset(esm=esm, css=css, sha=sha)
    return scope.asset


def shared_layout(scope: Session | None = None) -> ipywidgets.Layout:
    """One default Layout model for all our widgets: each DOMWidget would otherwise save its
    own (about 1 KB of nulls) into a notebook. Pass `layout=` to style one widget alone."""
    scope = scope or session()
    if not alive(scope.layout):
        scope.layout = ipywidgets.Layout()
    return scope.layout
