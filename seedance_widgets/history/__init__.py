"""The task history: every task ever created, searchable, shared by kernels, the CLI and scripts.

One SQLite file, `$SEEDANCE_WIDGETS_HOME/history.sqlite3` (default: the user data folder),
in WAL mode with a busy timeout, so two kernels, the CLI and a script can write at once. The
two records that protect money, the submit intent (written before the POST) and the create's
answer, are committed with synchronous=FULL. Large inline images live once each in `blobs/`
beside it, named by their SHA-256. An old `journal.jsonl` in the same folder is imported on
first open, and kept.

    from seedance_widgets.history import History
    h = History()
    page = h.page(24, status="completed", search="fox")   # newest first
    more = h.page(24, page.next_cursor, status="completed", search="fox")
    h.star(page.entries[0].id); h.set_note(..., "keeper"); h.set_tags(..., ["fox"])

Modules: `_schema` (tables, versions, migrations), `_connection` (opening, modes,
transactions), `_writes` (the statements), `_query` (filters and pages), `_blobs` (inline
images), `_import_jsonl` (the old journal), `_store` (the `History` API), `_problems` (why it
is off, in one line).
"""

from __future__ import annotations

import sys
import types

from .._errors import HistoryError
from .._home import DEMO_SERVER, HOME_ENV, data_dir
from ._entry import HistoryEntry, HistoryPage, SubmitRecord
from ._import_jsonl import ImportReport
from ._query import STATUS_FILTERS
from ._schema import SCHEMA_VERSION, SUBMIT_OUTCOMES
from ._store import History

# The names of the JSON-lines journal this replaces, kept so older code keeps working.
Journal = History
JournalEntry = HistoryEntry


def history(store: History | None = None) -> list[HistoryEntry]:
    """Every recorded task, oldest first, with its latest known state."""
    return (store or History()).entries()


class _CallableModule(types.ModuleType):
    # `seedance_widgets.history()` lists every task, as it always did, and the same name is
    # this package: calling the package is calling `history()`.
    def __call__(self, store: History | None = None) -> list[HistoryEntry]:
        return history(store)


sys.modules[__name__].__class__ = _CallableModule


__all__ = ["DEMO_SERVER", "HOME_ENV", "SCHEMA_VERSION", "STATUS_FILTERS", "SUBMIT_OUTCOMES",
           "History", "HistoryEntry", "HistoryError", "HistoryPage", "ImportReport", "Journal",
           "JournalEntry", "SubmitRecord", "data_dir", "history"]
