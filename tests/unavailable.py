"""One rule for tests whose peers (Node, Chromium) are missing: skip, but fail under CI."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(reason: str, *, what: str) -> NoReturn:
    """Skip the test for `reason`; under CI (`CI=true`) fail instead: `what` must run there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} cannot run under CI: {reason}")
    pytest.skip(reason)
