"""The oracles bite: planted bugs are found and shrunk to short programs.

Each bug lives in a subclass of the transport core; the property machine runs
with a fixed derandomized seed and a bounded number of examples, and must
fail with the rule the bug breaks, on a shrunk program of a few steps.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from sim.hypo.machine import flow_machine
from tests.props import bugs
from transport.core import ClientCore

MAX_EXAMPLES = 150
MAX_SHRUNK_STEPS = 6
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    stateful_step_count=15,
    deadline=None,
    derandomize=True,
    database=None,
    report_multiple_bugs=False,
    # The explain phase reruns the shrunk case many times: slow, and not needed here.
    phases=(Phase.explicit, Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
)


# Each machine draws the faults and actions its bug needs, as a user would
# when testing one flow; the correct core passes the same machines.
CASES = [
    (bugs.ContinuedWithoutInterrupted, "I1", ["outage"], ["send"]),
    (bugs.ReplayDeliveredTwice, "I6", ["outage", "crash"], ["agent_say", "reload"]),
    (bugs.Error150Twice, "I3", ["outage"], ["send"]),
    (bugs.InterruptsEarly, "I2", ["outage"], ["send"]),
    (bugs.LosesMessageOnFailover, "I6", ["crash"], ["agent_say"]),
    (bugs.InvalidReplyTwice, "I4", ["corrupt"], ["send", "agent_say"]),
]


@pytest.mark.parametrize(
    ("core", "rule", "kinds", "actions"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_planted_bug_is_found_and_shrunk(
    core: type[ClientCore], rule: str, kinds: list[str], actions: list[str]
) -> None:
    machine = flow_machine(core, kinds=kinds, actions=actions, check_determinism=False)
    with pytest.raises(Exception) as caught:
        run_state_machine_as_test(machine, settings=SETTINGS)
    assert rule in str(caught.value)
    program = machine.last_program
    assert program is not None
    assert len(program.steps) <= MAX_SHRUNK_STEPS, program.show()


@pytest.mark.parametrize(
    ("kinds", "actions"),
    sorted({(tuple(c[2]), tuple(c[3])) for c in CASES}),
)
def test_the_correct_core_passes_the_same_machines(
    kinds: tuple[str, ...], actions: tuple[str, ...]
) -> None:
    machine = flow_machine(ClientCore, kinds=kinds, actions=actions)
    run_state_machine_as_test(machine, settings=settings(SETTINGS, max_examples=40))
