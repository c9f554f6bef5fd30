"""The seeds' behaviours on the live server, and our aio client's reactions, on the real clock."""

from __future__ import annotations

import asyncio
import io
import signal
from typing import Any

import aiohttp
import pytest

from sim.live.limits import DEFAULT_LIMITS
from sim.live.runner import live_server
from sim.live.serve_process import serve_process
from statecharts.chart import Timers
from statecharts.dialects import LIVECHAT
from statecharts.errors import ServerError
from statecharts.events import EventError, Message, Restored, SendFailed, StateChanged
from transport.aio.session import ChatSession

FAST = Timers(interrupt_after=0.5, backoff_increment=0.1, max_backoff=0.3)
# LiveChat's frames hold one 10 MB message and its envelope (sim.live.limits).
LIVECHAT_FRAME = DEFAULT_LIMITS.for_messages(LIVECHAT.max_message_bytes).max_frame


@pytest.mark.asyncio
async def test_retry_after_is_waited_then_the_message_goes_through() -> None:
    async with (
        live_server(dialect="layer") as srv,
        await ChatSession.connect(srv.url, timers=FAST) as chat,
    ):
        await chat.ready()
        async with aiohttp.ClientSession() as http:  # through the fault API, as a user would
            fault = {"kind": "rate_limit", "count": 1, "retry_after": 0.6}
            async with http.post(srv.faults_url, json=fault) as reply:
                assert reply.status in (200, 201), await reply.text()
        sent = chat.now()
        ack = await chat.send_message("held back", timeout=5.0)
        waited = chat.now() - sent
        _, error = await chat.wait_for(EventError, lambda e: e.code == 100)
        assert error.data is not None and error.data["retryAfter"] == 0.6
        assert error.data["native"]["id"] == "rate_limit_exceeded"
        assert 0.6 <= waited < 3.0  # Retry-After, not the 0.1 s backoff
        await chat.wait_for(Message, lambda m: m.direction == "in" and m.id == ack.id)
        assert not [e for _, e in chat.history if isinstance(e, SendFailed)]


@pytest.mark.asyncio
async def test_a_redirect_moves_the_session_to_the_named_region() -> None:
    async with (
        live_server(instances=2, dialect="livechat") as srv,
        await ChatSession.connect(
            dict(zip(srv.instances, srv.urls, strict=True)), timers=FAST
        ) as chat,
    ):
        await chat.ready()
        first = await chat.send_message("before")
        srv.faults.add(kind="redirect", to="i2", duration=30)
        moved = await chat.send_message("redirected", timeout=5.0)
        _, error = await chat.wait_for(EventError, lambda e: e.code == 100)
        assert error.data is not None and error.data["region"] == "i2"
        assert error.data["native"]["error"]["type"] == "misdirected_request"
        _, restored = await chat.wait_for(Restored)
        assert (restored.instance, restored.position) == ("i2", first.index)
        assert moved.index > first.index
        assert not [e for _, e in chat.history if isinstance(e, SendFailed)]


@pytest.mark.asyncio
async def test_a_system_message_error_keeps_the_connection_open() -> None:
    async with (
        live_server(dialect="polyai") as srv,
        await ChatSession.connect(srv.url, timers=FAST) as chat,
    ):
        await chat.ready()
        srv.faults.add(kind="command_error", code=1)
        with pytest.raises(ServerError) as refused:
            await chat.send_message("an invalid event", timeout=3.0)
        assert refused.value.code == 1
        _, error = await chat.wait_for(EventError, lambda e: e.code == 1)
        assert error.data is not None
        assert error.data["native"]["type"] == "EVENT_TYPE_SYSTEM_MESSAGE"
        assert error.data["native"]["level"] == "SYSTEM_MESSAGE_LEVEL_ERROR"
        ack = await chat.send_message("and on")
        assert ack.index > 0
        states = [e for _, e in chat.history if isinstance(e, StateChanged)]
        assert [s.to for s in states if s.from_ == "ready"] == []  # never left ready


