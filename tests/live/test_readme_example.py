"""The README's live-mode example, with short timers so it runs in about 2 s."""

from __future__ import annotations

import pytest

from sim.live.runner import live_server
from statecharts.chart import Timers
from statecharts.events import Continued
from transport.aio.session import ChatSession


@pytest.mark.live
@pytest.mark.asyncio
async def test_readme_live_example() -> None:
    async with live_server(instances=2) as srv:
        timers = Timers(interrupt_after=0.5, backoff_increment=0.2)
        async with await ChatSession.connect(srv.url, timers=timers) as chat:
            await chat.ready()
            acked = await chat.send_message("hello")
            assert acked.index > 0
            srv.faults.add(kind="outage", duration=1.0)
            t_interrupted, _ = await chat.wait_for("interrupted")
            t_continued, continued = await chat.wait_for(Continued, timeout=10)
            assert t_continued > t_interrupted
            assert continued.duration >= 0.5
