"""Hostile clients against a real `chatsim serve` process: every malformed frame is answered,
nothing escapes into the log, and a well-behaved client connected all along loses nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

import aiohttp
import pytest

from sim.live.hostile import probe, steady_client
from sim.live.hostile_frames import KINDS, LONG_POLLING, WEBSOCKET
from sim.live.serve_process import serve_process


def test_the_catalog_has_thirty_kinds_on_each_transport() -> None:
    for transport in (WEBSOCKET, LONG_POLLING):
        assert len([k for k in KINDS if transport in k.transports]) >= 30
    assert len({k.name for k in KINDS}) == len(KINDS)


@pytest.mark.asyncio
async def test_hostile_frames_are_answered_and_a_steady_client_loses_nothing() -> None:
    async with serve_process() as srv:
        stop = asyncio.Event()
        steady = asyncio.create_task(steady_client(srv.url, stop))
        await asyncio.sleep(0.3)
        frames = 3 * sum(len(k.transports) for k in KINDS)  # every kind, 3 times, every way
        tally = await probe(srv.url, frames)
        stop.set()
        calm = await asyncio.wait_for(steady, 30)
        assert tally.failures == []
        assert tally.sent == frames >= 300
        assert srv.tracebacks() == []
        assert calm.problems == [] and calm.acked == calm.sent > 3
        answers = set(tally.answers)
        assert {"websocket close 1003", "websocket close 1009", "http 400", "http 413"} <= answers
        assert {"websocket close 1002", "websocket close 1007"} <= answers  # raw frames
        assert {"http 404", "http 421"} <= answers  # raw HTTP


@pytest.mark.asyncio
async def test_a_batch_with_a_bad_message_is_refused_whole() -> None:
    """[sendMessage, <connect with a list clientId>] must not apply the sendMessage."""
    async with serve_process() as srv, aiohttp.ClientSession() as http:

        async def post(*messages: Mapping[str, object]) -> tuple[int, str]:
            async with http.post(srv.url, data=json.dumps(list(messages))) as response:
                return response.status, await response.text()

        handshake = {
            "channel": "/meta/handshake",
            "version": "1.0",
            "supportedConnectionTypes": ["long-polling"],
        }
        _, text = await post(handshake)
        cid = json.loads(text)[0]["clientId"]
        login = {"operation": "requestChat", "nickname": "n"}
        _, text = await post({"channel": "/service/chat", "clientId": cid, "data": login})
        chat = json.loads(text)[0]["data"]["result"]
        keys = {"chatId": chat["chatId"], "secureKey": chat["secureKey"]}
        send = {
            "channel": "/service/chat",
            "clientId": cid,
            "data": {"operation": "sendMessage", **keys, "text": "half", "clientMessageId": "m1"},
        }
        replay = {
            "channel": "/service/chat",
            "clientId": cid,
            "data": {"operation": "requestNotifications", **keys, "transcriptPosition": 0},
        }
        _, text = await post(replay)
        before = json.loads(text)[0]["data"]["result"]["position"]
        status, reason = await post(send, {"channel": "/meta/connect", "clientId": [cid]})
        assert status == 400 and "clientId" in reason
        _, text = await post(replay)
        assert json.loads(text)[0]["data"]["result"]["position"] == before
        _, text = await post(send)  # the same message alone is applied
        assert json.loads(text)[0]["data"]["result"]["index"] == before + 1
        assert srv.tracebacks() == []
