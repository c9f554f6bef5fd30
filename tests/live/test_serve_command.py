"""`chatsim serve` as a process: listens on 127.0.0.1, refuses other hosts, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import aiohttp
import pytest

from sim.commands.serve import check_host
from statecharts.errors import UsageError

CHATSIM = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_other_hosts_need_allow_remote_and_a_token(host: str) -> None:
    with pytest.raises(UsageError, match="--allow-remote"):
        check_host(host, allow_remote=False, token=None)
    with pytest.raises(UsageError):
        check_host(host, allow_remote=True, token=None)
    check_host(host, allow_remote=True, token="t")
    check_host("127.0.0.1", allow_remote=False, token=None)


@pytest.mark.asyncio
async def test_serve_answers_then_shuts_down_cleanly_on_sigterm() -> None:
    proc = await asyncio.create_subprocess_exec(
        *CHATSIM,
        "serve",
        "--port",
        "0",
        "--instances",
        "2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        url = re.search(r"listening on (\S+)", line)
        assert url, line
        faults = url.group(1).replace("/cometd", "/faults")
        async with (
            aiohttp.ClientSession() as http,
            http.post(faults, json={"kind": "latency", "ms": 1}) as response,
        ):
            assert response.status == 201
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
        log = (await proc.stderr.read()).decode()
        assert "fault 1 added" in log
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.asyncio
async def test_serve_refuses_a_remote_host_with_exit_2() -> None:
    proc = await asyncio.create_subprocess_exec(
        *CHATSIM,
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 2
    assert b"--allow-remote" in err and b"Traceback" not in err
