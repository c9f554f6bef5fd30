"""Live tests use real sockets on 127.0.0.1; every test here is marked `live`."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name == "live" and item.path.name != "test_faultboard.py":
            item.add_marker(pytest.mark.live)
