"""Every example scenario passes through the CLI; bad files exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.runner import play
from sim.scenario import load_scenario

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


def test_there_are_examples() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {"outage_short_and_long", "chaos", "long_polling", "failover_crash"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_passes(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", str(path), "--quiet"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert out.startswith("PASS: ")


def test_demo_prints_timeline_trace_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace, page = tmp_path / "t.jsonl", tmp_path / "r.html"
    demo = str(EXAMPLES[0].with_name("outage_short_and_long.yaml"))
    assert main(["run", demo, "--trace", str(trace), "--report", str(page)]) == 0
    out = capsys.readouterr().out
    assert "23.000s  c1          interrupted" in out
    assert "error 150 Network connection interrupted" in out
    header = json.loads(trace.read_text().splitlines()[0])
    assert header["kind"] == "run" and header["seed"] == 7 and header["clock"] == "virtual"
    assert header["interrupt_after"] == 3.0 and header["interruption_error"] is True
    assert header["version"] == 1 and isinstance(header["chatsim"], str)
    assert "<svg" in page.read_text()
    assert main(["check", str(trace)]) == 0  # the trace stands on its own


def test_seed_override_changes_the_header(capsys: pytest.CaptureFixture[str]) -> None:
    demo = str(EXAMPLES[0].with_name("outage_short_and_long.yaml"))
    assert main(["run", demo, "--quiet", "--seed", "1234"]) == 0
    assert "PASS" in capsys.readouterr().out


def test_same_scenario_twice_gives_identical_bytes() -> None:
    scenario = load_scenario(EXAMPLES[0].with_name("chaos.yaml"))
    assert play(scenario).trace.text() == play(scenario).trace.text()


def test_failed_expectation_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text(
        "duration: 20\nfaults:\n  - {at: 5, kind: outage, duration: 5}\n"
        "expect:\n  - {kind: interrupted, at: 9.0}\n"
    )
    assert main(["run", str(path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "expect: line 5: expected interrupted at 9: no match; interrupted events at t=8" in out
    assert out.rstrip().endswith("FAIL: 1 of 1 expectation(s) failed")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("duration: 5\nfaults:\n  - {at: 1, kind: meteor}\n", ":3: kind: expected one of"),
        ("duration: 5\nfaults:\n  - {at: 1, kind: blackhole}\n", ":3: duration: expected a"),
        ("duration: 5\nnetwork: {latency: fast}\n", ":2: network.latency: expected a number"),
    ],
)
def test_bad_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["run", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"chatsim run: {path}{where}")


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "none.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.slow
def test_same_bytes_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    chaos = str(EXAMPLES[0].with_name("chaos.yaml"))
    traces = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"t{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        cmd = [sys.executable, "-m", "sim.cli", "run", chaos, "--quiet", "--trace", str(out)]
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        traces.append(out.read_bytes())
    assert traces[0] == traces[1]
