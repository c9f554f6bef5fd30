"""A chat belongs to whoever holds its secureKey: nobody else reads, writes or ends it."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from sim.live.runner import live_server

HANDSHAKE = {
    "channel": "/meta/handshake",
    "version": "1.0",
    "supportedConnectionTypes": ["long-polling"],
}


class Raw:
    """A bare long-polling Bayeux client: one POST per call."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url, self.client_id = http, url, ""

    async def post(self, *messages: dict[str, Any]) -> list[dict[str, Any]]:
        async with self.http.post(self.url, data=json.dumps(list(messages))) as response:
            assert response.status == 200, await response.text()
            result: list[dict[str, Any]] = await response.json()
            return result

    async def handshake(self) -> Raw:
        self.client_id = (await self.post(HANDSHAKE))[0]["clientId"]
        return self

    async def chat(self, **data: Any) -> dict[str, Any]:
        reply = await self.post(
            {"channel": "/service/chat", "clientId": self.client_id, "data": data}
        )
        outcome: dict[str, Any] = next(m["data"] for m in reply if "data" in m)
        return outcome


async def _login(raw: Raw, **extra: Any) -> dict[str, Any]:
    outcome = await raw.chat(operation="requestChat", nickname="victim", **extra)
    result: dict[str, Any] = outcome["result"]
    return result


@pytest.mark.asyncio
async def test_a_chat_cannot_be_read_written_or_ended_without_its_secure_key() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        victim = await Raw(http, srv.url).handshake()
        chat = await _login(victim)
        attacker = await Raw(http, srv.url).handshake()
        for key in ("0" * 32, chat["secureKey"][:-1], ""):
            guess = {"chatId": chat["chatId"], "secureKey": key}
            attempts = [
                {"operation": "requestNotifications", **guess, "transcriptPosition": 0},
                {"operation": "sendMessage", **guess, "text": "x", "clientMessageId": "a"},
                {"operation": "sendTyping", **guess},
                {"operation": "disconnect", **guess},
            ]
            for attempt in attempts:
                outcome = await attacker.chat(**attempt)
                assert "result" not in outcome and outcome["error"]["code"] in (3, 50), attempt
        without = await attacker.chat(operation="disconnect", chatId=chat["chatId"])
        assert without["error"]["code"] == 2
        sub = await attacker.post(
            {
                "channel": "/meta/subscribe",
                "clientId": attacker.client_id,
                "subscription": f"/chat/{chat['chatId']}",
            }
        )
        assert sub[0]["successful"] is False
        # The victim's chat is untouched: only its own key works.
        owned = {"chatId": chat["chatId"], "secureKey": chat["secureKey"]}
        sent = await victim.chat(
            operation="sendMessage", **owned, text="mine", clientMessageId="v1"
        )
        assert "index" in sent["result"]


@pytest.mark.asyncio
async def test_secure_keys_of_two_fresh_servers_differ() -> None:
    keys = []
    for _ in range(2):
        async with live_server() as srv, aiohttp.ClientSession() as http:
            chat = await _login(await Raw(http, srv.url).handshake())
            assert chat["chatId"] == "chat-1"
            keys.append(chat["secureKey"])
    assert keys[0] != keys[1]
    assert all(len(k) >= 32 for k in keys)


@pytest.mark.asyncio
async def test_replaying_a_client_request_id_does_not_hand_over_the_chat() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        victim = await Raw(http, srv.url).handshake()
        chat = await _login(victim, clientRequestId="login-1")
        retried = await _login(victim, clientRequestId="login-1")
        assert retried["chatId"] == chat["chatId"]  # the owner's own retry finds its chat
        attacker = await Raw(http, srv.url).handshake()
        stolen = await _login(attacker, clientRequestId="login-1")
        assert stolen["chatId"] != chat["chatId"]
        assert stolen["secureKey"] != chat["secureKey"]


@pytest.mark.asyncio
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.nip.io"])
async def test_a_loopback_server_refuses_foreign_host_names(host: str) -> None:
    """DNS rebinding: a page whose name resolves to 127.0.0.1 still sends its own Host."""
    async with live_server() as srv, aiohttp.ClientSession() as http:
        async with http.post(srv.url, json=[HANDSHAKE], headers={"Host": host}) as response:
            assert response.status == 421
        for good in ("localhost", f"127.0.0.1:{srv.port}", f"localhost:{srv.port}"):
            async with http.post(srv.url, json=[HANDSHAKE], headers={"Host": good}) as response:
                assert response.status == 200