@pytest.mark.asyncio
async def test_the_eleventh_websocket_of_a_session_is_refused_429() -> None:
    async with live_server(dialect="polyai") as srv, aiohttp.ClientSession() as http:
        sockets = [await http.ws_connect(srv.url) for _ in range(10)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(srv.url)
        assert refused.value.status == 429
        await sockets.pop().close()
        await asyncio.sleep(0.05)
        sockets.append(await http.ws_connect(srv.url))  # one closed: room for one more
        for ws in sockets:
            await ws.close()


@pytest.mark.asyncio
async def test_the_refusal_text_is_the_seed_message() -> None:
    async with live_server(dialect="polyai") as srv, aiohttp.ClientSession() as http:
        sockets = [await http.ws_connect(srv.url) for _ in range(10)]
        headers = {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
        async with http.get(srv.url, headers=headers) as reply:
            assert reply.status == 429
            assert await reply.text() == "connection limit exceeded for session\n"
        for ws in sockets:
            await ws.close()


@pytest.mark.asyncio
async def test_an_expired_credential_is_renewed_through_its_nonce() -> None:
    async with (
        live_server(dialect="layer") as srv,
        await ChatSession.connect(srv.url, timers=FAST) as chat,
    ):
        await chat.ready()
        srv.faults.add(kind="expire_credential")
        ack = await chat.send_message("after the challenge", timeout=5.0)
        _, error = await chat.wait_for(EventError, lambda e: e.code == 101)
        assert error.data is not None and error.data["native"]["code"] == 4
        await chat.wait_for(Restored)
        assert ack.index > 0
        assert not [e for _, e in chat.history if isinstance(e, SendFailed)]


@pytest.mark.asyncio
async def test_chatsim_serve_speaks_the_dialect_and_takes_the_seed_faults() -> None:
    async with serve_process("--dialect", "polyai") as srv, aiohttp.ClientSession() as http:
        fault = {"kind": "redirect", "to": "i9"}
        async with http.post(srv.base + "/faults", json=fault) as reply:
            assert reply.status == 400 and "to" in await reply.text()
        fault = {"kind": "rate_limit", "count": 2, "retry_after": 1.5}  # type: ignore[dict-item]
        async with http.post(srv.base + "/faults", json=fault) as reply:
            assert reply.status == 201
        seed_faults: tuple[tuple[dict[str, object], int], ...] = (
            ({"kind": "session_end", "code": 52}, 201),
            ({"kind": "reject", "row": "Invalid access token"}, 201),
            ({"kind": "reject", "row": "conflict"}, 400),  # a Layer row, not PolyAI's
        )
        for seed_fault, status in seed_faults:
            async with http.post(srv.base + "/faults", json=seed_fault) as reply:
                assert reply.status == status, await reply.text()
        sockets = [await http.ws_connect(srv.url) for _ in range(10)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(srv.url)
        assert refused.value.status == 429
        for ws in sockets:
            await ws.close()
        srv.process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(srv.process.wait(), 10) == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("dialect", "call", "status", "expected"),
    [
        ("apivideo", ("GET", "/foobar", None), 404, {"message": "Unrecognized request URL."}),
        ("apivideo", ("DELETE", "/cometd", None), 405,
         {"message": "Method is not allowed for this route."}),
        ("apivideo", ("POST", "/cometd", "not json"), 400,
         {"message": "The payload is invalid."}),
        ("layer", ("GET", "/nonce", None), 404, {"id": "invalid_endpoint", "code": 106}),
        ("layer", ("PUT", "/cometd", None), 405, {"id": "method_not_allowed", "code": 109}),
        ("livechat", ("POST", "/cometd", "x" * (LIVECHAT_FRAME + 1)), 413,
         {"error": {"type": "entity_too_large"}}),
    ],
)  # fmt: skip
async def test_http_errors_speak_the_dialect(
    dialect: str, call: tuple[str, str, str | None], status: int, expected: dict[str, Any]
) -> None:
    method, path, body = call
    async with live_server(dialect=dialect) as srv, aiohttp.ClientSession() as http:
        data = io.BytesIO(body.encode()) if body and len(body) > 1 << 20 else body  # no warning
        async with http.request(method, srv.base + path, data=data) as reply:
            assert reply.status == status
            found = await reply.json()
        for key, value in expected.items():
            if isinstance(value, dict):
                assert value.items() <= found[key].items(), found
            else:
                assert found[key] == value, found
        if "status" in found:
            assert found["status"] == status
        async with http.get(srv.faults_url) as listing:  # the control API keeps its own
            assert listing.status == 200
