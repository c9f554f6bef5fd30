"""A Hypothesis state machine over the simulated world, with I1-I8 as invariants.

Rules are synchronous and move the virtual clock (Hypothesis has no async
rules). The one rule, `step`, takes a step value: `Wait(dt)` runs the world
for `dt` virtual seconds; `Inject(fault)`, `Send`, `Typing`, `ReloadPage`,
`End` and `AgentSay` act at the current time through `World.inject` /
`World.act`, the very calls a scenario file makes (an action the client
cannot take now is skipped and traced, as in a scenario). One rule with a
two-choice step, rather than a rule per action, is what lets Hypothesis
delete steps while shrinking. After every step the trace so far is judged:

- I1, I2, I3, I5, I6 (on the trace), I7: the one judge (`statecharts.judge`)
  fed record by record;
- I4 (one error 151 per corrupt frame) against the world's truth.

At teardown the world drains (no new faults or actions; outages heal) and
the same judge finishes with the world's truth (I1-I7: every accepted
transcript event delivered once, every message acknowledged once or failed,
as `chatsim run` judges); then I8 replays the recorded step program on a fresh world with the
same seed and compares the trace bytes.

Using it for your own client flow
---------------------------------
Subclass and set class attributes; expose the test case to pytest::

    class MyTransport(ClientCore):          # your transport core, sans-I/O
        ...

    class MyFlow(ChatFlowMachine):
        core_class = MyTransport            # the client under test
        config = FlowConfig(client=ClientSpec(interrupt_after=5.0))
        check_determinism = True            # I8 replay at teardown

    TestMyFlow = MyFlow.TestCase            # FLOW_SETTINGS: seconds, not minutes
    # more examples: TestMyFlow.settings = settings(FLOW_SETTINGS, max_examples=500)

`core_class` is any ClientCore subclass (its constructor takes client_id,
config, servers, rng). `flow_machine(core, kinds=[...], actions=[...])`
builds such a subclass that draws only some fault kinds and actions. Add
your own `@rule`s (call `self.do(step)`) or `@invariant`s in the subclass;
`self.world`, `self.client` and `self.steps` are there to use.
The last program run (the shrunk one, after a failure) is in
`MyFlow.last_program` with its seed in `MyFlow.last_seed`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import ClassVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from sim import timeline
from sim.faults import Fault
from sim.hypo.oracles import Broken, InvariantError, broken_of, replay_difference
from sim.hypo.program import (
    FlowConfig,
    Inject,
    Program,
    Step,
    Wait,
    absolute_fault,
)
from sim.hypo.strategies import STEP_ACTIONS, machine_steps
from sim.runner import CRASH, crash_text, drain_limit, judge_world
from sim.truth import settings_of, truth_of
from sim.world import SimClient, World
from statecharts.judge import Judge
from statecharts.trace import parse_trace
from transport.core import ClientCore

MAX_SEED = 2**16
INSTANCES = ("i1", "i2", "i3")
# A run's scenario duration: long enough that no fault is cut short by it.
HORIZON = 10_000.0
# Defaults of every ChatFlowMachine's TestCase: a planted bug is found and shrunk in
# seconds. Hypothesis's "explain" phase would replay the shrunk program many more
# times to annotate it, for minutes; our report (program, seed, broken rule) says more.
FLOW_SETTINGS = settings(
    max_examples=100,
    stateful_step_count=20,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def build_world(config: FlowConfig, seed: int, core_class: type[ClientCore] = ClientCore) -> World:
    """A world with one client that starts at t=0, no faults, no actions yet."""
    return World.build(config.scenario("property", seed, HORIZON), seed, core_class)


def fit_fault(fault: Fault, world: World) -> Fault:
    """Faults name only instances and clients this world has."""
    names = list(world.instances)
    if fault.instance is not None and fault.instance not in names:
        fault = replace(fault, instance=names[0])
    if fault.client is not None and fault.client not in world.clients:
        fault = replace(fault, client=next(iter(world.clients)))
    return fault


def apply_step(world: World, step: Step) -> None:
    """Do one step to the world at its current time."""
    if isinstance(step, Wait):
        world.advance(step.dt)
    elif isinstance(step, Inject):
        world.inject(absolute_fault(step.fault, world.now))
    else:
        action = step.action(world.now)
        if action is not None:
            world.act(action)


def replay(
    program: Program, seed: int, core_class: type[ClientCore] = ClientCore, *, drain: bool = True
) -> World:
    """Run a program's steps on a fresh world (and drain it): the I8 replay."""
    world = build_world(program.config, seed, core_class)
    for step in program.steps:
        apply_step(world, step)
    if drain:
        drain_world(world)
    return world


def drain_world(world: World) -> bool:
    world.traffic_until = min(world.traffic_until, world.now)
    return world.drain(drain_limit(world.scenario))


