"""The live bench's load driver, on a tiny plan against an in-process server (no targets here)."""

from __future__ import annotations

import os

import pytest

from sim.cli import main as cli_main
from sim.live.bench import Figures, Plan, fit_to_fd_limit, hold_sessions, report, throughput
from sim.live.bench_sessions import _frame, usable_source
from sim.live.runner import live_server


@pytest.mark.asyncio
async def test_the_load_driver_counts_deliveries_frames_cpu_and_held_sessions() -> None:
    plan = Plan(subscribers=3, seconds=0.2, sessions=5)
    figures = Figures("chatsim")
    async with live_server() as srv:
        await throughput(srv.url, plan, figures, os.getpid())
        await hold_sessions([srv.url], plan.sessions, os.getpid(), figures)
    assert figures.published > 0
    assert figures.delivered == figures.published * plan.subscribers
    assert len(figures.latencies) == figures.delivered
    assert figures.frames > 0 and figures.cpu > 0
    assert figures.sessions == plan.sessions and figures.rss_sessions > 0
    text = report([figures, figures], plan)
    for row in ("CPU us/deliv", "frames/deliv", "KiB/session", "server CPU per delivery: 1.00"):
        assert row in text
    assert "chatsim/chatsim delivery rate: 1.00x" in text


def test_client_frames_are_masked_text_frames_of_every_length_class() -> None:
    for size in (0, 5, 125, 126, 70_000):
        frame = _frame("x" * size)
        assert frame[0] == 0x81 and frame[1] & 0x80
        head = 2 + {126: 2, 127: 8}.get(frame[1] & 0x7F, 0)
        mask, payload = frame[head : head + 4], frame[head + 4 :]
        assert bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) == b"x" * size


def test_sessions_without_live_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["bench", "--sessions", "10"]) == 2
    assert "--sessions goes with --live" in capsys.readouterr().err


def test_a_plan_past_the_open_file_limit_is_trimmed_and_says_why() -> None:
    plan, note = fit_to_fd_limit(Plan(subscribers=1, seconds=0.1, sessions=10**7))
    assert 0 < plan.sessions < 10**7 and "open-file limit" in note
    same, silent = fit_to_fd_limit(Plan(subscribers=1, seconds=0.1, sessions=10))
    assert same.sessions == 10 and silent == ""


def test_a_source_address_the_machine_lacks_falls_back_to_127_0_0_1() -> None:
    assert usable_source("127.0.0.1") == "127.0.0.1"
    assert usable_source("192.0.2.1") == "127.0.0.1"  # TEST-NET-1: never a local address
