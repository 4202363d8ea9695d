"""Jupyter widgets, an async client, a CLI and an offline emulator for Seedance 2.0 video."""

from __future__ import annotations

from ._catalog import Catalog, ModelSpec, default_catalog
from ._pricing import PriceEstimate, estimate_price
from ._request import VideoRequest

__version__ = "0.1.0"
__all__ = [
    "Catalog",
    "ModelSpec",
    "PriceEstimate",
    "VideoRequest",
    "default_catalog",
    "estimate_price",
]
