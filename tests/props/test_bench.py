"""The fuzzing benchmark runs and counts (figures are measured by `chatsim bench`, not here)."""

from __future__ import annotations

from sim.hypo.bench import measure, random_programs, world_examples_per_second


def test_measure_counts_examples_and_steps() -> None:
    rate, stats = measure(3, 5)
    assert rate > 0
    assert stats.examples == 3 and 0 < stats.steps <= 15


def test_world_share_runs_seeded_programs() -> None:
    assert random_programs(2, 4, seed=1) == random_programs(2, 4, seed=1)
    assert world_examples_per_second(2, 5) > 0
