"""pytest fixtures for testing chat client flows in the simulated world.

Re-exported by the `chatsim` pytest plugin, so they are there in any test
once chatsim is installed:

- `chatsim_cluster`: a fresh simulated world (two Chat Server instances, one
  client `c1` that starts at t=0), a `sim.world.World`;
- `virtual_clock`: the world's clock: `now`, `advance(dt)`, `run_until(t)`;
- `fault_injector`: `fault_injector(fault)` applies a `sim.faults` value,
  its `at` counted from now;
- `run_client_flow`: runs your own client flow under faults and judges it
  (I1-I8); use it with Hypothesis' `fault_schedules()` to fuzz the faults::

      @given(faults=fault_schedules(horizon=30, kinds=["outage", "crash"]))
      def test_my_flow(run_client_flow, faults):
          def flow(app):                      # the application's script
              app.wait(1); app.send("hello"); app.wait(10); app.end()
          run_client_flow(flow, faults=faults, seed=7, core_class=MyCore).assert_ok()

A flow is a callable taking a `FlowDriver` (or a list of program steps); the
client is the built-in transport core or any ClientCore subclass you pass as
`core_class` (a sans-I/O core of your own, with the same constructor).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import pytest

from sim import timeline
from sim.faults import Fault
from sim.hypo.machine import HORIZON, apply_step, drain_world
from sim.hypo.oracles import replay_difference
from sim.hypo.program import (
    AgentSay,
    End,
    FlowConfig,
    Inject,
    ReloadPage,
    Send,
    Step,
    Typing,
    Wait,
)
from sim.runner import CRASH, Failure, crash_text, judge_invariants
from sim.world import SimClient, World
from statecharts.trace import TraceRecord, parse_trace
from transport.core import ClientCore


class FlowDriver:
    """The application's hands in a flow: every call acts at the current virtual time."""

    def __init__(self, world: World, client_id: str = "c1") -> None:
        self.world = world
        self.client_id = client_id
        self.steps: list[Step] = []

    @property
    def now(self) -> float:
        return self.world.now

    @property
    def client(self) -> SimClient:
        return self.world.client(self.client_id)

    def do(self, step: Step) -> None:
        self.steps.append(step)
        apply_step(self.world, step)

    def wait(self, dt: float) -> None:
        self.do(Wait(dt))

    def send(self, text: str = "hi") -> None:
        self.do(Send(self.client_id, text))

    def typing(self) -> None:
        self.do(Typing(self.client_id))

    def reload(self) -> None:
        self.do(ReloadPage(self.client_id))

    def end(self) -> None:
        self.do(End(self.client_id))

    def agent_say(self, text: str = "hello") -> None:
        self.do(AgentSay(text))

    def inject(self, fault: Fault) -> None:
        """A fault from now (its `at` is an offset)."""
        self.do(Inject(fault))


Flow = Callable[[FlowDriver], None] | Sequence[Step]


@dataclass
class FlowResult:
    world: World
    trace_text: str
    failures: list[Failure] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def records(self) -> list[TraceRecord]:
        return self.world.records

    def timeline(self) -> str:
        return timeline.render_text(self.records)

    def assert_ok(self) -> None:
        if self.failures:
            broken = "\n".join(f"  {f.describe()}" for f in self.failures)
            raise AssertionError(
                f"the client flow broke {len(self.failures)} invariant(s) "
                f"(world seed {self.world.seed}):\n{broken}\ntimeline:\n{self.timeline()}"
            )


def play_flow(
    flow: Flow,
    faults: Sequence[Fault] = (),
    seed: int = 0,
    *,
    config: FlowConfig | None = None,
    core_class: type[ClientCore] = ClientCore,
) -> tuple[World, list[Step], Failure | None]:
    """Build the world with the fault schedule (absolute times), run the flow, drain.

    A core that raises stops the flow; the third value is that crash as a failure.
    """
    cfg = config if config is not None else FlowConfig()
    scenario = replace(cfg.scenario("client flow", seed, HORIZON), faults=tuple(faults))
    world = World.build(scenario, seed, core_class)
    driver = FlowDriver(world, cfg.client.id)
    try:
        if callable(flow):
            flow(driver)
        else:
            for step in flow:
                driver.do(step)
        drain_world(world)
    except AssertionError:
        raise  # the flow's own checks fail the test as they are
    except Exception as exc:  # a user's core may raise anything: report it with the trace
        return world, driver.steps, Failure(CRASH, f"at t={world.now:g}: {crash_text(exc)}")
    return world, driver.steps, None


def run_client_flow(
    flow: Flow,
    faults: Sequence[Fault] = (),
    seed: int = 0,
    *,
    config: FlowConfig | None = None,
    core_class: type[ClientCore] = ClientCore,
    check_determinism: bool = True,
) -> FlowResult:
    """Run a client flow under a fault schedule, drain, and judge I1-I8."""
    world, steps, crash = play_flow(flow, faults, seed, config=config, core_class=core_class)
    text = world.trace.text()
    if crash is not None:
        return FlowResult(world, text, [crash], steps)
    failures = judge_invariants(world, parse_trace(text.splitlines()))
    if check_determinism:
        again, _, _ = play_flow(flow, faults, seed, config=config, core_class=core_class)
        why = replay_difference(text, again.trace.text())
        if why is not None:
            failures.append(Failure("I8", why))
    return FlowResult(world, text, failures, steps)


@dataclass
class VirtualClock:
    """The clock of a simulated world (advancing it runs the world)."""

    world: World

    @property
    def now(self) -> float:
        return self.world.now

    def advance(self, dt: float) -> None:
        self.world.advance(dt)

    def run_until(self, t: float) -> None:
        self.world.run_until(t)


@dataclass
class FaultInjector:
    """Applies fault values to a world from its current time; remembers them."""

    world: World
    injected: list[Fault] = field(default_factory=list)

    def __call__(self, fault: Fault) -> Fault:
        applied = replace(fault, at=round(self.world.now + fault.at, 6))
        self.world.inject(applied)
        self.injected.append(applied)
        return applied


@pytest.fixture
def chatsim_cluster() -> Iterator[World]:
    """A simulated world: 2 instances, client c1 starting at t=0, 10 ms latency."""
    yield World.build(FlowConfig().scenario("chatsim_cluster", 0, HORIZON), 0)


@pytest.fixture
def virtual_clock(chatsim_cluster: World) -> VirtualClock:
    return VirtualClock(chatsim_cluster)


@pytest.fixture
def fault_injector(chatsim_cluster: World) -> FaultInjector:
    return FaultInjector(chatsim_cluster)


@pytest.fixture(name="run_client_flow", scope="session")
def run_client_flow_fixture() -> Callable[..., FlowResult]:
    """`run_client_flow(flow, faults=..., seed=..., core_class=...)` (session-scoped, so
    it mixes with Hypothesis' @given)."""
    return run_client_flow
