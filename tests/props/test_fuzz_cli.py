"""`chatsim fuzz`: progress, coverage report, and on failure a reproducing scenario file."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from sim.cli import main as chatsim
from sim.commands import fuzz
from sim.cores import load_core
from sim.hypo.campaign import run_campaign
from sim.runner import run_scenario
from sim.scenario import load_scenario
from statecharts.errors import UsageError
from tests.props import bugs


def args(
    out: Path, examples: int = 30, seed: int = 1, core: str | None = None
) -> argparse.Namespace:
    return argparse.Namespace(examples=examples, seed=seed, out=str(out), core=core, workers=1)


def test_a_planted_bug_fails_with_a_reproducing_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = fuzz.main(args(tmp_path, examples=100, core="tests.props.bugs:Error150Twice"))
    out, err = capsys.readouterr()
    assert status == 1
    assert "examples" in err and "shrinking" in err
    assert "statechart coverage over" in out and "never reached" in out
    assert "FAIL after" in out and "seed: " in out and "shrunk program" in out
    assert "I3" in out and "timeline:" in out
    repros = sorted(tmp_path.glob("fuzz-1-*.yaml"))
    assert len(repros) == 1
    assert repros[0].with_name(repros[0].stem + ".trace.jsonl").exists()
    assert repros[0].with_name(repros[0].stem + ".timeline.txt").exists()
    scenario = load_scenario(repros[0])
    again = run_scenario(scenario, core_class=bugs.Error150Twice)
    assert any(f.rule == "I3" for f in again.failures)
    assert run_scenario(scenario).ok  # the built-in core passes the same scenario


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert chatsim(["fuzz", "--examples", "0", "--out", str(tmp_path)]) == 2
    assert "--examples must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        chatsim(["fuzz", "--examples", "many"])
    assert caught.value.code == 2


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("nocolon", "expected module:Class"),
        ("no.such.module:X", "cannot import"),
        ("tests.props.bugs:Events", "not a ClientCore subclass"),
    ],
)
def test_bad_core_specs_are_refused(spec: str, reason: str) -> None:
    with pytest.raises(UsageError, match=reason):
        load_core(spec)


def test_progress_bar_draws_on_one_line() -> None:
    out = io.StringIO()
    bar = fuzz.ProgressBar(out)
    bar(1, 4, False)
    bar(4, 4, False)
    bar(5, 4, True)
    bar.close()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.count("\r") == 3
    assert "[" + "#" * fuzz.BAR_WIDTH + "] 4/4 examples" in text
    assert "shrinking (run 5)" in text


def test_the_built_in_core_holds_a_short_campaign() -> None:
    result = run_campaign(25, seed=1)
    assert result.ok, result.failure and result.failure.describe()
    assert result.examples == 25 and result.coverage.runs == 25
    assert ("idle", "start", "connecting") in result.coverage.reached_edges


def test_workers_reach_the_campaign(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert chatsim(["fuzz", "--examples", "6", "--workers", "2", "--out", str(tmp_path)]) == 0
    assert "PASS: 6 examples" in capsys.readouterr().out
    assert chatsim(["fuzz", "--examples", "6", "--workers", "0", "--out", str(tmp_path)]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
