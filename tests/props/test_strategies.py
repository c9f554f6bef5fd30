"""The public strategies: every fault kind, valid values, simple minimal examples."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from sim.faults import FAULT_TYPES, NEEDS_DURATION, Fault, Outage, parse_fault
from sim.hypo import strategies as cs
from sim.hypo.program import FlowConfig, Inject, Program, Wait, fault_dict, to_scenario, to_yaml
from sim.scenario import ClientSpec, ClusterSpec, NetworkSpec, parse_scenario

FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_every_fault_kind_is_generated() -> None:
    seen: set[str] = set()

    @settings(FAST, max_examples=1000)
    @given(st.one_of(cs.faults(), cs.faults(cs.SEED_KINDS)))
    def collect(fault: Fault) -> None:
        assert type(fault) is FAULT_TYPES[fault.kind]
        seen.add(fault.kind)

    collect()
    assert seen == set(FAULT_TYPES)
    assert set(cs.ALL_KINDS) | set(cs.SEED_KINDS) == set(FAULT_TYPES)


def test_the_simplest_fault_starts_now_and_is_short() -> None:
    fault = find(cs.faults(), lambda f: True, settings=FAST)
    assert fault.at == 0.0
    assert fault.duration in (None, 5.0)


def test_faults_shrink_to_the_boundary_that_matters() -> None:
    long = find(cs.faults(["outage"]), lambda f: (f.duration or 0) >= 3.0, settings=FAST)
    assert long == Outage(at=0.0, duration=5.0)
    short = find(cs.faults(["outage"]), lambda f: (f.duration or 9) < 1.0, settings=FAST)
    assert short == Outage(at=0.0, duration=0.5)


@FAST
@given(st.one_of(cs.faults(horizon=30.0), cs.faults(cs.SEED_KINDS, horizon=30.0)))
def test_generated_faults_are_valid_scenario_values(fault: Fault) -> None:
    again = parse_fault(fault_dict(fault))
    assert again == fault
    if fault.kind in NEEDS_DURATION:
        assert fault.duration is not None and 0 < fault.duration <= 10.0


@FAST
@given(cs.fault_schedules(horizon=60.0))
def test_schedules_are_sorted_and_bounded(schedule: list[Fault]) -> None:
    assert [f.at for f in schedule] == sorted(f.at for f in schedule)
    assert all(0.0 <= f.at <= 60.0 for f in schedule)
    assert len(schedule) <= 4


def test_configurations_shrink_to_the_defaults() -> None:
    assert find(cs.client_specs(), lambda c: True, settings=FAST) == ClientSpec()
    assert find(cs.cluster_specs(), lambda c: True, settings=FAST) == ClusterSpec()
    assert find(cs.network_specs(), lambda c: True, settings=FAST) == NetworkSpec()
    assert find(cs.flow_configs(), lambda c: True, settings=FAST) == FlowConfig()


def test_configurations_reach_long_polling_and_no_legacy_error() -> None:
    spec = find(
        cs.client_specs(),
        lambda c: c.transport.value == "long-polling" and not c.interruption_error,
        settings=FAST,
    )
    assert spec.interrupt_after == 3.0


def test_waits_shrink_to_telling_values() -> None:
    assert find(cs.waits(), lambda w: w.dt >= 3.0, settings=FAST) == Wait(5.0)


@FAST
@given(cs.programs(max_steps=12))
def test_programs_write_scenario_files_that_load(program: Program) -> None:
    text = to_yaml(program, seed=5)
    scenario = parse_scenario(text, source="repro.yaml")
    expected = to_scenario(program, seed=5, name="fuzz repro")
    unlined = tuple(replace(a, line=0) for a in scenario.actions)
    assert replace(scenario, actions=unlined) == expected
    names = set(program.config.cluster.names)
    for step in program.steps:
        if isinstance(step, Inject) and step.fault.instance is not None:
            assert step.fault.instance in names


def test_programs_shrink_to_the_steps_that_matter() -> None:
    program = find(
        cs.programs(max_steps=8),
        lambda p: sum(isinstance(s, Inject) and s.fault.kind == "crash" for s in p.steps) >= 1,
        settings=settings(FAST, max_examples=500),
    )
    assert len(program.steps) == 1
    assert program.config.client == ClientSpec()


@FAST
@given(st.data())
def test_fault_kinds_can_be_restricted(data: st.DataObject) -> None:
    fault = data.draw(cs.faults(["expire", "reload"]))
    assert fault.kind in ("expire", "reload")
    assert fault.duration is None


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kinds: earthquake"):
        cs.faults(["earthquake"])
