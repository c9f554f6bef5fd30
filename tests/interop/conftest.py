"""Interop tests run real Node peers; every test here is marked `interop`."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name == "interop":
            item.add_marker(pytest.mark.interop)
