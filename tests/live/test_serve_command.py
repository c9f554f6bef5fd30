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


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "flags, said",
    [
        (
            ["--allow-origin", "example.com"],
            b"--allow-origin 'example.com': expected scheme://host",
        ),
        (["--agent-every", "0"], b"--agent-every must be a positive number of seconds"),
        (["--agent-reply-after", "nan"], b"--agent-reply-after must be a positive number"),
    ],
)
async def test_serve_refuses_bad_browser_flags_with_exit_2(flags: list[str], said: bytes) -> None:
    proc = await asyncio.create_subprocess_exec(
        *CHATSIM,
        "serve",
        "--port",
        "0",
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 2
    assert said in err and b"Traceback" not in err


@pytest.mark.asyncio
async def test_serve_allows_the_origins_it_is_given_and_serves_the_agent_endpoint() -> None:
    site = "http://widget.test:3000"
    proc = await asyncio.create_subprocess_exec(
        *CHATSIM,
        "serve",
        "--port",
        "0",
        "--allow-origin",
        site,
        "--agent-every",
        "5",
        "--agent-reply-after",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        url = re.search(r"listening on (\S+)", line)
        assert url, line
        base = url.group(1).removesuffix("/cometd")
        async with aiohttp.ClientSession() as http:
            preflight = {"Origin": site, "Access-Control-Request-Method": "POST"}
            async with http.options(url.group(1), headers=preflight) as response:
                assert response.status == 204
                assert response.headers["Access-Control-Allow-Origin"] == site
            async with http.post(f"{base}/agent/none/say", json={"text": "hi"}) as response:
                assert response.status == 404
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
