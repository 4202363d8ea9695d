"""The old name of the task history, kept so existing imports keep working.

The JSON-lines journal was replaced by `seedance_widgets.history` (SQLite); an existing
`journal.jsonl` is imported into it on first open.
"""

from __future__ import annotations

from ._home import DEMO_SERVER, HOME_ENV, data_dir
from .history import History, HistoryEntry, Journal, JournalEntry, history

__all__ = ["DEMO_SERVER", "HOME_ENV", "History", "HistoryEntry", "Journal", "JournalEntry",
           "data_dir", "history"]
