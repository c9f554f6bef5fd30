"""pytest fixtures for users' own live tests (re-exported by `sim.pytest_plugin`).

    async def test_my_widget(chatsim_live_server):
        srv = chatsim_live_server            # one instance on a free 127.0.0.1 port
        srv.faults.add(kind="outage", duration=5)

    async def test_failover(chatsim_live_server_factory):
        async with chatsim_live_server_factory(instances=2, session_ttl=5) as srv:
            ...

Both need pytest-asyncio (`pip install chatsim[test]`); mark the tests with
`@pytest.mark.asyncio` (or run with `asyncio_mode = auto`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest_asyncio

from sim.live.runner import RunningServer, live_server

ServerFactory = Callable[..., AbstractAsyncContextManager[RunningServer]]


@pytest_asyncio.fixture
async def chatsim_live_server() -> AsyncIterator[RunningServer]:
    """A live chat server (one instance) on 127.0.0.1 for the duration of a test."""
    async with live_server() as srv:
        yield srv


@pytest_asyncio.fixture
async def chatsim_live_server_factory() -> AsyncIterator[ServerFactory]:
    """`live_server` itself, for tests that want other options (instances, TTL, ...)."""

    def factory(**options: Any) -> AbstractAsyncContextManager[RunningServer]:
        return live_server(**options)

    yield factory


__all__ = ["chatsim_live_server", "chatsim_live_server_factory"]
