"""`chatsim bench --live`: our live server against a Faye server, side by side, on 127.0.0.1.

Each server runs in its own process (`chatsim serve`, `node faye_server.mjs`)
so its RSS is its own. One load driver (raw Bayeux over WebSocket, in this
process) measures both the same way:

1. throughput: S subscribers on `/bench`, one publisher sending as fast as a
   window of unconfirmed publishes allows for a few seconds; deliveries per
   second and publish→deliver latency (p50, p99);
2. sessions: C WebSocket sessions handshaken and holding a `/meta/connect`,
   then the server's RSS.

This module reads the wall clock: it times runs, nothing it measures does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHANNEL = "/bench"
WINDOW = 64  # unconfirmed publishes in flight
INTEROP = Path(__file__).resolve().parents[2] / "tests" / "interop"


@dataclass(frozen=True)
class Plan:
    subscribers: int
    seconds: float
    sessions: int


QUICK = Plan(subscribers=20, seconds=2.0, sessions=500)
FULL = Plan(subscribers=50, seconds=5.0, sessions=5000)


@dataclass
class Figures:
    server: str
    published: int = 0
    delivered: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    sessions: int = 0
    rss_idle: float = 0.0
    rss_sessions: float = 0.0
    note: str = ""

    def rate(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000.0


# -- a raw Bayeux WebSocket client -----------------------------------------------------
class RawClient:
    """Handshake, subscribe, keep a connect outstanding, count deliveries."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = url.replace("http://", "ws://")
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.client_id = ""
        self.on_delivery: Callable[[Any], None] = lambda _data: None
        self.on_reply: Callable[[dict[str, Any]], None] = lambda _msg: None
        self._ids = itertools.count(1)
        self._reader: asyncio.Task[None] | None = None

    async def start(self, subscribe: bool) -> None:
        self.ws = await self.http.ws_connect(self.url, max_msg_size=0, autoping=True)
        await self._send(
            [
                {
                    "channel": "/meta/handshake",
                    "version": "1.0",
                    "id": "0",
                    "supportedConnectionTypes": ["websocket"],
                }
            ]
        )
        reply = await self.ws.receive_json(timeout=10)
        self.client_id = reply[0]["clientId"]
        first: list[dict[str, Any]] = [self._connect()]
        if subscribe:
            first.insert(
                0,
                {
                    "channel": "/meta/subscribe",
                    "clientId": self.client_id,
                    "subscription": CHANNEL,
                    "id": self._id(),
                },
            )
        await self._send(first)
        self._reader = asyncio.create_task(self._read(self.ws))

    def _id(self) -> str:
        return str(next(self._ids))

    def _connect(self) -> dict[str, Any]:
        return {
            "channel": "/meta/connect",
            "clientId": self.client_id,
            "connectionType": "websocket",
            "id": self._id(),
        }

    async def _send(self, messages: list[dict[str, Any]]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(messages, separators=(",", ":")))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                break
            for msg in json.loads(frame.data):
                channel = msg.get("channel")
                if channel == "/meta/connect":
                    if msg.get("successful"):
                        await self._send([self._connect()])
                elif "successful" in msg:
                    self.on_reply(msg)
                elif channel == CHANNEL:
                    self.on_delivery(msg.get("data"))

    def publish(self, data: Any) -> None:
        assert self.ws is not None
        message = {"channel": CHANNEL, "clientId": self.client_id, "id": self._id(), "data": data}
        task = asyncio.ensure_future(self._send([message]))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()


# -- measurements -------------------------------------------------------------------------
async def throughput(url: str, plan: Plan, figures: Figures) -> None:
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        subscribers = [RawClient(http, url) for _ in range(plan.subscribers)]
        publisher = RawClient(http, url)

        def delivered(data: Any) -> None:
            figures.delivered += 1
            if isinstance(data, dict) and isinstance(data.get("t"), float):
                figures.latencies.append(loop.time() - data["t"])

        for sub in subscribers:
            sub.on_delivery = delivered
        await asyncio.gather(*(s.start(subscribe=True) for s in subscribers))
        await publisher.start(subscribe=False)
        await asyncio.sleep(0.3)  # let subscriptions settle
        window = asyncio.Semaphore(WINDOW)
        publisher.on_reply = lambda _msg: window.release()
        start = loop.time()
        end = start + plan.seconds
        while loop.time() < end:
            await window.acquire()
            publisher.publish({"s": figures.published, "t": loop.time()})
            figures.published += 1
        expected = figures.published * plan.subscribers
        drain_until = loop.time() + 3.0
        while figures.delivered < expected and loop.time() < drain_until:
            await asyncio.sleep(0.05)
        figures.seconds = loop.time() - start
        if figures.delivered < expected:
            figures.note = f"{expected - figures.delivered} deliveries missing after the drain"
        for client in [*subscribers, publisher]:
            await client.close()


