"""Retry-After as a real HTTP header, over real sockets: a rate-limited command on the
long-polling transport is answered 429 + Retry-After, a WebSocket over PolyAI's
connection limit is refused 429 + Retry-After, and our aio client waits as told."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from sim.live.runner import live_server
from statecharts.chart import Timers
from statecharts.events import EventError, Message, SendFailed
from transport.aio.session import ChatSession
from transport.reactions import parse_retry_after, retry_after_header
from transport.wire import ConnectionType

FAST = Timers(interrupt_after=5.0, backoff_increment=0.1, max_backoff=0.3)


def test_the_header_is_whole_seconds_rounded_up_and_read_back() -> None:
    assert [retry_after_header(s) for s in (0.0, 0.6, 1.0, 2.5)] == ["0", "1", "1", "3"]
    assert parse_retry_after("3") == 3.0 and parse_retry_after(" 2 ") == 2.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") is None  # dates: not honoured
    assert parse_retry_after("999999") == 300.0  # at most MAX_RETRY_AFTER


async def _post(http: aiohttp.ClientSession, url: str, messages: list[dict[str, Any]]) -> Any:
    async with http.post(url, json=messages) as reply:
        return reply.status, reply.headers.get("Retry-After"), await reply.json()


@pytest.mark.asyncio
async def test_a_rate_limited_long_poll_request_is_answered_429_with_retry_after() -> None:
    async with live_server(dialect="layer") as srv, aiohttp.ClientSession() as http:
        handshake = {
            "channel": "/meta/handshake",
            "version": "1.0",
            "supportedConnectionTypes": ["long-polling"],
        }
        status, _, replies = await _post(http, srv.url, [handshake])
        client_id = replies[0]["clientId"]
        srv.faults.add(kind="rate_limit", count=1, retry_after=1.5)
        login = {
            "channel": "/service/chat",
            "clientId": client_id,
            "id": "1",
            "data": {"operation": "requestChat", "nickname": "raw"},
        }
        status, retry_after, replies = await _post(http, srv.url, [login])
        assert (status, retry_after) == (429, "2")  # 1.5 s, in whole seconds
        error = next(r["data"]["error"] for r in replies if "data" in r)
        assert error["id"] == "rate_limit_exceeded" and error["data"]["retryAfter"] == 1.5
        status, retry_after, replies = await _post(http, srv.url, [{**login, "id": "2"}])
        assert (status, retry_after) == (200, None)  # the count is spent
        assert next(r["data"] for r in replies if "data" in r)["result"]["chatId"]


@pytest.mark.asyncio
async def test_the_long_polling_client_waits_the_retry_after_header() -> None:
    async with (
        live_server(dialect="layer") as srv,
        await ChatSession.connect(
            srv.url, timers=FAST, transport=ConnectionType.LONG_POLLING
        ) as chat,
    ):
        await chat.ready()
        srv.faults.add(kind="rate_limit", count=1, retry_after=0.6)
        sent = chat.now()
        ack = await chat.send_message("held back", timeout=5.0)
        waited = chat.now() - sent
        _, error = await chat.wait_for(EventError, lambda e: e.code == 100)
        assert error.data is not None and error.data["retryAfter"] == 0.6
        assert 1.0 <= waited < 3.0  # the header's whole second, not 0.6 s nor the backoff
        await chat.wait_for(Message, lambda m: m.direction == "in" and m.id == ack.id)
        assert not [e for _, e in chat.history if isinstance(e, SendFailed)]


@pytest.mark.asyncio
async def test_a_websocket_over_the_connection_limit_waits_the_retry_after_header() -> None:
    async with live_server(dialect="polyai") as srv, aiohttp.ClientSession() as http:
        sockets = [await http.ws_connect(srv.url) for _ in range(10)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(srv.url)
        assert refused.value.status == 429
        assert refused.value.headers is not None
        assert refused.value.headers.get("Retry-After") == "1"
        async with await ChatSession.connect(srv.url, timers=FAST) as chat:
            started = chat.now()
            await asyncio.sleep(0.2)  # refused once by now; the backoff alone would retry at 0.1
            await sockets.pop().close()
            await chat.ready(timeout=5.0)
            assert chat.now() - started >= 0.9  # the next attempt waited the header's 1 s
        for ws in sockets:
            await ws.close()
