"""`chatsim bench` smoke tests: the scenarios it times are real, passing runs."""

from __future__ import annotations

from sim.commands import bench
from sim.runner import run_scenario


def test_the_benchmarked_scenarios_pass() -> None:
    assert run_scenario(bench.lifecycle()).ok
    assert run_scenario(bench.long_run(0.1)).ok


def test_measure_gives_positive_figures() -> None:
    speed, rate = bench.measure_scenario(bench.lifecycle(duration=20.0))
    assert speed > 0 and rate > 0
    assert "x real time" in bench.Row("x", speed, "x real time", 1.0).line()