async def hold_sessions(url: str, count: int, pid: int, figures: Figures) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        clients = [RawClient(http, url) for _ in range(count)]
        held = 0
        for batch in range(0, count, 200):
            results = await asyncio.gather(
                *(c.start(subscribe=False) for c in clients[batch : batch + 200]),
                return_exceptions=True,
            )
            held += sum(1 for r in results if not isinstance(r, BaseException))
        await asyncio.sleep(0.5)
        figures.sessions = held
        figures.rss_sessions = rss_mib(pid)
        await asyncio.gather(*(c.close() for c in clients))


def rss_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024.0 if found else float("nan")


# -- servers under test --------------------------------------------------------------------
@asynccontextmanager
async def process(
    argv: list[str], ready: str, cwd: Path | None = None
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode()
        if not line.startswith(ready):
            raise RuntimeError(f"{argv[0]} did not start: {line!r}")
        yield proc, line
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@asynccontextmanager
async def our_server() -> AsyncIterator[tuple[int, str]]:
    argv = [sys.executable, "-m", "sim.cli", "serve", "--port", "0"]
    async with process(argv, "chatsim serve: listening on") as (proc, line):
        url = line.split("listening on ", 1)[1].split()[0]
        yield proc.pid, url


@asynccontextmanager
async def faye_server(node: str) -> AsyncIterator[tuple[int, str]]:
    argv = [node, str(INTEROP / "faye_server.mjs"), "--port", "0"]
    async with process(argv, "ready", cwd=INTEROP) as (proc, line):
        yield proc.pid, f"http://127.0.0.1:{int(line.split()[1])}/bayeux"


async def measure(name: str, server: Any, plan: Plan) -> Figures:
    figures = Figures(name)
    async with server as (pid, url):
        await asyncio.sleep(0.2)
        figures.rss_idle = rss_mib(pid)
        await throughput(url, plan, figures)
        await hold_sessions(url, plan.sessions, pid, figures)
    return figures


def faye_available() -> str | None:
    node = shutil.which("node")
    if node and (INTEROP / "node_modules" / "faye").is_dir():
        return node
    return None


def report(rows: list[Figures], plan: Plan) -> str:
    lines = [
        f"live bench on 127.0.0.1: {plan.subscribers} subscribers, "
        f"{plan.seconds:g} s of publishing (window {WINDOW}), {plan.sessions} sessions held",
        f"{'server':<8} {'published':>9} {'delivered':>9} {'deliv/s':>9} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'sessions':>8} {'RSS idle':>9} {'RSS held':>9}",
    ]
    for f in rows:
        lines.append(
            f"{f.server:<8} {f.published:>9} {f.delivered:>9} {f.rate():>9,.0f} "
            f"{f.percentile(0.5):>7.1f} {f.percentile(0.99):>7.1f} {f.sessions:>8} "
            f"{f.rss_idle:>7.0f}Mi {f.rss_sessions:>7.0f}Mi" + (f"  ({f.note})" if f.note else "")
        )
    if len(rows) == 2 and rows[1].rate():
        lines.append(f"chatsim/faye delivery rate: {rows[0].rate() / rows[1].rate():.2f}x")
    return "\n".join(lines)


async def run(plan: Plan) -> list[Figures]:
    rows = [await measure("chatsim", our_server(), plan)]
    node = faye_available()
    if node is not None:
        rows.append(await measure("faye", faye_server(node), plan))
    return rows


def main(args: argparse.Namespace) -> int:
    plan = QUICK if getattr(args, "quick", False) else FULL
    started = time.perf_counter()
    rows = asyncio.run(run(plan))
    print(report(rows, plan))
    if faye_available() is None:
        print("faye: not measured (run: npm ci --prefix tests/interop)")
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0
