"""`chatsim serve` as a child process, for tests and benchmarks that must read its log and its RSS.

async with serve_process("--idle-timeout", "2") as srv:
    srv.url, srv.rss_mb(), srv.log(), srv.tracebacks()
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

# What a server that let an exception escape writes to its log.
CRASH_MARKS = (
    "Traceback",
    "Error handling request",
    "Unhandled exception",
    "exception was never retrieved",
)


@dataclass
class ServeProcess:
    process: asyncio.subprocess.Process
    url: str
    log_path: Path

    @property
    def base(self) -> str:
        return self.url.removesuffix("/cometd")

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tracebacks(self) -> list[str]:
        """Log lines that show an exception escaped the server's handlers."""
        return [line for line in self.log().splitlines() if any(m in line for m in CRASH_MARKS)]

    def rss_mb(self) -> float:
        """Resident memory of the server process, from /proc (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(found.group(1)) / 1024.0 if found else 0.0


@asynccontextmanager
async def serve_process(*flags: str, start_timeout: float = 20.0) -> AsyncIterator[ServeProcess]:
    """Start `chatsim serve --port 0 FLAGS...`; stop it with SIGTERM at the end."""
    with tempfile.TemporaryDirectory(prefix="chatsim-serve-") as folder:
        log_path = Path(folder) / "serve.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "sim.cli",
                "serve",
                "--port",
                "0",
                *flags,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        try:
            assert process.stdout is not None
            line = (await asyncio.wait_for(process.stdout.readline(), start_timeout)).decode()
            found = re.search(r"listening on (\S+)", line)
            if found is None:
                raise RuntimeError(f"chatsim serve did not start: {line!r} {log_path.read_text()}")
            yield ServeProcess(process, found.group(1), log_path)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), 10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
