"""The WebSocket send queue: bounded, in order, and holding nothing while idle."""

from __future__ import annotations

import asyncio

import pytest

from sim.live.bench_sessions import hold
from sim.live.guard import SendQueue
from sim.live.runner import live_server


@pytest.mark.asyncio
async def test_frames_go_out_in_order_and_an_idle_queue_holds_no_task_or_buffer() -> None:
    sent: list[str] = []

    async def send(text: str) -> None:
        await asyncio.sleep(0)
        sent.append(text)

    queue = SendQueue(100, send)
    assert queue.put("a") and queue.put("b")
    await queue.flushed()
    assert queue.put("c")
    await queue.flushed()
    assert sent == ["a", "b", "c"]
    assert queue._writer is None and queue._frames is None and queue._size == 0


@pytest.mark.asyncio
async def test_past_the_bound_put_refuses_and_after_close_nothing_more_goes() -> None:
    sent: list[str] = []
    gate = asyncio.Event()

    async def send(text: str) -> None:
        await gate.wait()
        sent.append(text)

    queue = SendQueue(10, send)
    assert queue.put("x" * 6)
    await asyncio.sleep(0)  # the writer took the first frame: only waiting ones count
    assert queue.put("y" * 6) and not queue.put("z" * 5)
    queue.close()
    assert queue.put("late")  # closing: dropped quietly, not the client's fault
    gate.set()
    await queue.flushed()
    assert sent == ["x" * 6, "y" * 6]


@pytest.mark.asyncio
async def test_a_broken_connection_stops_the_writer() -> None:
    async def send(_text: str) -> None:
        raise ConnectionResetError

    queue = SendQueue(100, send)
    assert queue.put("a") and queue.put("b")
    await queue.flushed()
    assert queue.put("c") and queue._writer is None  # closed: nothing more is written


@pytest.mark.asyncio
async def test_an_idle_websocket_session_costs_the_server_no_task_of_ours() -> None:
    async with live_server() as srv:
        before = len(asyncio.all_tasks())
        sessions = await hold(srv.url, 10, "127.0.0.1")
        await asyncio.sleep(0.1)
        added = len(asyncio.all_tasks()) - before
        for session in sessions:
            session.close()
    assert len(sessions) == 10
    # Per session: the driver's reader, and aiohttp's connection and request tasks.
    assert added <= 3 * len(sessions)
