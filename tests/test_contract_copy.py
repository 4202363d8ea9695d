import pytest

from .contract import CONTRACT, SHARED


def test_vendored_contract_matches_shared() -> None:
    if not SHARED.exists():
        pytest.skip("no ../shared/contract beside this clone; the vendored copy is the reference")
    assert CONTRACT.read_bytes() == SHARED.read_bytes(), "tests/contract is stale: copy it again"
