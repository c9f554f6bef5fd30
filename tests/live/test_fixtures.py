"""The pytest fixtures users get from chatsim (loaded here directly, as the plugin would)."""

from __future__ import annotations

import aiohttp
import pytest

from sim.live.fixtures import ServerFactory, chatsim_live_server, chatsim_live_server_factory
from sim.live.runner import RunningServer

__all__ = ["chatsim_live_server", "chatsim_live_server_factory"]  # make them visible here


@pytest.mark.asyncio
async def test_the_server_fixture_serves_and_takes_faults(
    chatsim_live_server: RunningServer,
) -> None:
    srv = chatsim_live_server
    fault = srv.faults.add(kind="latency", ms=1)
    assert [f["id"] for f in srv.faults.list()] == [fault]
    async with aiohttp.ClientSession() as http, http.get(srv.faults_url) as response:
        assert response.status == 200


@pytest.mark.asyncio
async def test_the_factory_takes_options(
    chatsim_live_server_factory: ServerFactory,
) -> None:
    async with chatsim_live_server_factory(instances=3) as srv:
        assert srv.urls[-1].endswith("/i3/cometd")
