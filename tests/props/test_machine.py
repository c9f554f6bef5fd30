"""The property machine: steps as values, replay (I8), and the table of steps."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.stateful import run_state_machine_as_test

from sim.faults import Crash, Outage
from sim.hypo import strategies as cs
from sim.hypo.machine import ChatFlowMachine, flow_machine, replay
from sim.hypo.program import AgentSay, FlowConfig, Inject, Program, Send, Wait
from sim.hypo.strategies import STEP_ACTIONS

QUICK = settings(
    max_examples=15,
    stateful_step_count=10,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
)


def test_steps_shrink_to_a_wait_and_reach_every_category() -> None:
    steps = cs.machine_steps()
    assert find(steps, lambda s: True, settings=QUICK) == Wait(5.0)
    outage = find(steps, lambda s: isinstance(s, Inject), settings=QUICK)
    assert outage == Inject(Outage(duration=5.0))
    crash = find(
        steps,
        lambda s: isinstance(s, Inject) and s.fault.kind == "crash",
        settings=settings(QUICK, max_examples=500),
    )
    assert isinstance(crash, Inject) and isinstance(crash.fault, Crash)


def test_actions_can_be_restricted() -> None:
    steps = cs.machine_steps(["outage"], actions=["send"])
    sent = find(steps, lambda s: not isinstance(s, Wait | Inject), settings=QUICK)
    assert sent == Send("c1", "hi")
    assert set(STEP_ACTIONS) >= {"send", "agent_say", "typing", "reload", "end"}


def test_replay_is_byte_identical() -> None:
    program = Program(
        FlowConfig(),
        (Wait(5.0), AgentSay("hello"), Inject(Outage(duration=5.0)), Wait(5.0), Send()),
    )
    first = replay(program, 3).trace.text()
    assert first == replay(program, 3).trace.text()
    assert '"kind":"interrupted"' in first


def test_the_built_in_transport_holds_under_the_machine() -> None:
    machine = flow_machine(kinds=["outage", "corrupt"])
    run_state_machine_as_test(machine, settings=QUICK)
    assert machine.last_program is not None and machine.last_program is not (
        ChatFlowMachine.last_program
    )


def test_configurations_can_be_drawn_per_example() -> None:
    seen: set[FlowConfig] = set()
    machine = flow_machine(kinds=["outage"], configs=cs.flow_configs(), check_determinism=False)
    original = machine.teardown

    def remember(self: ChatFlowMachine) -> None:
        seen.add(self.flow_config)
        original(self)

    machine.teardown = remember  # type: ignore[method-assign]
    run_state_machine_as_test(machine, settings=QUICK)
    assert len(seen) > 1
    assert machine.last_program is not None and machine.last_program.config in seen
