"""Faults in the aio client's own links (`transport.aio.faulty`), against a real server."""

from __future__ import annotations

import asyncio

import pytest

from sim.live.runner import live_server
from statecharts.chart import Timers
from statecharts.errors import BadInput
from statecharts.events import Continued, EventError, Interrupted, Message
from statecharts.faults import Blackhole, Corrupt, Direction, Duplicate, Latency, Outage
from transport.aio.faulty import ClientFaults
from transport.aio.session import ChatSession
from transport.wire import ConnectionType

FAST = Timers(interrupt_after=0.5, max_network_delay=1.0, backoff_increment=0.1, max_backoff=0.3)


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", list(ConnectionType))
async def test_a_client_side_outage_interrupts_and_the_session_continues(
    transport: ConnectionType,
) -> None:
    faults = ClientFaults(seed=1)
    async with (
        live_server() as srv,
        await ChatSession.connect(srv.url, timers=FAST, transport=transport, faults=faults) as chat,
    ):
        await chat.ready()
        faults.add(Outage(duration=1.0), chat.now())
        await chat.wait_for(Interrupted)
        await chat.wait_for(Continued, timeout=5.0)
        ack = await chat.send_message("after the outage")
        assert ack.index > 0
        assert srv.faults.list() == []  # nothing happened on the server's side


@pytest.mark.asyncio
async def test_client_side_latency_blackhole_duplicate_and_corrupt_act_on_the_clients_frames() -> (
    None
):
    faults = ClientFaults(seed=2)
    async with (
        live_server() as srv,
        await ChatSession.connect(srv.url, timers=FAST, faults=faults) as chat,
    ):
        await chat.ready()
        latency = faults.add(Latency(ms=150.0, direction=Direction.UP), chat.now())
        start = chat.now()
        await chat.send_message("slowly")
        assert chat.now() - start >= 0.15
        faults.remove(latency, chat.now())

        faults.add(Blackhole(duration=0.6), chat.now())
        start = chat.now()
        held = await chat.send_message("held, not lost", timeout=5.0)
        assert chat.now() - start >= 0.55

        faults.add(Duplicate(p=1.0, duration=0.5, direction=Direction.DOWN), chat.now())
        await chat.send_message("twice down")
        faults.add(Corrupt(count=1), chat.now())
        await chat.send_message("a reply breaks", timeout=5.0)
        await chat.wait_for(EventError, lambda e: e.code == 151, timeout=5.0)
        echoes = [
            e
            for _, e in chat.history
            if isinstance(e, Message) and e.id == held.id and e.direction == "in"
        ]
        assert len(echoes) == 1  # held, then delivered once: nothing lost, nothing doubled


def test_server_faults_are_not_client_faults() -> None:
    with pytest.raises(BadInput) as info:
        ClientFaults([{"kind": "crash", "duration": 1}])
    assert info.value.field == "kind"


@pytest.mark.asyncio
async def test_client_faults_can_run_on_a_clock_of_their_own() -> None:
    loop = asyncio.get_running_loop()
    run_started = loop.time() - 100.0  # a load run that began 100 s ago
    faults = ClientFaults([Outage(at=99.0, duration=1.8)], clock=lambda: loop.time() - run_started)
    async with (
        live_server() as srv,
        await ChatSession.connect(srv.url, timers=FAST, faults=faults) as chat,
    ):
        await chat.ready(timeout=5.0)
        assert chat.now() >= 0.7  # refused until the outage (run time 99..100.8) ended
