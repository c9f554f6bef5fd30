"""I8 by a second run: compared record by record as it is made; by default only when cheap."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from sim import runner
from sim.cli import main
from sim.commands import bench
from sim.runner import run_scenario
from statecharts.trace import parse_trace
from transport.core import ClientCore

_COUNTER = itertools.count()


class ForgetfulCore(ClientCore):
    """Leaks state between runs: the second run says something else."""

    def send_message(self, text: str, now: float) -> str:
        msg_id: str = super().send_message(f"{text} #{next(_COUNTER)}", now)
        return msg_id


def test_a_run_that_differs_the_second_time_breaks_i8_at_its_first_line() -> None:
    result = run_scenario(bench.lifecycle(duration=20.0), twice=True, core_class=ForgetfulCore)
    [failure] = [f for f in result.failures if f.rule == "I8"]
    assert "differs at trace line" in failure.message and "#" in failure.message


def test_a_deterministic_run_holds_i8_and_its_records_are_what_the_text_says() -> None:
    result = run_scenario(bench.lifecycle(duration=20.0), twice=True)
    assert result.ok and "I8" in result.checked
    assert parse_trace(result.trace_text.splitlines()).records == result.records


def test_by_default_the_second_run_is_made_only_when_cheap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(runner.REPLAY_ENV)
    scenario = bench.lifecycle(duration=20.0)
    assert "I8" in run_scenario(scenario, twice=None).checked
    monkeypatch.setattr(runner, "REPLAY_BUDGET", 10)
    assert "I8" not in run_scenario(scenario, twice=None).checked
    monkeypatch.setenv(runner.REPLAY_ENV, "1")  # as in the test suite
    assert "I8" in run_scenario(scenario, twice=None).checked


def test_run_says_when_i8_was_not_replayed_and_replay_check_forces_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(runner.REPLAY_ENV)
    monkeypatch.setattr(runner, "REPLAY_BUDGET", 10)
    monkeypatch.setattr("sim.commands.run.REPLAY_BUDGET", 10)
    path = str(Path(__file__).parents[2] / "examples" / "lifecycle_end.yaml")
    assert main(["run", path, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "I8 not replayed" in out and "I7 held" in out
    assert main(["run", path, "--quiet", "--replay-check"]) == 0
    assert "I8 held" in capsys.readouterr().out
