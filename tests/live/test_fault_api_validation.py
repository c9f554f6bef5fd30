"""The fault API refuses bad values with 400 and a reason; DELETE /faults undoes everything."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from sim.live.runner import RunningServer, live_server

JSON = {"Content-Type": "application/json"}


async def post_raw(http: aiohttp.ClientSession, srv: RunningServer, body: str) -> tuple[int, Any]:
    async with http.post(srv.faults_url, data=body, headers=JSON) as response:
        return response.status, await response.json()


@pytest.mark.asyncio
async def test_bad_fault_values_get_400_with_the_field_and_leave_the_board_clean() -> None:
    cases = [
        ('{"kind": "latency", "ms": NaN}', "ms: expected a finite number"),
        ('{"kind": "outage", "duration": Infinity}', "duration: expected a finite number"),
        ('{"kind": "outage", "duration": 1e400}', "duration: expected a finite number"),
        ('{"kind": "outage", "duration": 1' + "0" * 400 + "}", "duration: expected a number"),
        ('{"kind": "slow", "ms": 1e6}', "ms: expected a number from 0 to 60000 ms"),
        ('{"kind": "loss", "p": 2}', "p: expected a probability"),
        ('{"kind": "crash", "duration": 1, "instance": "i9"}', "instance: expected one of i1, i2"),
        ('{"kind": "command_error", "code": 999}', "code: expected an error code of the catalog"),
        ('{"kind": "expire", "client": "chat-404"}', "client: expected one of"),
    ]
    async with live_server(instances=2) as srv, aiohttp.ClientSession() as http:
        for body, reason in cases:
            status, answer = await post_raw(http, srv, body)
            assert status == 400, body
            assert reason in answer["error"], (body, answer)
        async with http.get(srv.faults_url) as response:
            assert (await response.json())["faults"] == []


@pytest.mark.asyncio
async def test_delete_faults_undoes_every_effect() -> None:
    async with live_server(instances=2) as srv, aiohttp.ClientSession() as http:
        cluster: Any = srv.server.cluster
        for fault in (
            {"kind": "crash", "instance": "i1", "duration": 60},
            {"kind": "not_ready", "duration": 60},
            {"kind": "slow", "ms": 500, "duration": 60},
            {"kind": "command_error", "code": 52, "count": 3, "duration": 60},
        ):
            async with http.post(srv.faults_url, json=fault) as response:
                assert response.status == 201
        await asyncio.sleep(0.05)  # they start
        assert not cluster.instances["i1"].up
        assert cluster.not_ready_until > srv.server.now()
        async with http.delete(srv.faults_url) as response:
            assert response.status == 200
        assert cluster.instances["i1"].up
        assert cluster.not_ready_until <= srv.server.now()
        assert all(inst.slow_ms == 0 for inst in cluster.instances.values())
        assert srv.faults.list() == []


@pytest.mark.asyncio
async def test_a_fault_whose_start_fails_is_reported_and_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with live_server(instances=2) as srv, aiohttp.ClientSession() as http:

        def broken(*_args: object) -> None:
            raise RuntimeError("store unavailable")

        monkeypatch.setattr(srv.server.cluster, "expire", broken)
        async with http.post(srv.faults_url, json={"kind": "expire"}) as response:
            assert response.status == 201
        await asyncio.sleep(0.05)
        (listed,) = srv.faults.list()
        assert listed["error"] == "could not start: store unavailable"
        async with http.delete(srv.faults_url) as response:
            assert response.status == 200
        assert srv.faults.list() == []
