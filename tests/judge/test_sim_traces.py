"""Traces of simulated runs: `chatsim check` on a run's own trace, and as a live session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sim.cli import main
from statecharts.judge import check_live
from tests.judge.sim_to_live import EXAMPLES, live_lines, write


@pytest.fixture(scope="module")
def run_lines(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("run") / "run.jsonl"
    assert (
        main(["run", str(EXAMPLES / "outage_short_and_long.yaml"), "--quiet", "--trace", str(path)])
        == 0
    )
    return path.read_text().splitlines()


def judged(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str]) -> str:
    capsys.readouterr()
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    status = main(["check", str(path)])
    out = capsys.readouterr().out
    assert status == (0 if out.startswith("OK") else 1)
    return out


def test_a_run_trace_holds(
    run_lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert judged(tmp_path, capsys, run_lines).startswith("OK")


def test_messages_never_acknowledged_are_flagged(
    run_lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_acks = [line for line in run_lines if '"kind":"ack"' not in line]
    out = judged(tmp_path, capsys, no_acks)
    sent = sum('"direction":"out"' in line for line in run_lines)
    assert out.count("was neither acknowledged nor failed") == sent > 20


def test_an_ack_naming_another_message_is_flagged(
    run_lines: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spot = next(i for i, line in enumerate(run_lines) if '"kind":"ack"' in line)
    ack = json.loads(run_lines[spot])
    wrong = list(run_lines)
    wrong[spot] = json.dumps({**ack, "index": ack["index"] + 1}, separators=(",", ":"))
    out = judged(tmp_path, capsys, wrong)
    assert (
        f"line {spot + 1}:" in out and "I6" in out and f"where the trace shows {ack['id']}" in out
    )
    stranger = list(run_lines)
    stranger[spot] = json.dumps({**ack, "id": "nobody-1"}, separators=(",", ":"))
    out = judged(tmp_path, capsys, stranger)
    assert "nobody-1 never was" in out


@pytest.mark.parametrize(
    "example", ["outage_short_and_long.yaml", "failover_crash.yaml", "reload_restore.yaml"]
)
def test_simulated_sessions_pass_the_live_oracle(example: str, tmp_path: Path) -> None:
    verdict = check_live(write(live_lines(example), tmp_path / "live.jsonl"))
    assert verdict.ok, [v.describe() for v in verdict.violations]


def _drop(lines: list[dict[str, Any]], pick: Any) -> list[dict[str, Any]]:
    spot = next(i for i, line in enumerate(lines) if pick(line))
    return lines[:spot] + lines[spot + 1 :]


def test_a_simulated_session_broken_is_caught_by_the_live_oracle(tmp_path: Path) -> None:
    lines = live_lines("outage_short_and_long.yaml")
    lost = _drop(
        lines, lambda r: r["kind"] == "message" and r.get("party") == "agent" and r["t"] > 30
    )
    verdict = check_live(write(lost, tmp_path / "lost.jsonl"))
    assert any("never saw transcript indexes" in v.event for v in verdict.violations)
    early = [
        {**r, "t": r["t"] - 1.0}
        if r["kind"] in ("interrupted", "error") and r.get("code", 150) == 150
        else r
        for r in lines
    ]
    verdict = check_live(write(early, tmp_path / "early.jsonl"))
    assert "I2" in {v.rule for v in verdict.violations}
