"""Real Node peers for interop tests: the CometD JS client driver and a Faye server.

Locally the tests skip (with the reason) when Node or `tests/interop/node_modules`
is missing; under CI (`CI=true`) they fail instead, since `.ci/run` installs them
with `npm ci --prefix tests/interop`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.unavailable import unavailable

HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"
NEEDED = ("cometd", "cometd-nodejs-client", "faye")


def require_node() -> str:
    """The node binary, or skip (fail under CI) saying what is missing."""
    node = shutil.which("node")
    missing = [] if node else ["node on PATH"]
    missing += [
        f"tests/interop/node_modules/{p}" for p in NEEDED if not (NODE_MODULES / p).is_dir()
    ]
    if missing:
        reason = f"missing {', '.join(missing)} (run: npm ci --prefix tests/interop)"
        unavailable(reason, what="interop peers")
    assert node is not None
    return node


class NodePeer:
    """A Node process whose stdout lines are read as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._new = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.lines.append(line.decode().rstrip("\n"))
            self._new.set()
        self._new.set()

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]

    async def wait_for(
        self,
        predicate: Callable[[list[dict[str, Any]]], bool],
        timeout: float = 5.0,
        what: str = "an event",
    ) -> list[dict[str, Any]]:
        async def poll() -> list[dict[str, Any]]:
            while not predicate(self.events):
                if self.proc.returncode is not None and self._reader.done():
                    raise AssertionError(f"peer exited before {what}: {self.lines}")
                self._new.clear()
                await self._new.wait()
            return self.events

        try:
            return await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {what} within {timeout}s; got {self.lines}") from None

    async def wait_line(self, prefix: str, timeout: float = 10.0) -> str:
        async def poll() -> str:
            while True:
                for line in self.lines:
                    if line.startswith(prefix):
                        return line
                if self._reader.done():
                    raise AssertionError(f"peer exited before {prefix!r}: {self.lines}")
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(poll(), timeout)

    def command(self, **fields: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(fields) + "\n").encode())

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 3.0)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@asynccontextmanager
async def node_peer(script: str, *args: str) -> AsyncIterator[NodePeer]:
    node = require_node()
    proc = await asyncio.create_subprocess_exec(
        node,
        str(HERE / script),
        *args,
        cwd=HERE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    peer = NodePeer(proc)
    try:
        yield peer
    finally:
        await peer.stop()


@asynccontextmanager
async def faye_server(port: int = 0, timeout: float = 25) -> AsyncIterator[tuple[NodePeer, int]]:
    """A Faye server on 127.0.0.1; yields it and its port once it says ready."""
    async with node_peer("faye_server.mjs", "--port", str(port), "--timeout", str(timeout)) as peer:
        line = await peer.wait_line("ready")
        yield peer, int(line.split()[1])


def cometd_client(url: str, transport: str, *extra: str) -> Any:
    return node_peer("cometd_client.mjs", "--url", url, "--transport", transport, *extra)
