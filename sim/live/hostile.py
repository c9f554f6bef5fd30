"""Send the hostile catalog to a live server over both transports and judge every answer.

An answer is good when it is a Bayeux reply, an HTTP 400/408/413 (or a 200
carrying Bayeux errors), or a WebSocket close with a code other than 1006 and
a reason. Anything else (HTTP 500, a close without a reason, a reset, no
answer within the timeout) is a failure, named with its kind and transport.
Meanwhile `steady_client` chats over a real transport and must lose nothing.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from sim.live.hostile_frames import (
    KINDS,
    LONG_POLLING,
    RAW_HTTP,
    RAW_WEBSOCKET,
    WEBSOCKET,
    Context,
    Kind,
)
from statecharts.errors import ServerError
from statecharts.events import Message
from transport.aio.session import ChatSession

ANSWER_TIMEOUT = 10.0
GOOD_STATUSES = frozenset({200, 400, 408, 413})
_WS_HANDSHAKE = {
    "channel": "/meta/handshake",
    "version": "1.0",
    "supportedConnectionTypes": ["websocket", "long-polling"],
}


@dataclass
class Tally:
    sent: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


async def probe(
    url: str,
    frames: int,
    *,
    max_frame: int = 64 * 1024,
    parallel: int = 4,
    kinds: tuple[Kind, ...] = KINDS,
) -> Tally:
    """Send `frames` hostile frames, cycling through every kind on both transports."""
    ways = (WEBSOCKET, LONG_POLLING, RAW_WEBSOCKET, RAW_HTTP)
    plan = [(k, t) for k in kinds for t in ways if t in k.transports]
    steps = list(itertools.islice(itertools.cycle(plan), frames))
    tally = Tally()
    gate = asyncio.Semaphore(parallel)
    ws_url = "ws" + url.removeprefix("http")

    async def one(http: aiohttp.ClientSession, kind: Kind, transport: str) -> None:
        async with gate:
            try:
                if transport == WEBSOCKET:
                    answer = await _over_websocket(http, ws_url, kind, max_frame)
                elif transport == RAW_WEBSOCKET:
                    answer = await _over_raw_websocket(url, kind, max_frame)
                elif transport == RAW_HTTP:
                    answer = await _over_raw_http(url, kind, max_frame)
                else:
                    answer = await _over_long_poll(http, url, kind, max_frame)
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                answer = f"FAIL {type(exc).__name__}: {exc}"
            tally.sent += 1
            if answer.startswith("FAIL"):
                tally.failures.append(f"{kind.name} over {transport}: {answer[5:]}")
            else:
                tally.answers[answer] += 1

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(one(http, kind, transport) for kind, transport in steps))
    return tally


async def _over_websocket(
    http: aiohttp.ClientSession,
    ws_url: str,
    kind: Kind,
    max_frame: int,
) -> str:
    async with http.ws_connect(ws_url, max_msg_size=0) as ws:
        await ws.send_str(json.dumps([_WS_HANDSHAKE]))
        reply = await ws.receive(timeout=ANSWER_TIMEOUT)
        client_id = json.loads(reply.data)[0]["clientId"]
        frame = kind.make(Context(client_id, max_frame))
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
        msg = await ws.receive(timeout=ANSWER_TIMEOUT)
        if msg.type is aiohttp.WSMsgType.TEXT:
            return "websocket reply"
        if msg.type is aiohttp.WSMsgType.CLOSE:
            code, reason = msg.data, msg.extra
            if code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE or not reason:
                return f"FAIL close {code} with reason {reason!r}"
            return f"websocket close {code}"
        return f"FAIL {msg.type.name} instead of a close frame"


async def _over_raw_websocket(url: str, kind: Kind, max_frame: int) -> str:
    """Upgrade by hand, send bytes no WebSocket library would, read the close frame."""
    where = urlsplit(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {where.path} HTTP/1.1\r\nHost: {where.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        async with asyncio.timeout(ANSWER_TIMEOUT):
            await reader.readuntil(b"\r\n\r\n")
            frame = kind.make(Context("", max_frame))
            writer.write(frame if isinstance(frame, bytes) else frame.encode())
            head = await reader.readexactly(2)
            if head[0] & 0x0F != 0x8:
                return "raw websocket reply"
            body = await reader.readexactly(head[1] & 0x7F)
    except asyncio.IncompleteReadError:
        return "FAIL connection closed without a close frame (1006)"
    finally:
        writer.close()
    code = struct.unpack("!H", body[:2])[0] if len(body) >= 2 else None
    if code is None or code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE or len(body) <= 2:
        return f"FAIL close {code} with reason {body[2:]!r}"
    return f"websocket close {code}"


async def _over_raw_http(url: str, kind: Kind, max_frame: int) -> str:
    """Send bytes no HTTP library would; any 4xx status line is an answer."""
    where = urlsplit(url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    try:
        frame = kind.make(Context("", max_frame))
        writer.write(frame if isinstance(frame, bytes) else frame.encode())
        async with asyncio.timeout(ANSWER_TIMEOUT):
            status_line = await reader.readline()
    finally:
        writer.close()
    parts = status_line.split()
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    if status is None or not 400 <= status < 500:
        return f"FAIL status line {status_line[:60]!r}"
    return f"http {status}"


async def _over_long_poll(
    http: aiohttp.ClientSession,
    url: str,
    kind: Kind,
    max_frame: int,
) -> str:
    handshake = {**_WS_HANDSHAKE, "supportedConnectionTypes": ["long-polling"]}
    async with http.post(url, json=[handshake]) as response:
        client_id = (await response.json())[0]["clientId"]
    frame = kind.make(Context(client_id, max_frame))
    body = frame if isinstance(frame, bytes) else frame.encode("utf-8", "surrogatepass")
    headers = {"Content-Type": kind.content_type}
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)
    async with http.post(url, data=body, headers=headers, timeout=timeout) as response:
        await response.read()
        if response.status not in GOOD_STATUSES:
            return f"FAIL HTTP {response.status}"
        return f"http {response.status}"


@dataclass
class Steady:
    """What a well-behaved client saw while the hostile frames flew."""

    sent: int = 0
    acked: int = 0
    problems: list[str] = field(default_factory=list)


async def steady_client(url: str, stop: asyncio.Event, every: float = 0.05) -> Steady:
    """Chat until `stop` is set; any error, interruption, gap or duplicate is a problem."""
    result = Steady()
    async with await ChatSession.connect(url, nickname="steady") as chat:
        await chat.ready()
        while not stop.is_set():
            result.sent += 1
            try:
                await chat.send_message(f"steady {result.sent}")
                result.acked += 1
            except (ServerError, TimeoutError) as exc:
                result.problems.append(f"message {result.sent} not acknowledged: {exc!r}")
            await asyncio.sleep(every)
        events = [event for _, event in chat.history]
        kinds = [e.kind for e in events]
        for bad in ("error", "interrupted", "ended"):
            if bad in kinds:
                result.problems.append(f"the steady client saw {kinds.count(bad)} {bad}")
        indexes = [e.index for e in events if isinstance(e, Message) and e.direction == "in"]
        if indexes != list(range(1, len(indexes) + 1)):
            result.problems.append(f"transcript indexes not 1..n: {indexes[:20]}")
    return result


async def bench(frames: int) -> int:
    """`chatsim bench --hostile N`: N hostile frames at a `chatsim serve` process; 0 if clean."""
    from sim.live.serve_process import serve_process  # noqa: PLC0415 (a child process)

    async with serve_process() as srv:
        rss = srv.rss_mb()
        stop = asyncio.Event()
        steady = asyncio.create_task(steady_client(srv.url, stop))
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        tally = await probe(srv.url, frames)
        took = time.perf_counter() - started
        stop.set()
        calm = await steady
        crashes = srv.tracebacks()
        grown = srv.rss_mb() - rss
    kinds = len(KINDS)
    print(f"hostile frames      {tally.sent:>8,} of {kinds} kinds (WebSocket, long-polling, raw)")
    print(f"took                {took:>8.1f} s ({tally.sent / took:,.0f} frames/s)")
    for answer, count in sorted(tally.answers.items()):
        print(f"  {answer:<18}{count:>8,}")
    print(f"unanswered / 500 / 1006 {len(tally.failures):>4}")
    print(f"tracebacks in log   {len(crashes):>8}")
    print(f"server RSS growth   {grown:>8.1f} MB")
    print(
        f"steady client       {calm.acked:>8} of {calm.sent} acknowledged, "
        f"{len(calm.problems)} problems"
    )
    for line in [*tally.failures[:10], *crashes[:10], *calm.problems[:10]]:
        print(f"  ! {line}")
    return 0 if not (tally.failures or crashes or calm.problems) else 1
