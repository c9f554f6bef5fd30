"""The session phase of `chatsim bench --live`: memory per held WebSocket session.

Tens of thousands of sessions outgrow one driver's file descriptors and its
ephemeral ports, and an aiohttp client per session costs the driver more than
the server. So the driver here is deliberately thin: worker processes
(`python -m sim.live.bench_sessions URL COUNT SOURCE`), each holding its share
of sessions from its own source address (127.0.0.2, .3, ...), over raw
asyncio streams that speak just enough RFC 6455 (a masked text frame up, an
unmasked one down) to handshake and keep a `/meta/connect` outstanding. A
worker prints `held N` once its sessions are up and holds them until its
stdin closes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import resource
import socket
import struct
import sys
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

PER_WORKER = 5000  # sessions one worker holds (its share of fds and ports)
CONCURRENT = 100  # handshakes a worker has in flight
_SPARE_FDS = 256


def raise_fd_limit(need: int) -> int:
    """Raise the open-file limit towards `need` (children inherit it); returns the soft limit.

    Root may raise the hard limit too; anyone else gets at most the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need + _SPARE_FDS
    if soft == resource.RLIM_INFINITY or soft >= want:
        return int(soft) if soft != resource.RLIM_INFINITY else want
    if hard != resource.RLIM_INFINITY and hard < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
    target = want if hard == resource.RLIM_INFINITY else min(want, int(hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


# -- just enough of RFC 6455 --------------------------------------------------------------
def _frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    key = int.from_bytes((mask * (size // 4 + 1))[:size], "big")
    masked = (int.from_bytes(payload, "big") ^ key).to_bytes(size, "big")
    return head + mask + masked


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", await reader.readexactly(2))
    elif size == 127:
        (size,) = struct.unpack("!Q", await reader.readexactly(8))
    if second & 0x80:
        await reader.readexactly(4)  # servers do not mask; skip it if one does
    return first & 0x0F, await reader.readexactly(size)


class Session:
    """One Bayeux client over one WebSocket: handshake, then always a connect outstanding."""

    def __init__(self, url: str, source: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.source = source
        self.client_id = ""
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._ids = 0

    async def start(self) -> None:
        reader, writer = await asyncio.open_connection(
            self.host, self.port, local_addr=(self.source, 0)
        )
        self._writer = writer
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        self._send(
            {
                "channel": "/meta/handshake",
                "version": "1.0",
                "supportedConnectionTypes": ["websocket"],
            }
        )
        _op, data = await _read_frame(reader)
        self.client_id = json.loads(data)[0]["clientId"]
        self._send(self._connect())
        self._task = asyncio.create_task(self._keep(reader))

    def _connect(self) -> dict[str, Any]:
        return {
            "channel": "/meta/connect",
            "clientId": self.client_id,
            "connectionType": "websocket",
        }

    def _send(self, message: dict[str, Any]) -> None:
        assert self._writer is not None
        self._ids += 1
        self._writer.write(_frame(json.dumps([{**message, "id": str(self._ids)}])))

    async def _keep(self, reader: asyncio.StreamReader) -> None:
        """Answer each returned connect with the next one, so the session never lapses."""
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                op, data = await _read_frame(reader)
                if op == 0x8:
                    return
                if op == 0x1 and b'"/meta/connect"' in data:
                    self._send(self._connect())

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._writer is not None:
            self._writer.transport.abort()


async def hold(
    url: str, count: int, source: str, failures: Counter[str] | None = None
) -> list[Session]:
    """Open `count` sessions (at most CONCURRENT handshakes at once); those that came up.

    `failures` counts why the others did not."""
    gate = asyncio.Semaphore(CONCURRENT)
    sessions = [Session(url, source) for _ in range(count)]

    async def start(session: Session) -> bool:
        async with gate:
            try:
                async with asyncio.timeout(30):
                    await session.start()
            except (
                OSError,
                TimeoutError,
                ValueError,
                KeyError,
                IndexError,
                asyncio.IncompleteReadError,
            ) as exc:
                session.close()
                if failures is not None:
                    failures[repr(exc)[:120]] += 1
                return False
            return True

    up = await asyncio.gather(*(start(s) for s in sessions))
    return [s for s, ok in zip(sessions, up, strict=True) if ok]


def usable_source(source: str) -> str:
    """`source` when this machine can bind it (Linux: all of 127/8), else 127.0.0.1."""
    try:
        with socket.socket() as probe:
            probe.bind((source, 0))
    except OSError:
        return "127.0.0.1"
    return source


async def _worker(url: str, count: int, source: str) -> None:
    source = usable_source(source)
    failures: Counter[str] = Counter()
    sessions = await hold(url, count, source, failures)
    print(f"held {len(sessions)}", flush=True)
    for reason, times in failures.most_common(3):
        print(f"bench worker {source}: {times} sessions failed: {reason}", file=sys.stderr)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the bench closes our stdin
    for session in sessions:
        session.close()


@asynccontextmanager
async def workers(urls: Sequence[str], count: int) -> AsyncIterator[int]:
    """Worker processes holding `count` sessions spread over `urls`; yields how many came up."""
    procs: list[asyncio.subprocess.Process] = []
    # Each worker needs a descriptor per session, under the same limit as this process.
    per = max(1, min(PER_WORKER, raise_fd_limit(PER_WORKER) - _SPARE_FDS))
    shares = [min(per, count - start) for start in range(0, count, per)]
    try:
        for n, share in enumerate(shares):
            argv = [sys.executable, "-m", "sim.live.bench_sessions", urls[n % len(urls)]]
            procs.append(
                await asyncio.create_subprocess_exec(
                    *argv,
                    str(share),
                    f"127.0.0.{2 + n}",
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        held = 0
        for proc in procs:
            assert proc.stdout is not None
            line = (await proc.stdout.readline()).decode()
            held += int(line.split()[1]) if line.startswith("held ") else 0
        yield held
    finally:
        for proc in procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def main(argv: Sequence[str]) -> int:
    url, count, source = argv
    raise_fd_limit(int(count))
    asyncio.run(_worker(url, int(count), source))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
