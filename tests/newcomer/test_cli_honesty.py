"""The CLI tells the truth early: versions, seeds, limits, warnings, output paths, progress."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from sim.cli import main as chatsim
from sim.commands import fuzz
from sim.scenario import MAX_SCENARIO_BYTES

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "examples" / "outage_short_and_long.yaml")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        chatsim(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("chatsim 0.")


def test_one_seed_rule_for_the_command_line_and_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["run", DEMO, "--seed", "-3"], ["fuzz", "--seed", "x"]):
        with pytest.raises(SystemExit) as caught:
            chatsim(argv)
        assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("expected a non-negative integer seed") == 2
    (tmp_path / "s.yaml").write_text("duration: 5\nseed: -1\n")
    assert chatsim(["run", str(tmp_path / "s.yaml")]) == 2
    assert "seed: expected a non-negative integer seed, got -1" in capsys.readouterr().err


def test_a_huge_scenario_file_is_refused_before_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("duration: 5\n" + "#" * MAX_SCENARIO_BYTES)
    started = time.perf_counter()
    assert chatsim(["run", str(big)]) == 2
    assert time.perf_counter() - started < 1.0  # generous: refused without parsing
    err = capsys.readouterr().err
    assert err.startswith(f"chatsim run: {big}: expected a scenario file of at most 1024 KiB")
    assert err.count("\n") == 1


def test_a_fault_after_the_end_is_a_warning_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "late.yaml"
    path.write_text(
        "duration: 20\nfaults:\n  - {at: 5, kind: outage, duration: 1}\n"
        "  - kind: outage\n    duration: 5\n    at: 30\n"
    )
    assert chatsim(["run", str(path), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == (
        f"chatsim run: warning: {path}:6: outage fault at t=30 starts after the scenario "
        "ends (duration 20); it will not act as written\n"
    )
    assert "PASS" in out


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        ("--trace", "no/such/dir/t.jsonl", "no such folder no/such/dir"),
        ("--report", ".", "is a folder, expected a file name"),
    ],
)
def test_output_paths_are_checked_before_the_run(
    option: str, value: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert chatsim(["run", DEMO, option, value]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing ran
    assert err == f"chatsim run: {option} {value}: {reason}\n"


def test_fuzz_out_must_be_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("")
    assert chatsim(["fuzz", "--examples", "1", "--out", str(tmp_path / "file" / "out")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_run_names_the_files_it_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, trace = tmp_path / "r.html", tmp_path / "t.jsonl"
    assert chatsim(["run", DEMO, "--quiet", "--report", str(report), "--trace", str(trace)]) == 0
    out = capsys.readouterr().out
    assert f"report: {report}\n" in out and f"trace: {trace}\n" in out
    assert report.exists() and trace.exists()


def test_the_demo_names_its_report() -> None:
    dev = (ROOT / "dev").read_text()
    assert (
        "run examples/outage_short_and_long.yaml --report demo-report.html" in dev
    )  # run prints "report: <path>"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_only_on_a_terminal() -> None:
    assert isinstance(fuzz.progress_for(_Tty()), fuzz.ProgressBar)
    log = io.StringIO()
    progress = fuzz.progress_for(log)
    for run in range(1, 251):
        progress(run, 250, False)
    progress(251, 250, True)
    progress(252, 250, True)
    progress.close()
    assert "\r" not in log.getvalue()
    assert log.getvalue().splitlines() == [
        "fuzz: 100/250 examples",
        "fuzz: 200/250 examples",
        "fuzz: 250/250 examples",
        "fuzz: failure found after 250 examples; shrinking",
    ]
