"""Jupyter widgets, an async client, a CLI and an offline emulator for Seedance 2.0 video.

    from seedance_widgets import SeedancePanel
    SeedancePanel()            # demo mode on the built-in emulator when no TOKENLAB_API_KEY

The widgets (anywidget, ipywidgets) load on first use, so scripts that only need the client
do not pay for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import history  # the package, callable: history() lists every task, oldest first
from ._assets import Asset, AssetDeleted, AsyncAssets
from ._catalog import Catalog, ModelSpec, default_catalog
from ._client import AsyncSeedanceClient, CancelResult
from ._demo import connect, connect_sync
from ._errors import (
    AmbiguousSubmitError,
    APIConnectionError,
    APIError,
    APITimeoutError,
    AssetError,
    AssetFailedError,
    AssetTimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ConflictError,
    HistoryError,
    InvalidResponseError,
    MaterialPreparingError,
    MediaHostError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ResultExpiredError,
    SaveError,
    SeedanceError,
    ServerError,
    TaskCancelledError,
    TaskError,
    TaskFailedError,
    TaskNotRecordedError,
    TaskTimeoutError,
    UsageError,
)
from ._media_host import FsspecMediaHost, MediaHost
from ._pricing import PriceEstimate, estimate_price
from ._request import VideoRequest
from ._retry import RetryPolicy
from ._sync import SeedanceClient
from ._task import TERMINAL_STATES, Task, display_status, normalize_status
from .history import History, HistoryEntry, HistoryPage, Journal, JournalEntry

if TYPE_CHECKING:
    from .widgets import Gallery, SeedancePanel, TaskWidget

from ._version import __version__ as __version__

_WIDGETS = ("SeedancePanel", "TaskWidget", "Gallery")


def __getattr__(name: str) -> Any:
    if name in _WIDGETS:
        import importlib

        return getattr(importlib.import_module(".widgets", __name__), name)
    raise AttributeError(f"module 'seedance_widgets' has no attribute {name!r}")


__all__ = [
    "TERMINAL_STATES",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AmbiguousSubmitError",
    "Asset",
    "AssetDeleted",
    "AssetError",
    "AssetFailedError",
    "AssetTimeoutError",
    "AsyncAssets",
    "AsyncSeedanceClient",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "CancelResult",
    "Catalog",
    "ConflictError",
    "FsspecMediaHost",
    "Gallery",
    "History",
    "HistoryEntry",
    "HistoryError",
    "HistoryPage",
    "InvalidResponseError",
    "Journal",
    "JournalEntry",
    "MaterialPreparingError",
    "MediaHost",
    "MediaHostError",
    "ModelSpec",
    "NotFoundError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "PriceEstimate",
    "RateLimitError",
    "ResultExpiredError",
    "RetryPolicy",
    "SaveError",
    "SeedanceClient",
    "SeedanceError",
    "SeedancePanel",
    "ServerError",
    "Task",
    "TaskCancelledError",
    "TaskError",
    "TaskFailedError",
    "TaskNotRecordedError",
    "TaskTimeoutError",
    "TaskWidget",
    "UsageError",
    "VideoRequest",
    "connect",
    "connect_sync",
    "default_catalog",
    "display_status",
    "estimate_price",
    "history",
    "normalize_status",
]
