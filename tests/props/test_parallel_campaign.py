"""Campaigns on several workers: the same examples, the same first failure, shrunk."""

from __future__ import annotations

import pytest

from sim.hypo import shrink as shrink_module
from sim.hypo.campaign import Draw, run_campaign
from sim.hypo.program import Program, Wait
from sim.hypo.shrink import Shrinker
from sim.runner import CRASH
from statecharts.errors import UsageError
from tests.props import bugs
from transport.core import ClientCore


def test_example_i_is_the_same_whoever_draws_it() -> None:
    draw = Draw(seed=5, max_steps=10)
    assert draw(3) == Draw(seed=5, max_steps=10)(3)
    assert len({repr(draw(i)) for i in range(8)}) == 8  # disjoint seeds, distinct examples


def test_two_workers_run_the_examples_one_worker_runs() -> None:
    one = run_campaign(12, seed=2, workers=1)
    two = run_campaign(12, seed=2, workers=2)
    assert one.ok and two.ok
    assert one.coverage == two.coverage and two.examples == 12 == two.coverage.runs


def test_two_workers_find_and_shrink_the_first_failure_of_one() -> None:
    core = bugs.Error150Twice
    one = run_campaign(40, seed=1, core_class=core, workers=1)
    two = run_campaign(40, seed=1, core_class=core, workers=2)
    assert one.failure is not None and two.failure is not None
    assert (one.examples, one.failure.seed, one.failure.program) == (
        two.examples,
        two.failure.seed,
        two.failure.program,
    )
    assert any(f.rule == "I3" for f in two.failure.failures)


def test_the_shrinker_keeps_only_the_steps_that_fail() -> None:
    needed = Wait(7.0)
    program = Program(steps=(Wait(0.5), needed, Wait(2.0), Wait(3.0), Wait(4.0)))
    shrinker = Shrinker(lambda p: needed in p.steps, budget=100)
    assert shrinker.shrink(program).steps == (needed,)


def test_workers_must_be_positive() -> None:
    with pytest.raises(UsageError, match="--workers"):
        run_campaign(3, seed=0, workers=0)


class RaisesOnReload(ClientCore):
    """A core that crashes: a finding, reported with its exception, not a crash of the tool."""

    def reload(self, now: float) -> None:
        raise ValueError("reload broke")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_core_that_raises_is_a_finding(workers: int) -> None:
    result = run_campaign(60, seed=3, core_class=RaisesOnReload, workers=workers)
    assert result.failure is not None
    # the runner reports a core's exception as a `crash` failure, with the trace so far
    crashes = [f for f in result.failure.failures if f.rule == CRASH]
    assert crashes
    assert "ValueError: reload broke" in crashes[0].message
    assert "reload" in result.failure.program.show()
    assert len(result.failure.program.steps) <= 2  # shrunk: at most a wait, then the reload


def test_without_hypothesis_engine_the_plain_shrinker_takes_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shrink_module, "_with_hypothesis", lambda *args: None)
    result = run_campaign(60, seed=3, core_class=RaisesOnReload, workers=1)
    assert result.failure is not None
    assert any("ValueError: reload broke" in f.message for f in result.failure.failures)
    assert "reload" in result.failure.program.show()
