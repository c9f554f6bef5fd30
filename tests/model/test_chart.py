"""The statechart table: every row works, everything else is refused."""

from __future__ import annotations

import random

import pytest

from statecharts.chart import (
    LIVE,
    TERMINAL,
    TIMER_SPECS,
    TRANSITIONS,
    Chart,
    State,
    Timers,
    Trigger,
    dest_of,
    triggers_from,
)
from statecharts.errors import IllegalTransition

ROWS = [(source, row.trigger, row.dest) for row in TRANSITIONS for source in row.sources]


def chart_in(state: State) -> Chart:
    return Chart(initial=state)


@pytest.mark.parametrize(("source", "trigger", "dest"), ROWS, ids=str)
def test_every_transition_of_the_table(source: State, trigger: Trigger, dest: State) -> None:
    chart = chart_in(source)
    context = {"lost_for": 3.0, "interrupt_after": 3.0}
    assert chart.fire(trigger, **context) == (source, dest)
    assert chart.current is dest


@pytest.mark.parametrize("state", list(State), ids=str)
def test_triggers_outside_the_table_are_refused(state: State) -> None:
    allowed = set(triggers_from(state))
    for trigger in set(Trigger) - allowed:
        chart = chart_in(state)
        with pytest.raises(IllegalTransition, match=trigger.value):
            chart.fire(trigger)
        assert chart.current is state


def test_terminal_states_have_no_way_out() -> None:
    for state in TERMINAL:
        assert triggers_from(state) == []


def test_every_state_is_reachable_from_idle() -> None:
    seen, frontier = {State.IDLE}, [State.IDLE]
    while frontier:
        state = frontier.pop()
        for trigger in triggers_from(state):
            dest = dest_of(state, trigger)
            assert dest is not None
            if dest not in seen:
                seen.add(dest)
                frontier.append(dest)
    assert seen == set(State)


def test_interrupt_guard_needs_the_full_threshold() -> None:
    chart = chart_in(State.RECONNECTING)
    with pytest.raises(IllegalTransition, match="guard"):
        chart.fire(Trigger.INTERRUPT_TIMEOUT, lost_for=2.5, interrupt_after=3.0)
    assert chart.fire(Trigger.INTERRUPT_TIMEOUT, lost_for=3.0, interrupt_after=3.0)[1] is (
        State.INTERRUPTED
    )


def test_charts_are_independent() -> None:
    first, second = Chart(), Chart()
    first.fire("start")
    assert second.current is State.IDLE
    assert second.can("start") and not second.can("reconnected")


def test_reload_and_end_reach_every_live_state() -> None:
    for state in LIVE:
        assert dest_of(state, Trigger.RELOAD) is State.RESTORING
        assert dest_of(state, Trigger.END) is State.ENDED


def test_backoff_grows_linearly_to_the_cap() -> None:
    timers = Timers(backoff_increment=1.0, max_backoff=3.0)
    assert [timers.backoff(n) for n in range(6)] == [0, 1, 2, 3, 3, 3]


def test_full_jitter_stays_within_the_delay() -> None:
    timers = Timers(jitter=True)
    rng = random.Random(4)
    draws = [timers.backoff(5, rng) for _ in range(200)]
    assert all(0 <= d <= 5 for d in draws)
    assert len(set(draws)) > 100


def test_timer_specs_name_real_settings_and_triggers() -> None:
    defaults = Timers()
    for spec in TIMER_SPECS:
        assert hasattr(defaults, spec.setting)
        assert spec.armed_in <= set(State)
    assert defaults.interrupt_after == 3.0
    assert defaults.max_network_delay == 10.0
