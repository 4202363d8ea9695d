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
import sys
from functools import cache
from pathlib import Path

import ipywidgets
import traitlets

STATIC = Path(__file__).parent.parent / "static"
_MISSING = ("export default { render({ el }) { el.textContent = 'seedance_widgets: the front-end "
            "bundle is missing; run `npm run build` in js/ or reinstall the package.'; } }")


@cache
def _read(name: str) -> str:
    path = STATIC / name
    # A source checkout without `npm run build`: say so in the widget instead of failing.
    return path.read_text() if path.exists() else (_MISSING if name.endswith(".js") else "")


def inline_bundle() -> bool:
    """True inside a marimo notebook or app (not merely when marimo was imported)."""
    if "marimo" not in sys.modules:
        return False
    try:
        return bool(sys.modules["marimo"].running_in_notebook())
    except Exception:  # an older or partial marimo: carrying the bundle works everywhere
        return True


def alive(model: ipywidgets.Widget | None) -> bool:
    """Whether the front end still has this model: closed by us (comm None) or by the front end
    (marimo closes the models a cell made when the cell runs again) means gone."""
    comm = getattr(model, "comm", None)
    return comm is not None and not getattr(comm, "_closed", False)


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


_asset: BundleAsset | None = None


def shared_asset() -> BundleAsset | None:
    """The kernel's bundle model, or None where each widget carries the bundle (marimo)."""
    global _asset
    if inline_bundle():
        return None
    if not alive(_asset):  # closed, e.g. by Widget.close_all()
        esm, css = _read("widget.js"), _read("widget.css")
        sha = hashlib.sha256((esm + css).encode()).hexdigest()[:16]
        _asset = BundleAsset(esm=esm, css=css, sha=sha)
    return _asset


_layout: ipywidgets.Layout | None = None


def shared_layout() -> ipywidgets.Layout:
    """One default Layout model for all our widgets: each DOMWidget would otherwise save its
    own (about 1 KB of nulls) into a notebook. Pass `layout=` to style one widget alone."""
    global _layout
    if not alive(_layout):
        _layout = ipywidgets.Layout()
    return _layout
