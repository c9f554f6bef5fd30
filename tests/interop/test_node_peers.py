"""The Node tooling itself: the CometD JS client talks to the Faye server."""

from __future__ import annotations

import pytest

from tests.interop.nodepeers import cometd_client, faye_server


@pytest.mark.asyncio
@pytest.mark.parametrize("transport", ["websocket", "long-polling"])
async def test_cometd_js_client_publishes_and_receives_through_faye(transport: str) -> None:
    async with (
        faye_server() as (_, port),
        cometd_client(
            f"http://127.0.0.1:{port}/bayeux",
            transport,
            "--publish",
            "2",
        ) as client,
    ):
        events = await client.wait_for(
            lambda ev: sum(e["event"] == "message" for e in ev) == 2,
            what="two deliveries",
        )
    handshake = next(e for e in events if e["event"] == "handshake")
    assert handshake["successful"] and handshake["transport"] == transport
    assert [e["data"]["n"] for e in events if e["event"] == "message"] == [0, 1]
