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

import gc
import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sim import expect
from sim.scenario import Scenario
from sim.truth import settings_of, truth_of
from sim.world import World
from statecharts.judge import RULES, Judge, Violation
from statecharts.judge.i8_replay import Replay
from statecharts.trace import RunHeader, Trace, TraceRecord, TraceWriter
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
class RunStats:
    """What a run simulated, for per-message and per-frame figures (`chatsim bench`)."""

    kernel_events: int = 0
    frames: int = 0  # wire frames delivered to a client or a server
    app_messages: int = 0  # chat messages accepted into transcripts (client and agent)

    @staticmethod
    def of(world: World) -> RunStats:
        frames = sum(c.frames_received for c in world.clients.values())
        frames += sum(i.frames_received for i in world.instances.values())
        messages = sum(1 for s in world.sessions() for e in s.transcript if e.type == "Message")
        return RunStats(world.kernel.executed, frames, messages)


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    seed: int
    records: tuple[TraceRecord, ...]
    failures: tuple[Failure, ...]
    expectations: int
    events: int  # kernel events executed
    settled: bool
    checked: tuple[str, ...] = field(default=())
    stats: RunStats = field(default=RunStats())
    header: RunHeader | None = None

    @property
    def trace_text(self) -> str:
        """The trace as JSON Lines, built when asked (a reproduction, tests)."""
        return "".join(line + "\n" for line in self.trace_lines())

    def trace_lines(self) -> Iterator[str]:
        """The trace's lines, one at a time: `--trace` writes a long run's without
        holding its whole text."""
        writer = TraceWriter(self.header or RunHeader(self.scenario.name, self.seed))
        writer.records = list(self.records)
        return writer.lines()

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
    with fewer_collections():
        world.run_until(scenario.duration)
        world.drain(drain_limit(scenario))
    return world


@contextmanager
def fewer_collections() -> Iterator[None]:
    """No cycle collection while a run plays and is judged.

    A run allocates millions of short-lived, acyclic objects (freed by reference
    counting) while its long-lived state grows, and makes next to no cyclic
    garbage (a 10-hour load: a few hundred objects, the same peak memory): the
    collector would only scan that growing state for nothing (~7% of a long run,
    even at raised thresholds). Nested uses leave it to the outermost.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_count()[0] > AGE_AT_ONCE:
                # Everything a long run made is young: the first collection would scan
                # it all (a third of a second after the 10-hour load). Age it at once
                # instead (freeze/unfreeze move objects to the oldest generation,
                # scanning none); small runs leave it to the collector as usual.
                gc.freeze()
                gc.unfreeze()
            gc.enable()


# Objects a run leaves young (made minus freed) beyond which they are aged at once:
# the 10-hour load leaves ~650,000, an example scenario ~1,000 to ~11,000.
AGE_AT_ONCE = 200_000


# A second run for I8 costs as much as the first: by default it is made only
# when the first run was small (most scenarios are); `chatsim run
# --replay-check` and the test suite always make it.
REPLAY_BUDGET = 100_000  # kernel events of the first run
REPLAY_ENV = "CHATSIM_REPLAY_CHECK"  # "1": always (the test suite sets it)


def run_scenario(
    scenario: Scenario,
    seed: int | None = None,
    *,
    twice: bool | None = False,
    core_class: type[ClientCore] = ClientCore,
) -> RunResult:
    """Play and judge a scenario; `twice`: replay it for I8 (None: when it is cheap)."""
    # Judging allocates like playing, over the heap the run left: no collections
    # for either.
    with fewer_collections():
        world = World.build(scenario, seed, core_class)
        crash = _play_guarded(world, scenario)
        records = tuple(world.records)
        header = world.trace.header
        trace = Trace(header, records)
        checked = ["I1", "I2", "I3", "I4", "I5", "I6", "I7"]
        if crash is not None:
            # The trace up to the crash is the evidence; judging a half-run world is not.
            failures, checked, settled = [crash], [], False
        else:
            failures = [*judge_expectations(scenario, records), *judge_invariants(world, trace)]
            settled = world.settled()
        world_seed, events = world.seed, world.kernel.executed
        stats = RunStats.of(world)
    del world, trace  # a replay builds a world of its own: not two at once
    if twice is None:
        twice = events <= REPLAY_BUDGET or os.environ.get(REPLAY_ENV) == "1"
    if twice and crash is None:
        checked.append("I8")
        if events > REPLAY_BUDGET:  # a big first world is a web of cycles: free it first
            gc.collect()
        why = replay_differs(scenario, world_seed, core_class, records)
        if why is not None:
            failures.append(Failure("I8", why))
    return RunResult(
        scenario=scenario,
        seed=world_seed,
        records=records,
        failures=tuple(failures),
        expectations=len(scenario.expect),
        events=events,
        settled=settled,
        checked=tuple(checked),
        stats=stats,
        header=header,
    )


def _play_guarded(world: World, scenario: Scenario) -> Failure | None:
    """Play and drain; an exception from a core (or the world) is a failure, not a crash."""
    try:
        with fewer_collections():
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


def replay_differs(
    scenario: Scenario,
    seed: int,
    core_class: type[ClientCore],
    records: tuple[TraceRecord, ...],
) -> str | None:
    """Run again with the same seed, comparing each record as it is made (none kept)."""
    again = World.build(scenario, seed, core_class)
    replay = Replay(records, first_line=2)  # line 1: the header
    again.trace.follow(replay)
    with fewer_collections():
        again.run_until(scenario.duration)
        again.drain(drain_limit(scenario))
    parted = replay.parting()
    if parted is None:
        return None
    return (
        f"a second run with the same seed differs at trace line {parted.line}:"
        f" {_show(parted.first)} vs {_show(parted.again)}"
    )


def _show(rec: TraceRecord | None) -> str:
    return "nothing" if rec is None else repr(rec.to_json())


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
