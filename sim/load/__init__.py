"""Emulated browsers at scale on Locust: `from sim.load import ChatUser, BayeuxUser`.

Importing the user classes imports Locust (which monkey-patches the process
with gevent), so they load on first use; `sim.load.tally` and the other
pure modules import without Locust.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BayeuxUser", "ChatUser"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sim.load import user  # noqa: PLC0415 (Locust only when asked for)

        return getattr(user, name)
    raise AttributeError(f"module 'sim.load' has no attribute {name!r}")
