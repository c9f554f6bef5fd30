"""The live server on a real socket: raw Bayeux frames, malformed frames, the fault API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from sim.live.runner import RunningServer, live_server

HANDSHAKE = [
    {
        "channel": "/meta/handshake",
        "version": "1.0",
        "id": "1",
        "supportedConnectionTypes": ["websocket", "long-polling"],
    }
]


async def handshake(ws: aiohttp.ClientWebSocketResponse) -> str:
    await ws.send_str(json.dumps(HANDSHAKE))
    (reply,) = json.loads(await ws.receive_str(timeout=2))
    assert reply["successful"]
    return str(reply["clientId"])


async def post(http: aiohttp.ClientSession, url: str, frame: Any) -> tuple[int, str]:
    async with http.post(
        url,
        data=frame if isinstance(frame, str) else json.dumps(frame),
        headers={"Content-Type": "application/json"},
    ) as response:
        return response.status, await response.text()


@pytest.mark.asyncio
async def test_long_polling_handshake_on_every_instance_path() -> None:
    async with live_server(instances=2) as srv, aiohttp.ClientSession() as http:
        for url in [srv.url, *srv.urls, srv.url + "/handshake"]:
            status, body = await post(http, url, HANDSHAKE)
            assert status == 200
            assert json.loads(body)[0]["successful"] is True


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", aiohttp.WSCloseCode.UNSUPPORTED_DATA),
        ('[{"no": "channel"}]', aiohttp.WSCloseCode.UNSUPPORTED_DATA),
        ("[" + "1," * 40_000 + "1]", aiohttp.WSCloseCode.MESSAGE_TOO_BIG),
    ],
    ids=["not-json", "not-bayeux", "oversized"],
)
async def test_a_malformed_frame_closes_only_its_own_socket(frame: str, code: int) -> None:
    async with (
        live_server() as srv,
        aiohttp.ClientSession() as http,
        http.ws_connect(srv.url) as good,
        http.ws_connect(srv.url) as bad,
    ):
        await handshake(good)
        await bad.send_str(frame)
        closing = await bad.receive(timeout=2)
        assert closing.type is aiohttp.WSMsgType.CLOSE
        assert closing.data == code
        assert closing.extra, "the close carries a reason"
        assert await handshake(good)


@pytest.mark.asyncio
async def test_malformed_long_poll_bodies_are_refused_with_a_status() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        assert (await post(http, srv.url, "not json"))[0] == 400
        assert (await post(http, srv.url, "x" * 70_000))[0] == 413
        assert (await post(http, srv.url, HANDSHAKE))[0] == 200


async def api(
    http: aiohttp.ClientSession, method: str, url: str, body: Any = None, token: str | None = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, url, json=body, headers=headers) as response:
        return response.status, await response.json()


@pytest.mark.asyncio
async def test_fault_api_adds_lists_removes_and_clears() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        status, added = await api(http, "POST", srv.faults_url, {"kind": "latency", "ms": 5})
        assert status == 201 and added["fault"]["kind"] == "latency" and added["active"]
        await api(http, "POST", srv.faults_url, {"kind": "slow", "ms": 1, "duration": 30})
        status, listing = await api(http, "GET", srv.faults_url)
        assert [f["fault"]["kind"] for f in listing["faults"]] == ["latency", "slow"]
        assert (await api(http, "DELETE", f"{srv.faults_url}/{added['id']}"))[0] == 200
        assert (await api(http, "GET", f"{srv.faults_url}/{added['id']}"))[0] == 404
        assert (await api(http, "DELETE", srv.faults_url))[0] == 200
        assert (await api(http, "GET", srv.faults_url))[1]["faults"] == []
        status, error = await api(http, "POST", srv.faults_url, {"kind": "outage"})
        assert status == 400 and "duration" in error["error"]


@pytest.mark.asyncio
async def test_fault_api_wants_the_bearer_token_when_one_is_set() -> None:
    async with live_server(token="s3cret") as srv, aiohttp.ClientSession() as http:
        assert (await api(http, "GET", srv.faults_url))[0] == 401
        assert (await api(http, "GET", srv.faults_url, token="s3cret"))[0] == 200


async def refused_while_out(srv: RunningServer, http: aiohttp.ClientSession) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await http.ws_connect(srv.url)


@pytest.mark.asyncio
async def test_outage_closes_sockets_refuses_new_ones_then_ends() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        async with http.ws_connect(srv.url) as ws:
            await handshake(ws)
            srv.faults.add(kind="outage", duration=0.3)
            closing = await ws.receive(timeout=2)
            assert closing.type is aiohttp.WSMsgType.CLOSE
        await refused_while_out(srv, http)
        await asyncio.sleep(0.35)
        async with http.ws_connect(srv.url) as ws:
            await handshake(ws)


@pytest.mark.asyncio
async def test_crash_of_one_instance_leaves_the_other_serving() -> None:
    async with live_server(instances=2) as srv, aiohttp.ClientSession() as http:
        srv.faults.add(kind="crash", instance="i1", duration=0.3)
        await asyncio.sleep(0.01)
        status, _ = await post(http, srv.urls[0], HANDSHAKE)
        assert status == 503
        assert (await post(http, srv.urls[1], HANDSHAKE))[0] == 200
        await asyncio.sleep(0.35)
        assert (await post(http, srv.urls[0], HANDSHAKE))[0] == 200
