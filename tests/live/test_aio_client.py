"""Our asyncio client (transport.aio) against the live server, on the real clock."""

from __future__ import annotations

import pytest

from sim.live.runner import live_server
from statecharts.chart import Timers
from statecharts.events import (
    Continued,
    EventError,
    Interrupted,
    Message,
    Ready,
    Restored,
    StateChanged,
)
from transport.aio.session import ChatSession
from transport.wire import ConnectionType

FAST = Timers(interrupt_after=0.5, backoff_increment=0.1, max_backoff=0.3)


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", list(ConnectionType))
async def test_ready_send_and_echo(transport: ConnectionType) -> None:
    async with (
        live_server() as srv,
        await ChatSession.connect(
            srv.url,
            transport=transport,
            timers=FAST,
        ) as chat,
    ):
        await chat.ready()
        ack = await chat.send_message("hello")
        _, echo = await chat.wait_for(Message, lambda m: m.direction == "in" and m.id == ack.id)
        assert (echo.index, echo.text, echo.party) == (ack.index, "hello", "client")
        assert chat.transport is transport


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", list(ConnectionType))
async def test_outage_interrupts_after_interrupt_after_then_continues(
    transport: ConnectionType,
) -> None:
    async with (
        live_server() as srv,
        await ChatSession.connect(
            srv.url,
            transport=transport,
            timers=FAST,
        ) as chat,
    ):
        await chat.ready()
        start = chat.now()
        srv.faults.add(kind="outage", duration=1.0)
        t_int, _ = await chat.wait_for(Interrupted)
        assert 0.5 <= t_int - start < 0.8
        _, error = await chat.wait_for(EventError, lambda e: e.code == 150)
        t_cont, continued = await chat.wait_for(Continued)
        assert 1.0 <= t_cont - start < 1.8
        assert continued.duration >= 1.0
        ack = await chat.send_message("after the outage")
        assert ack.index > 0
        assert error.description


@pytest.mark.asyncio
async def test_short_outage_is_silent() -> None:
    async with live_server() as srv, await ChatSession.connect(srv.url, timers=FAST) as chat:
        await chat.ready()
        mark = len(chat.history)
        srv.faults.add(kind="outage", duration=0.15)
        await chat.wait_for(StateChanged, lambda s: s.to == "reconnecting", after=mark)
        await chat.wait_for(StateChanged, lambda s: s.to == "ready", after=mark)
        await chat.send_message("still here")
        assert not [e for _, e in chat.history if isinstance(e, Interrupted | Continued)]


@pytest.mark.asyncio
async def test_websocket_refused_by_the_server_falls_back_to_long_polling() -> None:
    async with (
        live_server(websocket=False) as srv,
        await ChatSession.connect(
            srv.url,
            timers=FAST,
        ) as chat,
    ):
        await chat.ready()
        assert chat.transport is ConnectionType.LONG_POLLING
        await chat.send_message("over long-polling")


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", ["invalid_json", "schema", "truncated"])
async def test_a_corrupted_reply_is_error_151_and_the_session_goes_on(mode: str) -> None:
    async with live_server() as srv, await ChatSession.connect(srv.url, timers=FAST) as chat:
        await chat.ready()
        srv.faults.add(kind="corrupt", mode=mode, count=1)
        ack = await chat.send_message("through a broken proxy")
        await chat.wait_for(EventError, lambda e: e.code == 151)
        await chat.wait_for(Message, lambda m: m.direction == "in" and m.id == ack.id)
        assert (await chat.send_message("and on")).index > ack.index


@pytest.mark.asyncio
async def test_crash_of_the_instance_fails_over_and_restores_on_the_other() -> None:
    async with (
        live_server(instances=2) as srv,
        await ChatSession.connect(
            dict(zip(srv.instances, srv.urls, strict=True)),
            timers=FAST,
        ) as chat,
    ):
        await chat.ready()
        first = await chat.send_message("before the crash")
        srv.faults.add(kind="crash", instance="i1", duration=5)
        await chat.wait_for(EventError, lambda e: e.code == 100)
        _, restored = await chat.wait_for(Restored)
        assert (restored.instance, restored.position) == ("i2", first.index)
        assert (await chat.send_message("after")).index == first.index + 1


@pytest.mark.asyncio
async def test_an_outage_for_one_chat_leaves_the_other_alone() -> None:
    async with (
        live_server() as srv,
        await ChatSession.connect(srv.url, timers=FAST, client_id="a") as hit,
        await ChatSession.connect(srv.url, timers=FAST, client_id="b") as spared,
    ):
        await hit.ready()
        await spared.ready()
        _, ready = await hit.wait_for(Ready)
        srv.faults.add(kind="outage", duration=0.8, client=ready.chat_id)
        await hit.wait_for(Interrupted)
        await spared.send_message("unaffected")
        await hit.wait_for(Continued)
        assert not [e for _, e in spared.history if isinstance(e, Interrupted)]


@pytest.mark.asyncio
async def test_blackhole_is_noticed_by_request_deadlines_and_loses_nothing() -> None:
    timers = Timers(
        interrupt_after=0.5,
        max_network_delay=0.3,
        backoff_increment=0.1,
        max_backoff=0.3,
        long_poll_hold=0.5,
    )
    async with (
        live_server(hold=0.5) as srv,
        await ChatSession.connect(
            srv.url,
            timers=timers,
        ) as chat,
    ):
        await chat.ready()
        srv.faults.add(kind="blackhole", duration=1.0)
        ack = await chat.send_message("into the void")
        await chat.wait_for(Interrupted)
        await chat.wait_for(Continued)
        await chat.wait_for(Message, lambda m: m.direction == "in" and m.id == ack.id)
        await chat.send_message("after")  # anything duplicated would have arrived by now
        echoes = [
            e
            for _, e in chat.history
            if isinstance(e, Message) and e.direction == "in" and e.id == ack.id
        ]
        assert len(echoes) == 1


@pytest.mark.asyncio
async def test_latency_delays_replies_by_about_its_ms() -> None:
    async with live_server() as srv, await ChatSession.connect(srv.url, timers=FAST) as chat:
        await chat.ready()
        srv.faults.add(kind="latency", ms=150, direction="down")
        start = chat.now()
        await chat.send_message("slowly")
        assert 0.15 <= chat.now() - start < 1.0