@FLOW_SETTINGS
class ChatFlowMachine(RuleBasedStateMachine):
    """Stateful property test of one chat client in the simulated world.

    `TestCase.settings` of this class and of every subclass start as
    `FLOW_SETTINGS`; derive your own from it: `settings(FLOW_SETTINGS, max_examples=500)`.
    """

    core_class: ClassVar[type[ClientCore]] = ClientCore
    config: ClassVar[FlowConfig] = FlowConfig()
    check_determinism: ClassVar[bool] = True
    client_id: ClassVar[str] = "c1"
    last_program: ClassVar[Program | None] = None
    last_seed: ClassVar[int | None] = None

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.TestCase.settings = FLOW_SETTINGS

    def __init__(self) -> None:
        super().__init__()
        self.world: World | None = None
        self.seed = 0
        self.flow_config = self.config
        self.steps: list[Step] = []
        self.judge: Judge | None = None
        self.failed = False

    # -- setup -------------------------------------------------------------------------
    @initialize(seed=st.integers(0, MAX_SEED))
    def start(self, seed: int) -> None:
        self.begin(seed, self.config)

    def begin(self, seed: int, config: FlowConfig) -> None:
        """Build the world for this example (an `initialize` rule calls it once)."""
        self.seed = seed
        self.flow_config = config
        self.world = build_world(config, seed, self.core_class)
        header = parse_trace([self.world.trace.header.to_json()])
        self.judge = Judge(settings_of(self.world, header))
        self._remember()

    @property
    def client(self) -> SimClient:
        assert self.world is not None
        return self.world.client(self.client_id)

    def _remember(self) -> None:
        cls = type(self)
        cls.last_program = Program(self.flow_config, tuple(self.steps))
        cls.last_seed = self.seed

    def do(self, step: Step) -> None:
        """Record a step and apply it (rules of subclasses may call this too)."""
        assert self.world is not None
        if isinstance(step, Inject):
            step = Inject(fit_fault(step.fault, self.world))
        self.steps.append(step)
        self._remember()
        world = self.world
        self._guarded(lambda: apply_step(world, step))

    def _guarded(self, action: Callable[[], object]) -> None:
        """A core that raises is reported like a broken rule: what, where, and the timeline."""
        try:
            action()
        except Exception as exc:  # a user's core may raise anything
            now = self.world.now if self.world is not None else 0.0
            self.report_broken([Broken(CRASH, f"at t={now:g}: {crash_text(exc)}", now)])

    # -- the rule ------------------------------------------------------------------------
    @rule(step=machine_steps(instances=INSTANCES))
    def step(self, step: Step) -> None:
        """Any step: wait, a fault, or an action (skipped and traced when the client cannot)."""
        self.do(step)

    # -- invariants ------------------------------------------------------------------------
    @invariant()
    def invariants_hold(self) -> None:
        if self.world is None or self.judge is None:
            return
        found = self.judge.feed_new(self.world.records)
        found += self.judge.invalid_replies_so_far(truth_of(self.world, transcripts=False))
        self.report_broken([broken_of(v) for v in found])

    def report_broken(self, broken: list[Broken]) -> None:
        """What a broken rule does: raise InvariantError with the program and the timeline.

        A hook: `sim.hypo.bench` counts failures here instead of raising."""
        if broken:
            self.failed = True
            program = Program(self.flow_config, tuple(self.steps))
            error = InvariantError(broken, program, self.seed)
            if self.world is not None:
                error.add_note("timeline:\n" + timeline.render_text(self.world.records))
            raise error

    def teardown(self) -> None:
        world = self.world
        if world is None or self.failed:
            return
        self._guarded(lambda: drain_world(world))
        assert self.judge is not None
        failures = judge_world(world, self.judge)
        if failures:
            self.report_broken([Broken(f.rule, f.describe(), world.now) for f in failures])
        if self.check_determinism:
            text = world.trace.text()
            program = Program(self.flow_config, tuple(self.steps))
            again = replay(program, self.seed, self.core_class).trace.text()
            why = replay_difference(text, again)
            if why is not None:
                self.report_broken([Broken("I8", why, world.now)])


def flow_machine(
    core_class: type[ClientCore] = ClientCore,
    *,
    kinds: Sequence[str] | None = None,
    actions: Sequence[str] = STEP_ACTIONS,
    config: FlowConfig | None = None,
    configs: st.SearchStrategy[FlowConfig] | None = None,
    check_determinism: bool = True,
    name: str | None = None,
) -> type[ChatFlowMachine]:
    """A ChatFlowMachine subclass for this core, with only these fault kinds and actions.

    `configs` (e.g. `strategies.flow_configs()`) draws the settings per example;
    otherwise every example runs under `config` (default: the documented defaults).
    """
    steps = machine_steps(kinds, actions=actions, instances=INSTANCES)

    class Stepping(ChatFlowMachine):
        @rule(step=steps)
        def step(self, step: Step) -> None:
            self.do(step)

    Flow: type[ChatFlowMachine] = Stepping
    if configs is not None:
        drawn: st.SearchStrategy[FlowConfig] = configs

        class Drawn(Stepping):
            @initialize(seed=st.integers(0, MAX_SEED), config=drawn)
            def start(self, seed: int, config: FlowConfig) -> None:
                self.begin(seed, config)

        Flow = Drawn

    Flow.core_class = core_class
    Flow.config = config if config is not None else FlowConfig()
    Flow.check_determinism = check_determinism
    Flow.__name__ = Flow.__qualname__ = name or f"{core_class.__name__}Flow"
    return Flow
