"""The real CometD JavaScript client (npm `cometd`, in Node) against our live server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sim.live.runner import live_server
from tests.interop.nodepeers import cometd_client

TRANSPORTS = ["websocket", "long-polling"]


def kinds(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == kind]


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_handshake_subscribe_publish_receive(transport: str) -> None:
    async with live_server() as srv, cometd_client(srv.url, transport, "--publish", "3") as js:
        events = await js.wait_for(
            lambda ev: len(kinds(ev, "message")) == 3,
            what="three deliveries",
        )
    (handshake,) = kinds(events, "handshake")
    assert handshake["successful"] and handshake["transport"] == transport
    assert all(p["successful"] for p in kinds(events, "publish"))
    assert [m["data"]["n"] for m in kinds(events, "message")] == [0, 1, 2]


def connected_again(after: int, client_id: str) -> Any:
    def check(ev: list[dict[str, Any]]) -> bool:
        return any(
            e["event"] == "connect" and e["successful"] and e["clientId"] == client_id
            for e in ev[after:]
        )

    return check


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_short_outage_resumes_with_the_same_client_id(transport: str) -> None:
    async with (
        live_server(client_timeout=3.0, hold=1.0) as srv,
        cometd_client(
            srv.url,
            transport,
            "--backoff",
            "100",
        ) as js,
    ):
        events = await js.wait_for(lambda ev: bool(kinds(ev, "subscribe")), what="subscribe")
        client_id = kinds(events, "handshake")[0]["clientId"]
        srv.faults.add(kind="outage", duration=0.5)
        await js.wait_for(
            lambda ev: any(e["event"] == "connect" and not e["successful"] for e in ev),
            what="a failed connect",
        )
        mark = len(js.events)
        await js.wait_for(connected_again(mark, client_id), what="a connect with the same id")
        js.command(op="publish", data={"after": "outage"})
        events = await js.wait_for(
            lambda ev: any(e["event"] == "message" for e in ev[mark:]),
            what="a delivery",
        )
    assert len(kinds(events, "handshake")) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_outage_longer_than_the_client_timeout_gets_402_and_rehandshakes(
    transport: str,
) -> None:
    async with (
        live_server(client_timeout=1.0, hold=0.5) as srv,
        cometd_client(
            srv.url,
            transport,
            "--backoff",
            "100",
        ) as js,
    ):
        events = await js.wait_for(lambda ev: bool(kinds(ev, "subscribe")), what="subscribe")
        first_id = kinds(events, "handshake")[0]["clientId"]
        srv.faults.add(kind="outage", duration=1.6)
        events = await js.wait_for(
            lambda ev: len(kinds(ev, "subscribe")) == 2,
            timeout=8.0,
            what="a re-subscribe",
        )
        js.command(op="publish", data={"after": "rehandshake"})
        events = await js.wait_for(lambda ev: bool(kinds(ev, "message")), what="a delivery")
    unknown = [e for e in events if (e.get("error") or "").startswith("402")]
    assert unknown, "the server should have answered 402 unknown client"
    handshakes = kinds(events, "handshake")
    assert handshakes[-1]["successful"] and handshakes[-1]["clientId"] != first_id
    await asyncio.sleep(0)


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_chat_commands_on_the_service_channel_complete_both_ways(transport: str) -> None:
    """As widgets do: requestChat with publish(callback), sendMessage with remoteCall.

    Both complete, and no request timer is left behind: nothing fails once the client's
    maxNetworkDelay (1.5 s here) has passed."""
    async with (
        live_server() as srv,
        cometd_client(
            srv.url,
            transport,
            "--max-network-delay",
            "1500",
        ) as js,
    ):
        await js.wait_for(lambda ev: bool(kinds(ev, "subscribe")), what="subscribe")
        js.command(op="chat", data={"operation": "requestChat", "nickname": "js"})
        events = await js.wait_for(
            lambda ev: bool(kinds(ev, "chat_publish")) and bool(kinds(ev, "service")),
            what="the publish callback and the result",
        )
        (ack,) = kinds(events, "chat_publish")
        assert ack["successful"] and not ack["hasData"]
        result = kinds(events, "service")[0]["data"]["result"]
        assert result["chatId"] and result["secureKey"]
        js.command(
            op="remoteCall",
            data={
                "operation": "sendMessage",
                "chatId": result["chatId"],
                "secureKey": result["secureKey"],
                "text": "hi",
                "clientMessageId": "m1",
            },
        )
        events = await js.wait_for(
            lambda ev: bool(kinds(ev, "remote_call")),
            what="the remote call's answer",
        )
        (call,) = kinds(events, "remote_call")
        assert call["successful"] and call["data"]["result"]["index"] >= 1
        await asyncio.sleep(2.5)  # past maxNetworkDelay: a pending timer would fire now
        events = js.events
    assert not [e for e in events if e["event"] == "connect" and not e["successful"]]
    assert len(kinds(events, "handshake")) == 1
    assert len(kinds(events, "remote_call")) == 1
