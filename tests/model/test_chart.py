"""The statechart table: every row works, everything else is refused."""

from __future__ import annotations

import random

import pytest

from statecharts.chart import (
    INTERRUPT_ARMED_IN,
    LIVE,
    LOST,
    ROOTS,
    TERMINAL,
    TIMER_TABLE,
    TRANSITIONS,
    WORKS_AGAIN,
    Chart,
    Compound,
    State,
    Timer,
    Timers,
    Trigger,
    dest_of,
    ignored_in,
    leaves,
    parent_of,
    triggers_from,
    works_again_trigger,
)
from statecharts.errors import IllegalTransition

ROWS = [(source, row.trigger, row.dest) for row in TRANSITIONS for source in row.leaf_sources]


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
    allowed = set(triggers_from(state)) | set(ignored_in(state))
    for trigger in set(Trigger) - allowed:
        chart = chart_in(state)
        with pytest.raises(IllegalTransition, match=trigger.value):
            chart.step(trigger)
        assert chart.current is state


@pytest.mark.parametrize("state", list(State), ids=str)
def test_tolerated_no_ops_change_nothing(state: State) -> None:
    for trigger in ignored_in(state):
        chart = chart_in(state)
        assert chart.step(trigger) is None
        assert chart.current is state
        with pytest.raises(IllegalTransition):
            chart.fire(trigger)  # fire takes rows only


def test_compound_states_group_the_leaves() -> None:
    assert leaves(Compound.LIVE) == LIVE
    assert set(leaves(Compound.LOST)) == LOST == {State.RECONNECTING, State.INTERRUPTED}
    assert set(leaves(Compound.FINISHED)) == TERMINAL
    every = [leaf for root in ROOTS for leaf in leaves(root)]
    assert sorted(every) == sorted(State) and len(every) == len(State)
    assert parent_of(State.RECONNECTING) is Compound.LOST
    assert parent_of(Compound.LOST) is Compound.LIVE


def test_works_again_leads_to_ready_from_every_state_it_names() -> None:
    for state in State:
        trigger = works_again_trigger(state)
        if trigger is not None:
            assert trigger in WORKS_AGAIN
            assert dest_of(state, trigger) is State.READY
    into_ready = {t for s in State for t in Trigger if dest_of(s, t) is State.READY}
    assert into_ready == WORKS_AGAIN


def test_the_interruption_timer_runs_where_an_outage_is_not_yet_told() -> None:
    assert {State.RECONNECTING, State.RESTORING} == INTERRUPT_ARMED_IN
    assert TIMER_TABLE[Timer.INTERRUPT].fires is Trigger.INTERRUPT_TIMEOUT
    for state in INTERRUPT_ARMED_IN:
        assert dest_of(state, Trigger.INTERRUPT_TIMEOUT) is State.INTERRUPTED


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
    for timer, spec in TIMER_TABLE.items():
        assert spec.timer is timer
        assert hasattr(defaults, spec.setting)
        assert spec.armed_in <= set(State)
    assert defaults.interrupt_after == 3.0
    assert defaults.max_network_delay == 10.0
