"""Load chatsim's pytest plugin for our own tests, after coverage has started.

`./dev test` passes `-p no:chatsim` so that the entry-point plugin (and what it
imports) is not loaded before pytest-cov measures; then it is registered
here. A plain `pytest` run keeps the entry point and skips this.
"""

from __future__ import annotations

import importlib
import os

import pytest

from sim.runner import REPLAY_ENV
from statecharts.native import PURE_ENV


def pytest_configure(config: pytest.Config) -> None:
    os.environ[REPLAY_ENV] = "1"  # I8 by a second run in every test, however long the run
    os.environ.setdefault(PURE_ENV, "1")  # chatsim processes the tests start run Python too
    manager = config.pluginmanager
    if manager.has_plugin("chatsim") or manager.has_plugin("chatsim-tests"):
        return
    manager.register(importlib.import_module("sim.pytest_plugin"), "chatsim-tests")
