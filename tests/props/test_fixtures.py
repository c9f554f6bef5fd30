"""The pytest fixtures for users' own client flows."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings

from sim.faults import Fault, Outage
from sim.hypo.fixtures import FaultInjector, FlowDriver, FlowResult, VirtualClock
from sim.hypo.program import Send, Wait
from sim.hypo.strategies import fault_schedules
from sim.world import World
from tests.props import bugs

RunFlow = Callable[..., FlowResult]


def chat_flow(app: FlowDriver) -> None:
    """An application: waits for the chat, talks, rides out whatever happens, ends."""
    app.wait(1.0)
    app.send("hello")
    app.agent_say("hi, how can I help?")
    app.wait(8.0)
    app.send("still there?")
    app.wait(8.0)


def test_cluster_clock_and_injector(
    chatsim_cluster: World, virtual_clock: VirtualClock, fault_injector: FaultInjector
) -> None:
    virtual_clock.advance(1.0)
    assert chatsim_cluster.client("c1").view.state == "ready"
    applied = fault_injector(Outage(duration=5.0))
    assert applied.at == 1.0 and fault_injector.injected == [applied]
    virtual_clock.run_until(4.5)
    kinds = [r.kind for r in chatsim_cluster.records if r.src == "client:c1"]
    assert "interrupted" in kinds
    assert virtual_clock.now == 4.5


def test_a_flow_under_an_outage_holds(run_client_flow: RunFlow) -> None:
    result = run_client_flow(chat_flow, faults=[Outage(at=3.0, duration=5.0)], seed=2)
    result.assert_ok()
    assert [s.show() for s in result.steps][:2] == ["wait(1)", "send(c1, 'hello')"]
    assert '"kind":"continued"' in result.trace_text


def test_a_step_program_is_a_flow_too(run_client_flow: RunFlow) -> None:
    assert run_client_flow([Wait(1.0), Send()], seed=1).ok


def test_a_planted_bug_is_reported_with_its_timeline(run_client_flow: RunFlow) -> None:
    result = run_client_flow(
        chat_flow,
        faults=[Outage(at=3.0, duration=5.0)],
        core_class=bugs.ContinuedWithoutInterrupted,
    )
    assert not result.ok
    try:
        result.assert_ok()
    except AssertionError as exc:
        assert "I1" in str(exc) and "timeline:" in str(exc)
    else:
        raise AssertionError("assert_ok passed a broken flow")


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(faults=fault_schedules(horizon=15.0, kinds=["outage", "crash", "blackhole"]))
def test_users_fuzz_their_flow_with_generated_faults(
    run_client_flow: RunFlow, faults: list[Fault]
) -> None:
    run_client_flow(chat_flow, faults=faults, seed=5).assert_ok()
