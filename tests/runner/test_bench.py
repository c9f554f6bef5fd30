"""`chatsim bench` smoke tests: the scenarios it times are real, passing runs."""

from __future__ import annotations

from pathlib import Path

from sim.commands import bench, bench_load
from sim.runner import play, run_scenario
from sim.scenario import load_scenario


def test_the_benchmarked_scenarios_pass() -> None:
    assert run_scenario(bench.lifecycle()).ok
    assert run_scenario(bench.long_run(0.1)).ok


def test_measure_gives_positive_figures() -> None:
    speed, rate = bench.measure_scenario(bench.lifecycle(duration=20.0))
    assert speed > 0 and rate > 0
    assert "x real time" in bench.Row("x", speed, "x real time", 1.0).line()


def test_protocol_events_count_each_thing_once() -> None:
    world = play(bench.lifecycle(duration=20.0))
    counts = bench.count(world)
    frames = counts.kernel_events - counts.other_kernel_events
    assert 0 < frames <= counts.messages  # a delivered frame carries one message or more
    client_records = [r for r in world.records if r.src.startswith("client:")]
    assert counts.client_events == len(client_records)
    assert counts.protocol_events == counts.messages + counts.client_events + (
        counts.other_kernel_events
    )


def test_standard_load_files_are_shipped() -> None:
    for quick in (True, False):
        assert load_scenario(bench_load.load_path(quick)).duration >= 3600
    for n in (10, 1000):
        assert len(load_scenario(bench_load.LOADS / f"clients-{n}.yaml").clients) == n


def test_a_load_is_measured_as_a_whole_child_process(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(
        "name: tiny\nseed: 1\nduration: 20\ntraffic: {client_every: 1.0, agent_every: 1.0}\n"
    )
    figures = bench_load.measure_chatsim(scenario)
    assert figures.cpu > 0 and figures.peak_mib > 0 and figures.verdict.startswith("PASS")
    assert figures.app_messages >= 30 and figures.frames > figures.app_messages / 2
    assert figures.per_message_us() > figures.per_frame_us() > 0


def test_no_baseline_no_ratio(tmp_path: Path) -> None:
    assert bench_load.measure_baseline(10.0, tmp_path / "absent.py") is None
