"""Bounded resources of a real `chatsim serve` process: memory (RSS) and connections.

Each growth pattern keeps the server's RSS growth under 50 MB or gets the
offender disconnected; idle and slowloris connections are closed after the
idle timeout and a new client still gets in.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import secrets
import socket

import aiohttp
import pytest

from sim.live.hostile_frames import ws_frame
from sim.live.limits import DEFAULT_LIMITS, MAX_PROFILE_FRAME, PROFILE_MEMORY, Limits
from sim.live.runner import live_server
from sim.live.serve_process import ServeProcess, serve_process

RSS_BUDGET_MB = 50.0
HANDSHAKE = {
    "channel": "/meta/handshake",
    "version": "1.0",
    "supportedConnectionTypes": ["websocket", "long-polling"],
}


async def _raw_websocket(srv: ServeProcess) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket opened by hand over a socket with a tiny receive buffer, never read again."""
    host, port = srv.base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /cometd HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert b" 101 " in head.split(b"\r\n")[0], head
    return reader, writer


async def _handshake(http: aiohttp.ClientSession, url: str) -> str:
    async with http.post(
        url, json=[{**HANDSHAKE, "supportedConnectionTypes": ["long-polling"]}]
    ) as response:
        assert response.status == 200
        client_id: str = (await response.json())[0]["clientId"]
        return client_id


@pytest.mark.asyncio
async def test_a_websocket_client_that_does_not_read_is_disconnected() -> None:
    async with serve_process("--send-queue", "262144") as srv:
        rss = srv.rss_mb()
        _, writer = await _raw_websocket(srv)
        # Each frame asks for 2,000 error replies (~150 KB) and never reads one.
        loud = ws_frame(json.dumps([{"channel": "/meta/smoke"}] * 2000).encode())
        with pytest.raises(ConnectionError):
            for _ in range(400):
                writer.write(loud)
                await writer.drain()
                await asyncio.sleep(0.005)
        assert "send queue over 262144 characters: the client does not read" in srv.log()
        assert srv.rss_mb() - rss < RSS_BUDGET_MB
        writer.transport.abort()
        async with aiohttp.ClientSession() as http:
            await _handshake(http, srv.url)
        assert srv.tracebacks() == []


@pytest.mark.asyncio
async def test_claimed_client_ids_and_big_frames_do_not_grow_the_server() -> None:
    async with serve_process() as srv, aiohttp.ClientSession() as http:
        rss = srv.rss_mb()
        pad = "x" * 60_000
        async with http.ws_connect(srv.ws_url) as ws:
            for n in range(1500):
                claimed = f"claimed-{n}-" + secrets.token_hex(90)
                data = {
                    "operation": "sendTyping",
                    "chatId": f"chat-{n}",
                    "secureKey": "k",
                    "pad": pad,
                }
                await ws.send_str(
                    json.dumps([{"channel": "/service/chat", "clientId": claimed, "data": data}])
                )
                reply = await ws.receive(timeout=10)
                assert "402" in reply.data
        for n in range(1000):  # a 60 KB claimed clientId each (60 MB): refused, never kept
            data = {"operation": "sendTyping", "chatId": f"chat-{n}", "secureKey": "k"}
            claimed = f"{n}-" + pad
            async with http.post(
                srv.url, json=[{"channel": "/service/chat", "clientId": claimed, "data": data}]
            ) as response:
                assert response.status == 400 and "clientId" in await response.text()
        assert srv.rss_mb() - rss < RSS_BUDGET_MB
        assert srv.tracebacks() == []


@pytest.mark.asyncio
async def test_logins_that_end_leave_nothing_behind() -> None:
    async with serve_process() as srv, aiohttp.ClientSession() as http:
        client_id = await _handshake(http, srv.url)
        rss = srv.rss_mb()
        for n in range(1500):
            login = {
                "operation": "requestChat",
                "nickname": "n" * 1000,
                "clientRequestId": f"{n}-" + "r" * 200,
            }
            async with http.post(
                srv.url, json=[{"channel": "/service/chat", "clientId": client_id, "data": login}]
            ) as response:
                chat = next(m for m in await response.json() if "data" in m)["data"]["result"]
            end = {
                "operation": "disconnect",
                "chatId": chat["chatId"],
                "secureKey": chat["secureKey"],
            }
            async with http.post(
                srv.url, json=[{"channel": "/service/chat", "clientId": client_id, "data": end}]
            ) as response:
                assert response.status == 200
        assert srv.rss_mb() - rss < RSS_BUDGET_MB
        assert srv.tracebacks() == []


def _raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        top = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < wanted:
        pytest.skip(f"needs {wanted} open files")


async def _closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        async with asyncio.timeout(within):
            while await reader.read(4096):
                pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


