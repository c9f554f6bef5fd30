"""`chatsim bench` smoke tests: the scenarios it times are real, passing runs."""

from __future__ import annotations

from sim.commands import bench
from sim.runner import play, run_scenario


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
