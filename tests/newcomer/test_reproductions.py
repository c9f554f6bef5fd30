"""A fuzz failure found with `--core` replays as a failure with `chatsim run`.

The planted-bug core lives in a package in the current directory, as a
user's own code would; nothing sets PYTHONPATH.
"""

from __future__ import annotations

from pathlib import Path

from sim.scenario import load_scenario
from tests.newcomer.userpath import chatsim, planted_package


def test_a_fuzz_failure_with_core_replays_as_a_failure(tmp_path: Path) -> None:
    module = planted_package(tmp_path)
    found = chatsim(
        "fuzz", "--core", f"{module}:Twice150", "--examples", "100", "--seed", "1",
        "--out", "out", cwd=tmp_path,
    )  # fmt: skip
    assert found.returncode == 1, found.stderr
    assert "I3" in found.stdout and "timeline:" in found.stdout
    assert "\r" not in found.stderr  # not a terminal: plain progress lines
    [repro] = (tmp_path / "out").glob("*.yaml")
    assert load_scenario(repro).core == f"{module}:Twice150"

    replay = chatsim("run", str(repro.relative_to(tmp_path)), cwd=tmp_path)
    assert replay.returncode == 1, replay.stdout + replay.stderr
    assert "I3" in replay.stdout and "FAIL" in replay.stdout
    assert f"client core: {module}:Twice150" in replay.stdout

    builtin = chatsim("run", str(repro), "--core", "transport.core:ClientCore", cwd=tmp_path)
    assert builtin.returncode == 0, builtin.stdout  # the same scenario holds for a sound core


def test_a_crashing_core_is_a_failure_with_the_timeline_up_to_the_crash(tmp_path: Path) -> None:
    module = planted_package(tmp_path)
    (tmp_path / "crash.yaml").write_text(
        f"duration: 20\ncore: {module}:CrashOnLoss\n"
        "faults:\n  - {at: 5, kind: outage, duration: 5}\n"
    )
    run = chatsim("run", "crash.yaml", cwd=tmp_path)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = run.stdout.splitlines()
    assert any("state opening -> ready" in line for line in lines)  # the timeline so far
    assert any("fault.start outage" in line for line in lines)
    crash = next(line for line in lines if line.startswith("crash: at t=5"))
    assert "IllegalTransition" in crash and "transport.py:" in crash
    assert lines[-1].startswith("FAIL: the run crashed at t=5")

    fuzzed = chatsim(
        "fuzz", "--core", f"{module}:CrashOnLoss", "--examples", "50", "--out", "out",
        cwd=tmp_path,
    )  # fmt: skip
    assert fuzzed.returncode == 1 and "Traceback" not in fuzzed.stderr
    assert "crash: at t=" in fuzzed.stdout and "timeline:" in fuzzed.stdout
    assert "state idle -> connecting" in fuzzed.stdout.split("timeline:")[1]


def test_a_core_that_cannot_be_imported_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("duration: 5\ncore: nosuch.module:Core\n")
    run = chatsim("run", "s.yaml", cwd=tmp_path)
    assert run.returncode == 2
    assert (
        run.stderr
        == "chatsim run: s.yaml: core: cannot import nosuch.module: No module named 'nosuch'\n"
    )
    bad = chatsim("run", "s.yaml", "--core", "not a spec", cwd=tmp_path)
    assert bad.returncode == 2 and "--core: expected module:Class" in bad.stderr