@pytest.mark.asyncio
async def test_idle_and_slowloris_connections_are_closed_and_new_clients_get_in() -> None:
    idle_count, slow_count, timeout = 2000, 500, 2.0
    _raise_fd_limit(2 * (idle_count + slow_count) + 500)  # the server inherits it
    async with serve_process("--idle-timeout", str(timeout), "--max-connections", "4000") as srv:
        host, port = srv.base.removeprefix("http://").split(":")
        rss = srv.rss_mb()
        conns = [await asyncio.open_connection(host, int(port)) for _ in range(idle_count)]
        slow = [await asyncio.open_connection(host, int(port)) for _ in range(slow_count)]
        for _, writer in slow:
            writer.write(b"POST /cometd HTTP/1.1\r\nHost: x\r\n")

        async def trickle() -> None:
            for n in range(int(timeout * 4)):
                await asyncio.sleep(0.5)
                for _, writer in slow:
                    if not writer.is_closing():
                        writer.write(f"X-Slow-{n}: 1\r\n".encode())

        dribbler = asyncio.create_task(trickle())
        results = await asyncio.gather(
            *(_closed_by_server(reader, timeout * 4) for reader, _ in conns + slow)
        )
        dribbler.cancel()
        assert sum(results) == idle_count + slow_count
        async with aiohttp.ClientSession() as http:
            await _handshake(http, srv.url)
        for _, writer in conns + slow:
            writer.close()
        assert srv.rss_mb() - rss < RSS_BUDGET_MB
        assert srv.tracebacks() == []


@pytest.mark.asyncio
async def test_connections_over_the_cap_get_503_and_a_slow_body_gets_408() -> None:
    async with serve_process(
        "--max-connections", "20", "--idle-timeout", "1", "--body-timeout", "0.5"
    ) as srv:
        host, port = srv.base.removeprefix("http://").split(":")
        conns = [await asyncio.open_connection(host, int(port)) for _ in range(30)]
        answers = await asyncio.gather(*(r.read(200) for r, _ in conns))
        assert sum(a.startswith(b"HTTP/1.1 503") for a in answers) >= 10
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /cometd HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n[{")
        head = await asyncio.wait_for(reader.read(200), 5)
        assert head.startswith(b"HTTP/1.1 408"), head
        for _, w in [*conns, (reader, writer)]:
            w.close()
        async with aiohttp.ClientSession() as http:
            await _handshake(http, srv.url)
        assert srv.tracebacks() == []


@pytest.mark.asyncio
async def test_a_silent_websocket_is_closed_with_a_reason_after_idle_plus_hold() -> None:
    limits = Limits(idle_timeout=0.5)
    async with live_server(hold=0.5, limits=limits) as srv, aiohttp.ClientSession() as http:
        ws_url = "ws" + srv.url.removeprefix("http")
        async with http.ws_connect(ws_url) as ws:
            started = asyncio.get_running_loop().time()
            msg = await ws.receive(timeout=10)
            waited = asyncio.get_running_loop().time() - started
        assert msg.type is aiohttp.WSMsgType.CLOSE
        assert (msg.data, msg.extra) == (1008, "idle timeout")
        assert 0.9 < waited < 5


@pytest.mark.asyncio
async def test_handshake_and_subscription_floods_stay_bounded() -> None:
    async with serve_process() as srv, aiohttp.ClientSession() as http:
        rss = srv.rss_mb()
        async with http.ws_connect(srv.ws_url) as ws:
            await ws.send_str(json.dumps([HANDSHAKE]))
            client_id = json.loads((await ws.receive(timeout=10)).data)[0]["clientId"]
            refused = 0
            for n in range(100):
                channels = [f"/flood/{n}/{m}/" + "c" * 200 for m in range(200)]
                await ws.send_str(
                    json.dumps(
                        [
                            {
                                "channel": "/meta/subscribe",
                                "clientId": client_id,
                                "subscription": channels,
                            }
                        ]
                    )
                )
                refused += not json.loads((await ws.receive(timeout=10)).data)[0]["successful"]
            assert refused == 100
            for _ in range(60):
                await ws.send_str(json.dumps([HANDSHAKE] * 500))
                replies = json.loads((await ws.receive(timeout=30)).data)
            assert replies[-1]["successful"] is False and "Too many clients" in replies[-1]["error"]
        grown = srv.rss_mb() - rss
        assert grown < RSS_BUDGET_MB, grown
        assert srv.tracebacks() == []


@pytest.mark.asyncio
async def test_a_slow_fault_does_not_outlive_itself() -> None:
    """Replies held back by `slow` leave when it ends, not `ms` later."""
    async with live_server() as srv, aiohttp.ClientSession() as http:
        client_id = await _handshake(http, srv.url)
        srv.faults.add(kind="slow", ms=20_000, duration=0.5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        smoke = [{"channel": "/meta/smoke", "clientId": client_id}]
        async with http.post(srv.url, json=smoke) as response:
            assert response.status == 200
        assert 0.4 < loop.time() - started < 3.0
        started = loop.time()
        async with http.post(srv.url, json=smoke) as response:
            assert response.status == 200
        assert loop.time() - started < 1.0


def test_a_dialects_message_size_raises_the_frame_within_the_memory_bound() -> None:
    raised = DEFAULT_LIMITS.for_messages(10 * 1024 * 1024)  # LiveChat
    assert raised.max_frame == 10 * 1024 * 1024 + 64 * 1024
    assert raised.send_queue >= raised.max_frame  # the message also goes back out
    assert raised.max_connections * (raised.ws_buffer + raised.send_queue) <= PROFILE_MEMORY
    assert DEFAULT_LIMITS.for_messages(None) is DEFAULT_LIMITS
    assert DEFAULT_LIMITS.for_messages(1000) is DEFAULT_LIMITS  # fits already
    assert DEFAULT_LIMITS.for_messages(1 << 30).max_frame == MAX_PROFILE_FRAME
    assert DEFAULT_LIMITS.ws_buffer == 4 * DEFAULT_LIMITS.max_frame  # as before
