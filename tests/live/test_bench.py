"""The live bench's load driver, on a tiny plan against an in-process server."""

from __future__ import annotations

import os

import pytest

from sim.live.bench import Figures, Plan, hold_sessions, report, throughput
from sim.live.runner import live_server


@pytest.mark.asyncio
async def test_the_load_driver_counts_every_delivery_and_holds_sessions() -> None:
    plan = Plan(subscribers=3, seconds=0.2, sessions=5)
    figures = Figures("chatsim")
    async with live_server() as srv:
        await throughput(srv.url, plan, figures)
        await hold_sessions(srv.url, plan.sessions, os.getpid(), figures)
    assert figures.published > 0
    assert figures.delivered == figures.published * plan.subscribers
    assert len(figures.latencies) == figures.delivered
    assert figures.sessions == plan.sessions and figures.rss_sessions > 0
    text = report([figures, figures], plan)
    assert "chatsim/faye delivery rate: 1.00x" in text
