"""A zero network latency is refused: immediate retries would never let time pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import NetworkSpec
from statecharts.errors import UsageError


def test_zero_latency_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "zero.yaml"
    path.write_text("name: z\nduration: 5\nnetwork: {latency: 0}\nclient: {backoff_increment: 0}\n")
    assert main(["run", str(path)]) == 2
    assert "zero.yaml:3: network.latency: expected a positive number" in capsys.readouterr().err


def test_zero_latency_spec_is_refused() -> None:
    with pytest.raises(UsageError, match="latency must be positive"):
        NetworkSpec(latency=0.0)
