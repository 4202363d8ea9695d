from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own journal and video folder, and no real key or base URL."""
    home = tmp_path / "sw-home"
    monkeypatch.setenv("SEEDANCE_WIDGETS_HOME", str(home))
    monkeypatch.delenv("TOKENLAB_API_KEY", raising=False)
    monkeypatch.delenv("TOKENLAB_BASE_URL", raising=False)
    yield home
