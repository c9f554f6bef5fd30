"""The one wake-up loop of a sans-I/O core on the real clock.

A core says when it next needs to be called (`next_deadline`); the adapter
sleeps until then or until something new may have moved that deadline
(`wake` set), and calls `due` once the deadline has passed. Used by the
client driver (`transport.aio.driver`) and the live server (`sim.live.server`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


async def run_wakeups(
    next_deadline: Callable[[], float | None],
    now: Callable[[], float],
    wake: asyncio.Event,
    running: Callable[[], bool],
    due: Callable[[], None],
) -> None:
    """Until `running()` is false: sleep to the core's next deadline, then call `due`."""
    while running():
        deadline = next_deadline()
        wake.clear()
        delay = None if deadline is None else max(0.0, deadline - now())
        # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await wake.wait()
        deadline = next_deadline()
        if deadline is not None and deadline <= now():
            due()
