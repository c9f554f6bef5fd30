"""The server's truth for load runs: GET /cluster and GET /transcripts/{chatId}."""

from __future__ import annotations

import aiohttp
import pytest

from sim.live.runner import live_server
from transport.aio.session import ChatSession

pytestmark = [pytest.mark.live, pytest.mark.asyncio]


async def test_cluster_and_transcript() -> None:
    async with live_server(instances=2) as srv, aiohttp.ClientSession() as http:
        async with http.get(f"{srv.base}/cluster") as response:
            assert await response.json() == {"instances": {"i1": "/i1/cometd", "i2": "/i2/cometd"}}
        async with await ChatSession.connect(srv.url) as chat:
            await chat.ready()
            acked = await chat.send_message("hello")
            saved = chat.driver.core.saved_state()
            assert saved is not None
            chat_id = saved.chat_id
            async with http.get(f"{srv.base}/transcripts/{chat_id}") as response:
                body = await response.json()
        assert body["chatId"] == chat_id
        events = body["events"]
        assert [e["index"] for e in events] == list(range(1, len(events) + 1))
        mine = [e for e in events if e.get("id") == acked.id]
        assert mine == [{"index": acked.index, "party": "client", "id": acked.id}]
        assert all("text" not in e for e in events)  # indexes and ids, never the words
        async with http.get(f"{srv.base}/transcripts/chat-999") as response:
            assert response.status == 404
            assert "no chat" in (await response.json())["error"]


async def test_truth_wants_the_token_when_the_server_has_one() -> None:
    async with live_server(token="s3cret") as srv, aiohttp.ClientSession() as http:
        for path in ("/cluster", "/transcripts/chat-1"):
            async with http.get(f"{srv.base}{path}") as response:
                assert response.status == 401
        headers = {"Authorization": "Bearer s3cret"}
        async with http.get(f"{srv.base}/cluster", headers=headers) as response:
            assert response.status == 200
