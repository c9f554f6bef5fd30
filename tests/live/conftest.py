"""Live tests use real sockets on 127.0.0.1; every test here is marked `live` (but NO_SOCKETS)."""

from __future__ import annotations

import pytest

NO_SOCKETS = frozenset({"test_faultboard.py", "test_fault_parity.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name == "live" and item.path.name not in NO_SOCKETS:
            item.add_marker(pytest.mark.live)
