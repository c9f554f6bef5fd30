"""The live server's frame path: each frame decoded once, the chat learned from the cluster."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

import sim.server.instance
from sim.live.runner import live_server
from transport.wire import decode

HANDSHAKE = {
    "channel": "/meta/handshake",
    "version": "1.0",
    "id": "1",
    "supportedConnectionTypes": ["websocket", "long-polling"],
}


def connect(client_id: str, msg_id: str) -> dict[str, Any]:
    return {
        "channel": "/meta/connect",
        "clientId": client_id,
        "connectionType": "websocket",
        "id": msg_id,
        "advice": {"timeout": 0},
    }


def request_chat(client_id: str) -> dict[str, Any]:
    data = {"operation": "requestChat", "nickname": "ann"}
    return {"channel": "/service/chat", "clientId": client_id, "id": "2", "data": data}


async def ask(ws: aiohttp.ClientWebSocketResponse, *messages: dict[str, Any]) -> list[Any]:
    await ws.send_str(json.dumps(list(messages)))
    reply: list[Any] = json.loads(await ws.receive_str(timeout=2))
    return reply


@pytest.fixture
def core_decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The frames the server core decodes itself (the live server should hand it values)."""
    seen: list[str] = []

    def counting(text: str) -> list[Any]:
        seen.append(text)
        return decode(text)

    monkeypatch.setattr(sim.server.instance, "decode", counting)
    return seen


@pytest.mark.asyncio
async def test_frames_reach_the_core_parsed_once(core_decodes: list[str]) -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        async with http.ws_connect(srv.url) as ws:
            (shake,) = await ask(ws, HANDSHAKE)
            client_id = shake["clientId"]
            assert (await ask(ws, connect(client_id, "2")))[-1]["successful"]
        body = json.dumps([connect(client_id, "3")])
        async with http.post(srv.url, data=body) as response:
            assert json.loads(await response.text())[-1]["successful"]
    assert core_decodes == []


@pytest.mark.asyncio
async def test_a_corrupted_frame_is_real_broken_bytes_to_the_core(core_decodes: list[str]) -> None:
    async with (
        live_server() as srv,
        aiohttp.ClientSession() as http,
        http.ws_connect(srv.url) as ws,
    ):
        (shake,) = await ask(ws, HANDSHAKE)
        srv.faults.add(kind="corrupt", count=1, mode="truncated", direction="up")
        await ws.send_str(json.dumps([connect(shake["clientId"], "2")]))
        closing = await ws.receive(timeout=2)
        assert closing.type is aiohttp.WSMsgType.CLOSE
    (broken,) = core_decodes
    assert broken.startswith('[{"channel": "/meta/connect"') and not broken.endswith("]")


@pytest.mark.asyncio
async def test_a_chat_fault_hits_a_client_that_never_sent_its_chat_id() -> None:
    """The server learns the chat of a requestChat from the cluster, not from the reply."""
    async with (
        live_server() as srv,
        aiohttp.ClientSession() as http,
        http.ws_connect(srv.url) as ws,
    ):
        (shake,) = await ask(ws, HANDSHAKE)
        client_id = shake["clientId"]
        result = (await ask(ws, request_chat(client_id)))[0]["data"]["result"]
        srv.faults.add(kind="loss", p=1, client=result["chatId"], direction="down")
        await ws.send_str(json.dumps([connect(client_id, "3")]))
        with pytest.raises(TimeoutError):
            await ws.receive_str(timeout=0.3)
