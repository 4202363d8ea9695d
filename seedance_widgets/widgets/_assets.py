"""The front-end bundle, stored once per kernel: a shared asset model and a tiny loader `_esm`.

anywidget saves each instance's `_esm` into a notebook, so one `TaskWidget` per task used to
add the whole bundle per task. Here every widget carries only `static/loader.js` (about 1 KB)
and a reference to one `BundleAsset` model holding the bundle and its CSS; the loader imports it
from there. marimo cannot host ipywidgets models, so under marimo the bundle is inlined.
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
    """marimo shows anywidgets but not plain ipywidgets models: give it the whole bundle."""
    return "marimo" in sys.modules


def widget_esm() -> str:
    return _read("widget.js") if inline_bundle() else _read("loader.js")


def widget_css() -> str:
    return _read("widget.css") if inline_bundle() else ""


class BundleAsset(ipywidgets.Widget):
    """Holds the bundle once; `sha` lets the page import it once however many views load."""

    esm = traitlets.Unicode("").tag(sync=True)
    css = traitlets.Unicode("").tag(sync=True)
    sha = traitlets.Unicode("").tag(sync=True)


_asset: BundleAsset | None = None


def shared_asset() -> BundleAsset:
    global _asset
    if _asset is None or _asset.comm is None:  # closed, e.g. by Widget.close_all()
        esm, css = _read("widget.js"), _read("widget.css")
        sha = hashlib.sha256((esm + css).encode()).hexdigest()[:16]
        _asset = BundleAsset(esm=esm, css=css, sha=sha)
    return _asset


_layout: ipywidgets.Layout | None = None


def shared_layout() -> ipywidgets.Layout:
    """One default Layout model for all our widgets: each DOMWidget would otherwise save its
    own (about 1 KB of nulls) into a notebook. Pass `layout=` to style one widget alone."""
    global _layout
    if _layout is None or _layout.comm is None:
        _layout = ipywidgets.Layout()
    return _layout
