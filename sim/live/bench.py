"""`chatsim bench --live`: our live server against a Faye server, side by side, on 127.0.0.1.

Each server runs in its own process (`chatsim serve`, `node faye_server.mjs`)
so its RSS is its own. One load driver (raw Bayeux over WebSocket, in this
process) measures both the same way:

1. throughput: S subscribers on `/bench`, one publisher sending as fast as a
   window of unconfirmed publishes allows for a few seconds; deliveries per
   second, publish→deliver latency (p50, p99), the server process's CPU
   (user+sys from /proc/<pid>/stat) per delivery — the fair figure, since the
   driver's work differs with how many deliveries share a frame — and the
   WebSocket frames the subscribers received per delivery;
2. sessions, on a fresh server: C WebSocket sessions handshaken and holding a
   `/meta/connect` (`sim.live.bench_sessions` worker processes), then the
   server's RSS growth per session.

The figures, the targets and the report are in `sim.live.bench_report`.

This module reads the wall clock: it times runs, nothing it measures does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from sim.live.bench_report import WINDOW, Figures, Plan, report
from sim.live.bench_sessions import Session, hold, raise_fd_limit, workers

__all__ = ["FULL", "QUICK", "Figures", "Plan", "hold_sessions", "main", "report", "throughput"]

CHANNEL = "/bench"
INTEROP = Path(__file__).resolve().parents[2] / "tests" / "interop"


QUICK = Plan(subscribers=20, seconds=2.0, sessions=500)
FULL = Plan(subscribers=50, seconds=5.0, sessions=20_000)


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
        self.frames = 0  # frames received from the server

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
            self.frames += 1
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
async def throughput(url: str, plan: Plan, figures: Figures, pid: int | None = None) -> None:
    """Publish through a window for `plan.seconds`; `pid`: the server process whose CPU to read."""
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
        frames_before = sum(s.frames for s in subscribers)
        cpu_before = cpu_seconds(pid)
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
        figures.cpu = cpu_seconds(pid) - cpu_before
        figures.frames = sum(s.frames for s in subscribers) - frames_before
        if figures.delivered < expected:
            figures.note = f"{expected - figures.delivered} deliveries missing after the drain"
        for client in [*subscribers, publisher]:
            await client.close()


async def hold_sessions(urls: list[str], count: int, pid: int, figures: Figures) -> None:
    """RSS of a fresh server before and while `count` sessions are held (worker processes)."""
    warm = await _warm_up(urls[0])
    await asyncio.sleep(0.3)
    figures.rss_idle = rss_mib(pid)
    async with workers(urls, count) as held:
        await asyncio.sleep(1.0)  # let the last connects settle
        figures.sessions = held
        figures.rss_sessions = rss_mib(pid)
    for session in warm:
        session.close()
    if held < count:
        figures.note = f"{count - held} of {count} sessions did not come up"


async def _warm_up(url: str) -> list[Session]:
    """A few sessions first, so that one-time costs (imports, first buffers) are not per session."""
    return await hold(url, 20, "127.0.0.1")


def cpu_seconds(pid: int | None) -> float:
    """User+sys CPU seconds of process `pid` so far (0 when unknown)."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


_CLOCK_TICKS = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0


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


ServerFactory = Callable[[int], contextlib.AbstractAsyncContextManager[tuple[int, list[str]]]]


@asynccontextmanager
async def our_server(sessions: int) -> AsyncIterator[tuple[int, list[str]]]:
    """`chatsim serve`; for many sessions, two instances (each under its client bound)."""
    instances = 2 if sessions > 1000 else 1
    argv = [sys.executable, "-m", "sim.cli", "serve", "--port", "0"]
    argv += ["--instances", str(instances), "--max-connections", str(max(1000, sessions + 100))]
    async with process(argv, "chatsim serve: listening on") as (proc, line):
        url = line.split("listening on ", 1)[1].split()[0]
        base = url.rsplit("/cometd", 1)[0]
        yield proc.pid, [f"{base}/i{n}/cometd" for n in range(1, instances + 1)]


def faye_server(node: str) -> ServerFactory:
    @asynccontextmanager
    async def start(_sessions: int) -> AsyncIterator[tuple[int, list[str]]]:
        argv = [node, str(INTEROP / "faye_server.mjs"), "--port", "0"]
        async with process(argv, "ready", cwd=INTEROP) as (proc, line):
            yield proc.pid, [f"http://127.0.0.1:{int(line.split()[1])}/bayeux"]

    return start


async def measure(name: str, server: ServerFactory, plan: Plan) -> Figures:
    """Throughput on one server process, then the sessions on a fresh one."""
    figures = Figures(name)
    async with server(0) as (pid, urls):
        await asyncio.sleep(0.2)
        await throughput(urls[0], plan, figures, pid)
    if plan.sessions:
        async with server(plan.sessions) as (pid, urls):
            await asyncio.sleep(0.2)
            await hold_sessions(urls, plan.sessions, pid, figures)
    return figures


def faye_available() -> str | None:
    node = shutil.which("node")
    if node and (INTEROP / "node_modules" / "faye").is_dir():
        return node
    return None


FD_SPARE = 100  # open files a server needs besides its sessions' sockets


def fit_to_fd_limit(plan: Plan) -> tuple[Plan, str]:
    """Raise the open-file limit for the sessions (servers and workers inherit it); the
    plan trimmed to what the limit leaves room for, and a note saying so."""
    limit = raise_fd_limit(plan.sessions + FD_SPARE)
    if plan.sessions <= limit - FD_SPARE:
        return plan, ""
    fitted = Plan(plan.subscribers, plan.seconds, max(0, limit - FD_SPARE))
    note = (
        f"sessions: {fitted.sessions}, not {plan.sessions}: the open-file limit here is "
        f"{limit} per process (ulimit -Hn) and a server needs one per session"
    )
    return fitted, note


async def run(plan: Plan) -> list[Figures]:
    rows = [await measure("chatsim", our_server, plan)]
    node = faye_available()
    if node is not None:
        rows.append(await measure("faye", faye_server(node), plan))
    return rows


def main(args: argparse.Namespace) -> int:
    plan = QUICK if getattr(args, "quick", False) else FULL
    sessions = getattr(args, "sessions", None)
    if sessions is not None:
        plan = Plan(plan.subscribers, plan.seconds, sessions)
    started = time.perf_counter()
    plan, note = fit_to_fd_limit(plan)
    rows = asyncio.run(run(plan))
    print(report(rows, plan))
    if note:
        print(note)
    if faye_available() is None:
        print("faye: not measured (run: npm ci --prefix tests/interop)")
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0
