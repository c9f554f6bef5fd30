"""The CLI's rule: bad input exits 2 with one line naming file:line: field, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

BIG = "1" + "0" * 400

SCENARIOS = [
    (
        f"duration: 9\nexpect:\n  - {{kind: ready, at: {BIG}}}\n",
        ":3: at: expected a finite number, not an integer of 401 digits",
    ),
    (
        f"duration: 9\nfaults:\n  - {{kind: outage, at: {BIG}, duration: 1}}\n",
        ":3: at: expected a number from 0 to 604800 s",
    ),
    ("duration: 9\nfaults:\n  - {kind: slow, ms: .inf}\n", ":3: ms: expected a finite number"),
    (
        "duration: 9\nnetwork: {latency: 1.0e-17}\n"
        "client: {backoff_increment: 0, max_backoff: 0}\n",
        ":2: network.latency: expected a latency between 1e-06 s and a week",
    ),
    ("duration: 9\nexpect:\n  - {kind: interupted}\n", ":3: kind: expected an event kind"),
    ("duration: 9\nexpect:\n  - {none: reddy}\n", ":3: none: expected an event kind"),
    (
        "duration: 9\nexpect:\n  - {kind: error, cod: 150}\n",
        ":3: cod: expected a field of error records (code, data, description)",
    ),
    ("duration: 9\nexpect:\n  - {kind: error, code: 999}\n", ":3: code: expected a catalog code"),
    (
        "duration: 9\nexpect:\n  - {kind: send_failed, code: 42}\n",
        ":3: code: expected a catalog code",
    ),
    (
        "duration: 9\nexpect:\n  - {kind: crash, instance: i2}\n",
        ":3: instance: expected a field of crash records (dropped)",
    ),
]


@pytest.mark.parametrize(("text", "reason"), SCENARIOS)
def test_bad_scenarios_exit_2_with_the_reason(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    reason: str,
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["run", "--quiet", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"chatsim run: {path}{reason}" in err


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (["--port", "70000"], "--port must be between 0 and 65535, got 70000"),
        (["--port", "-1"], "--port must be between 0 and 65535"),
        (["--instances", "100000"], "--instances must be between 1 and 64"),
        (["--session-ttl", "nan"], "--session-ttl must be positive"),
        (["--idle-timeout", "inf"], "--idle-timeout must be positive"),
        (["--send-queue", "0"], "--send-queue must be positive"),
        (["--max-frame", "100"], "--max-frame must be at least 1024 bytes"),
        (["--max-connections", "-5"], "--max-connections must be positive"),
        (["--max-depth", "5000"], "--max-depth must be at most 500"),
    ],
)
def test_bad_serve_flags_exit_2_with_the_reason(
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    reason: str,
) -> None:
    assert main(["serve", *flags]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and reason in err and "Traceback" not in err


def test_a_hostile_bench_needs_frames(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--hostile", "0"]) == 2
    assert "--hostile needs a positive number" in capsys.readouterr().err
