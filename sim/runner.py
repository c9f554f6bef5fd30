"""Run a scenario to its end, then judge it: its `expect` items and I1-I8.

The run has two phases. Up to `duration` the scenario plays: traffic and
faults as written. Then the world drains: no new traffic, faults bounded by
the run's end are over, and the kernel runs until every live session is
ready, caught up with what the server accepted and has every message
resolved (or `drain_limit` passes). Completeness (I6) is judged after the
drain, so a message still in flight at the end is not called lost.

I1-I7 are judged by the one judge (`statecharts.judge`) on the trace and the
world's truth (`sim.truth`: what the server accepted, the frames no server
sent); I8 here: the same scenario and seed run again give the same bytes
(`twice`).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field

from sim import expect
from sim.scenario import Scenario
from sim.truth import settings_of, truth_of
from sim.world import World
from statecharts.judge import RULES, Judge, Violation
from statecharts.trace import Trace, TraceRecord, parse_trace
from transport.core import ClientCore

CRASH = "crash"  # the rule of a Failure raised by a core instead of judged

@dataclass(frozen=True)
class Failure:
    """One thing that did not hold: `rule` is `expect` or an invariant (I1..I8)."""

    rule: str
    message: str
    line: int | None = None  # scenario line (expect) or trace line (invariants)

    def describe(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{self.rule}: {where}{self.message}"


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    seed: int
    trace_text: str
    records: tuple[TraceRecord, ...]
    failures: tuple[Failure, ...]
    expectations: int
    events: int  # kernel events executed
    settled: bool
    checked: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.failures

    def verdict(self) -> str:
        if self.ok:
            held = ", ".join(self.checked)
            return f"PASS: {self.expectations} expectation(s) and {held} held"
        failed_expect = sum(1 for f in self.failures if f.rule == "expect")
        broken = sorted({f.rule for f in self.failures if f.rule not in ("expect", CRASH)})
        parts = [f"the run crashed {f.message}" for f in self.failures if f.rule == CRASH]
        if failed_expect:
            parts.append(f"{failed_expect} of {self.expectations} expectation(s) failed")
        if broken:
            parts.append(f"{', '.join(broken)} broken")
        return f"FAIL: {'; '.join(parts)}"


def drain_limit(scenario: Scenario) -> float:
    """Long enough for the slowest reconnect the scenario's clients allow."""
    worst = max(c.max_backoff + c.max_network_delay + c.interrupt_after for c in scenario.clients)
    return worst + 30.0 + 2 * scenario.network.latency


def play(
    scenario: Scenario, seed: int | None = None, core_class: type[ClientCore] = ClientCore
) -> World:
    """Build the world, play the scenario and drain it."""
    world = World.build(scenario, seed, core_class)
    world.run_until(scenario.duration)
    world.drain(drain_limit(scenario))
    return world


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    *,
    twice: bool = False,
    core_class: type[ClientCore] = ClientCore,
) -> RunResult:
    world = World.build(scenario, seed, core_class)
    crash = _play_guarded(world, scenario)
    text = world.trace.text()
    trace = parse_trace(text.splitlines(), source="<trace>")
    checked = ["I1", "I2", "I3", "I4", "I5", "I6", "I7"]
    if crash is not None:
        # The trace up to the crash is the evidence; judging a half-run world is not.
        return _result(scenario, world, text, trace, [crash], [])
    failures = [*judge_expectations(scenario, trace.records), *judge_invariants(world, trace)]
    if twice:
        again = play(scenario, seed, core_class).trace.text()
        checked.append("I8")
        if again != text:
            failures.append(Failure("I8", _first_difference(text, again)))
    return _result(scenario, world, text, trace, failures, checked)


def _result(  # noqa: PLR0917 - one private helper of run_scenario
    scenario: Scenario,
    world: World,
    text: str,
    trace: Trace,
    failures: list[Failure],
    checked: list[str],
) -> RunResult:
    crashed = any(f.rule == CRASH for f in failures)
    return RunResult(
        scenario=scenario,
        seed=world.seed,
        trace_text=text,
        records=trace.records,
        failures=tuple(failures),
        expectations=len(scenario.expect),
        events=world.kernel.executed,
        settled=not crashed and world.settled(),
        checked=tuple(checked),
    )


def _play_guarded(world: World, scenario: Scenario) -> Failure | None:
    """Play and drain; an exception from a core (or the world) is a failure, not a crash."""
    try:
        world.run_until(scenario.duration)
        world.drain(drain_limit(scenario))
    except Exception as exc:  # a user's core may raise anything; report it with the trace
        return Failure(CRASH, f"at t={world.now:g}: {crash_text(exc)}")
    return None


def crash_text(exc: BaseException) -> str:
    """`Type: message (file:line in function)`, naming the innermost frame."""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        where = f" ({last.filename}:{last.lineno} in {last.name})"
    return f"{type(exc).__name__}: {exc}{where}"


def _first_difference(a: str, b: str) -> str:
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), start=1):
        if x != y:
            return f"a second run with the same seed differs at trace line {n}: {x!r} vs {y!r}"
    return f"a second run with the same seed differs in length ({len(a)} vs {len(b)} bytes)"


# -- expectations -------------------------------------------------------------------
def judge_expectations(scenario: Scenario, records: tuple[TraceRecord, ...]) -> list[Failure]:
    out = []
    for exp in scenario.expect:
        why = expect.judge(exp, records)
        if why is not None:
            out.append(Failure("expect", f"expected {exp.describe()}: {why}", exp.line))
    return out


# -- invariants ---------------------------------------------------------------------
def judge_invariants(world: World, trace: Trace) -> list[Failure]:
    """I1-I7 by the one judge, on the trace and the world's truth."""
    verdict = Judge(settings_of(world, trace)).check(trace, truth_of(world))
    return [failure_of(v) for v in verdict.violations]


def judge_world(world: World, judge: Judge) -> list[Failure]:
    """Finish a judge that was fed the world's records as they came (the property machine).

    The same judgement as `judge_invariants`, without writing and re-reading the trace.
    """
    judge.feed_new(world.records)
    verdict = judge.finish(world.records, truth_of(world))
    return [failure_of(v) for v in verdict.violations]


def failure_of(violation: Violation) -> Failure:
    v = violation
    return Failure(v.rule, f"{v.event}: expected {v.expected} ({RULES[v.rule]})", v.line or None)
