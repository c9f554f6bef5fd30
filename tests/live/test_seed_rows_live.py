"""The other seeds' rows and PolyAI's SESSION_END on the live server, with our aio client."""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from sim.live.runner import live_server
from statecharts.chart import Timers
from statecharts.dialects import LIVECHAT
from statecharts.errors import ServerError
from statecharts.events import Ended, EventError, SendFailed
from transport.aio.session import ChatSession
from transport.wire import ConnectionType

FAST = Timers(interrupt_after=0.5, backoff_increment=0.1, max_backoff=0.3)


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", list(ConnectionType))
async def test_a_session_end_after_an_error_ends_the_chat(transport: ConnectionType) -> None:
    async with (
        live_server(dialect="polyai") as srv,
        await ChatSession.connect(srv.url, timers=FAST, transport=transport) as chat,
    ):
        await chat.ready()
        await chat.send_message("before")
        async with aiohttp.ClientSession() as http:  # the fault API, as a user would
            fault = {"kind": "session_end", "code": 52}
            async with http.post(srv.faults_url, json=fault) as reply:
                assert reply.status == 201, await reply.text()
        with pytest.raises(ServerError):
            await chat.send_message("the last one", timeout=5.0)
        _, ended = await chat.wait_for(Ended, timeout=5.0)
        assert ended.reason == "server"
        errors = [e for _, e in chat.history if isinstance(e, EventError)]
        assert [e.code for e in errors] == [52, 50]
        assert errors[0].data is not None
        assert errors[0].data["native"]["message"].startswith("Sorry, I encountered an error")
        assert errors[1].data is not None
        assert errors[1].data["native"]["type"] == "EVENT_TYPE_SESSION_END"
        assert len([e for _, e in chat.history if isinstance(e, SendFailed)]) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("dialect", "row", "code"),
    [
        ("layer", "conflict", 52),
        ("layer", "invalid_header", 3),
        ("layer", "invalid_request_id", 3),
        ("livechat", "license_expired", 101),
        ("livechat", "requester_offline", 51),
        ("livechat", "unsupported_version", 101),
    ],
)
async def test_a_rejected_row_reaches_the_client_as_its_code(
    dialect: str, row: str, code: int
) -> None:
    async with (
        live_server(dialect=dialect) as srv,
        await ChatSession.connect(srv.url, timers=FAST) as chat,
    ):
        await chat.ready()
        async with aiohttp.ClientSession() as http:
            bad = {"kind": "reject", "row": "no such row"}
            async with http.post(srv.faults_url, json=bad) as reply:
                assert reply.status == 400 and "row" in await reply.text()
            async with http.post(srv.faults_url, json={"kind": "reject", "row": row}) as reply:
                assert reply.status == 201, await reply.text()
        with pytest.raises(ServerError) as refused:
            await chat.send_message("refused", timeout=5.0)
        assert refused.value.code == code
        _, error = await chat.wait_for(EventError, lambda e: e.code == code)
        assert error.data is not None
        native = error.data["native"]
        assert (native["id"] if dialect == "layer" else native["error"]["type"]) == row
        assert (await chat.send_message("and on")).index > 0  # the session goes on


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", list(ConnectionType))
async def test_livechat_frames_hold_its_10_mb_messages(transport: ConnectionType) -> None:
    limit = LIVECHAT.max_message_bytes
    assert limit is not None
    async with (
        live_server(dialect="livechat") as srv,
        await ChatSession.connect(srv.url, timers=FAST, transport=transport) as chat,
    ):
        await chat.ready()
        big = await chat.send_message("x" * 100_000)  # over the 64 KiB of other profiles
        assert big.index > 0
        with pytest.raises(ServerError) as refused:
            await chat.send_message("y" * (limit + 1), timeout=20.0)
        assert refused.value.code == 3
        _, error = await chat.wait_for(EventError, lambda e: e.code == 3)
        assert error.data is not None
        assert error.data["native"]["error"]["type"] == "entity_too_large"
        assert (await chat.send_message("and on")).index > big.index


@pytest.mark.asyncio
async def test_the_layer_profile_refuses_a_request_id_that_is_not_a_uuid() -> None:
    async with live_server(dialect="layer") as srv, aiohttp.ClientSession() as http:
        handshake = {"channel": "/meta/handshake", "version": "1.0",
                     "supportedConnectionTypes": ["long-polling"]}  # fmt: skip
        async with http.post(srv.url, json=[handshake]) as reply:
            client_id = (await reply.json())[0]["clientId"]
        for request_id, refused in (("login-1", True), (str(uuid.uuid4()), False)):
            data = {"operation": "requestChat", "nickname": "n", "clientRequestId": request_id}
            login = {"channel": "/service/chat", "clientId": client_id, "id": "1", "data": data}
            async with http.post(srv.url, json=[login]) as reply:
                outcome = next(r["data"] for r in await reply.json() if "data" in r)
            if refused:
                assert outcome["error"]["id"] == "invalid_request_id", outcome
            else:
                assert "chatId" in outcome["result"], outcome


@pytest.mark.asyncio
async def test_a_polyai_session_not_found_is_followed_by_session_end() -> None:
    async with (
        live_server(dialect="polyai") as srv,
        await ChatSession.connect(srv.url, timers=FAST) as chat,
    ):
        await chat.ready()
        srv.faults.add(kind="command_error", code=50)  # the profile ends the chat after it
        with pytest.raises(ServerError):
            await chat.send_message("gone", timeout=5.0)
        _, ended = await chat.wait_for(Ended, timeout=5.0)
        assert ended.reason == "server"
        natives = [
            e.data["native"] for _, e in chat.history if isinstance(e, EventError) and e.data
        ]
        assert natives[0]["message"] == "Error: Session not found"
        assert natives[-1]["type"] == "EVENT_TYPE_SESSION_END"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("application/vnd.layer+json; version=9.9", 406),
        ("application/vnd.layer+json", 406),  # the media type without a version
        ("application/vnd.layer+json; version=1.0", 200),
        ("application/json", 200),  # not Layer's media type: a CometD client
    ],
)
async def test_the_layer_profile_refuses_an_accept_header_it_cannot_serve(
    accept: str, status: int
) -> None:
    handshake = {"channel": "/meta/handshake", "version": "1.0",
                 "supportedConnectionTypes": ["long-polling"]}  # fmt: skip
    async with live_server(dialect="layer") as srv, aiohttp.ClientSession() as http:
        async with http.post(srv.url, json=[handshake], headers={"Accept": accept}) as reply:
            assert reply.status == status
            body = await reply.json()
        if status == 406:
            assert (body["id"], body["code"]) == ("invalid_header", 107)
        else:
            assert body[0]["successful"] is True
