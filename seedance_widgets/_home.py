"""Where seedance_widgets keeps the user's data: the task history, saved videos, demo state."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "SEEDANCE_WIDGETS_HOME"
# The server label of the built-in emulator, so demo tasks are never followed with a real key.
DEMO_SERVER = "demo"


def data_dir() -> Path:
    """$SEEDANCE_WIDGETS_HOME, or the platform's user data folder."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("seedance-widgets", appauthor=False))
