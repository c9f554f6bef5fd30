"""`chatsim serve` as a process: listens on 127.0.0.1, refuses other hosts, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

import aiohttp
import pytest

from sim.commands.serve import check_host
from sim.live.serve_process import ServeProcess, serve_process
from statecharts.errors import UsageError


async def refused_with_exit_2(*flags: str) -> bytes:
    """`chatsim serve --port 0 FLAGS...` must exit 2 at once; its stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sim.cli", "serve", "--port", "0", *flags,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 2
    assert b"Traceback" not in err
    return err


async def stops_cleanly_on_sigterm(srv: ServeProcess) -> None:
    srv.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(srv.process.wait(), 10) == 0


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
    async with serve_process("--instances", "2") as srv:
        async with (
            aiohttp.ClientSession() as http,
            http.post(srv.base + "/faults", json={"kind": "latency", "ms": 1}) as response,
        ):
            assert response.status == 201
        await stops_cleanly_on_sigterm(srv)
        assert "fault 1 added" in srv.log()


@pytest.mark.asyncio
async def test_serve_refuses_a_remote_host_with_exit_2() -> None:
    assert b"--allow-remote" in await refused_with_exit_2("--host", "0.0.0.0")


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
    assert said in await refused_with_exit_2(*flags)


@pytest.mark.asyncio
async def test_serve_allows_the_origins_it_is_given_and_serves_the_agent_endpoint() -> None:
    site = "http://widget.test:3000"
    flags = ("--allow-origin", site, "--agent-every", "5", "--agent-reply-after", "1")
    async with serve_process(*flags) as srv:
        async with aiohttp.ClientSession() as http:
            preflight = {"Origin": site, "Access-Control-Request-Method": "POST"}
            async with http.options(srv.url, headers=preflight) as response:
                assert response.status == 204
                assert response.headers["Access-Control-Allow-Origin"] == site
            async with http.post(f"{srv.base}/agent/none/say", json={"text": "hi"}) as response:
                assert response.status == 404
        await stops_cleanly_on_sigterm(srv)
