"""Our Python transport (pure-Bayeux mode) against a real Faye server (npm `faye`)."""

from __future__ import annotations

import pytest

from statecharts.chart import Timers
from statecharts.events import Continued, EventError, Interrupted
from tests.interop.nodepeers import faye_server
from transport.aio.session import BayeuxSession
from transport.broadcast import Broadcast
from transport.wire import ConnectionType

FAST = Timers(interrupt_after=0.5, backoff_increment=0.1, max_backoff=0.3, long_poll_hold=2.0)


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", list(ConnectionType))
async def test_handshake_subscribe_publish_receive(transport: ConnectionType) -> None:
    async with (
        faye_server(timeout=2) as (_, port),
        await BayeuxSession.connect(
            f"http://127.0.0.1:{port}/bayeux",
            ["/demo", "/other"],
            transport=transport,
            timers=FAST,
        ) as bayeux,
    ):
        await bayeux.ready()
        await bayeux.publish("/demo", {"n": 1})
        await bayeux.publish("/other", "plain text")
        await bayeux.wait_for(Broadcast, lambda b: b.channel == "/other")
        assert [(b.channel, b.data) for b in bayeux.broadcasts()] == [
            ("/demo", {"n": 1}),
            ("/other", "plain text"),
        ]
        assert bayeux.transport is transport


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", list(ConnectionType))
async def test_faye_stopped_interrupts_and_restarted_recovers(transport: ConnectionType) -> None:
    async with (
        faye_server(timeout=2) as (faye, port),
        await BayeuxSession.connect(
            f"http://127.0.0.1:{port}/bayeux",
            ["/demo"],
            transport=transport,
            timers=FAST,
        ) as bayeux,
    ):
        await bayeux.ready()
        await faye.stop()
        stopped = bayeux.now()
        t_int, _ = await bayeux.wait_for(Interrupted)
        assert 0.45 <= t_int - stopped < 1.0
        await bayeux.wait_for(EventError, lambda e: e.code == 150)
        async with faye_server(port=port, timeout=2):
            _, continued = await bayeux.wait_for(Continued)
            assert continued.duration >= 0.5
            # Faye forgot us: the transport handshook again and re-subscribed.
            await bayeux.publish("/demo", {"after": "restart"})
            await bayeux.wait_for(Broadcast, lambda b: b.data == {"after": "restart"})
