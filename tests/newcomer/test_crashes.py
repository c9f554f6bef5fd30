"""A core that raises is a failure with the timeline, in the library as in the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from sim.cli import main as chatsim
from sim.faults import Outage
from sim.hypo.fixtures import FlowResult
from sim.hypo.machine import flow_machine
from sim.hypo.oracles import InvariantError
from sim.hypo.program import Inject, Wait
from statecharts.errors import IllegalTransition
from transport.core import ClientCore


class CrashOnLoss(ClientCore):
    def connection_closed(self, now: float, reason: str = "closed") -> None:
        raise IllegalTransition("ready", "connection_lost")


def test_run_client_flow_reports_a_crash_with_the_timeline(
    run_client_flow: Callable[..., FlowResult],
) -> None:
    flow = [Wait(1), Inject(Outage(duration=5)), Wait(5)]
    result = run_client_flow(flow, core_class=CrashOnLoss)
    assert [f.rule for f in result.failures] == ["crash"]
    assert "IllegalTransition" in result.failures[0].message
    with pytest.raises(AssertionError) as caught:
        result.assert_ok()
    assert "timeline:" in str(caught.value) and "state opening -> ready" in str(caught.value)


def test_the_machine_reports_a_crash_with_the_timeline() -> None:
    machine = flow_machine(CrashOnLoss, kinds=["outage"], actions=["send"])
    fast = settings(
        max_examples=50,
        database=None,
        derandomize=True,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )
    with pytest.raises(InvariantError) as caught:
        run_state_machine_as_test(machine, settings=fast)
    assert "crash at t=" in str(caught.value) and "IllegalTransition" in str(caught.value)
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "timeline:" in notes and "fault.start outage" in notes


class CrashOnInit(ClientCore):
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("no config file")


def test_fuzz_reports_a_core_that_cannot_even_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["fuzz", "--examples", "3", "--out", str(tmp_path)]
    assert chatsim([*argv, "--core", "tests.newcomer.test_crashes:CrashOnInit"]) == 1
    out = capsys.readouterr().out
    assert "crash: RuntimeError: no config file" in out
    assert "timeline: none (the core raised while the world was being built)" in out
