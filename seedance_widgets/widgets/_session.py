"""What the widgets share within one front-end session, and which models that front end still has.

Shared per session: the one card model of each task, the panels that take the actions of cards
with no handler of their own (newest last), the bundle asset and the default Layout.

A Jupyter kernel is one session per process. `marimo run` serves every viewer from a thread of
one process, each thread with its own kernel and page: a model made for one viewer's page is
unknown to another's, and one viewer's Re-run must never fill another viewer's panel. So under
marimo a session is the kernel's thread (each `marimo edit` session is a process of its own).
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Session:
    cards: weakref.WeakValueDictionary[str, Any] = field(
        default_factory=weakref.WeakValueDictionary)
    panels: list[Callable[..., None]] = field(default_factory=list)
    asset: Any = None
    layout: Any = None


_process = Session()
_threads: weakref.WeakKeyDictionary[threading.Thread, Session] = weakref.WeakKeyDictionary()


def in_marimo() -> bool:
    """True on a marimo kernel's thread (not merely when marimo was imported)."""
    if "marimo" not in sys.modules:
        return False
    try:
        return bool(sys.modules["marimo"].running_in_notebook())
    except Exception:  # an older or partial marimo: say yes, carrying the bundle works anywhere
        return True


def session() -> Session:
    """The session of the calling code; widgets keep the one they were made in."""
    if not in_marimo():
        return _process
    thread = threading.current_thread()
    found = _threads.get(thread)
    if found is None:
        found = _threads[thread] = Session()
    return found


def alive(model: Any) -> bool:
    """Whether the front end still has this model: closed by us (comm None) or by the front end
    (marimo closes the models a cell made when the cell runs again) means gone."""
    comm = getattr(model, "comm", None)
    return comm is not None and not getattr(comm, "_closed", False)
