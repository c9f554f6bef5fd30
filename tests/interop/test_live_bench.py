"""`chatsim bench --live` end to end on a tiny plan: both servers, every row printed.

Figures only; the targets are the bench's and the README's, never a test's."""

from __future__ import annotations

import asyncio

import pytest

from sim.live import bench
from sim.live.bench_report import Plan, report

TINY = Plan(subscribers=2, seconds=0.3, sessions=30)


@pytest.mark.slow
def test_the_live_bench_measures_chatsim_and_faye_the_same_way() -> None:
    if bench.faye_available() is None:
        pytest.skip("node or tests/interop/node_modules/faye is missing")
    rows = asyncio.run(bench.run(TINY))
    assert [r.server for r in rows] == ["chatsim", "faye"]
    for row in rows:
        assert row.delivered == row.published * TINY.subscribers > 0, row
        assert row.cpu > 0 and row.frames > 0 and row.sessions == TINY.sessions, row
    assert rows[1].frames_per_delivery() == 1.0  # Faye: one frame per delivery
    assert rows[0].frames_per_delivery() <= 1.0  # chatsim: batched (or not, when idle)
    out = report(rows, TINY)
    for line in ("CPU us/deliv", "frames/deliv", "KiB/session", "server CPU per delivery:"):
        assert line in out
