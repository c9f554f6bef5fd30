"""Run a scenario to its end, then judge it: its `expect` items and I1-I8.

The run has two phases. Up to `duration` the scenario plays: traffic and
faults as written. Then the world drains: no new traffic, faults bounded by
the run's end are over, and the kernel runs until every live session is
ready, caught up with what the server accepted and has every message
resolved (or `drain_limit` passes). Completeness (I6) is judged after the
drain, so a message still in flight at the end is not called lost.

What is judged where:
- I1, I2, I3, I5, I6 (inbound order), I7: `statecharts.checker` on the trace;
- I4: each frame a client got that no server sent gives one error 151 at
  that moment, and the session goes on (no `failed` because of it);
- I6 (against the server's truth): the application saw exactly the
  transcript the server accepted for its chat, in order, and every client
  message was acknowledged once (at the index the server gave it) or
  reported failed;
- I8: the same scenario and seed run again give the same bytes (`twice`).
"""

from __future__ import annotations

import gc
import os
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property

from sim import expect
from sim.scenario import Scenario
from sim.world import SimClient, World
from statecharts.catalog import ErrorCode
from statecharts.checker import RULES, Violation, check_trace
from statecharts.trace import RunHeader, Trace, TraceRecord, TraceWriter
from transport.core import ClientCore

TIME_TOLERANCE = 1e-6


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

    @cached_property
    def trace_text(self) -> str:
        """The trace as JSON Lines, built when asked (`--trace`, a reproduction)."""
        writer = TraceWriter(self.header or RunHeader(self.scenario.name, self.seed))
        writer.records = list(self.records)
        return writer.text()

    @property
    def ok(self) -> bool:
        return not self.failures

    def verdict(self) -> str:
        if self.ok:
            held = ", ".join(self.checked)
            return f"PASS: {self.expectations} expectation(s) and {held} held"
        failed_expect = sum(1 for f in self.failures if f.rule == "expect")
        broken = sorted({f.rule for f in self.failures if f.rule != "expect"})
        parts = []
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
    """Collect cycles rarely while a run plays.

    A run allocates millions of short-lived, acyclic objects (freed by reference
    counting) while its long-lived state grows: at the default thresholds the
    collector keeps scanning that state for nothing (~9% of a long run).
    """
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


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
    world = play(scenario, seed, core_class)
    records = tuple(world.records)
    header = world.trace.header
    trace = Trace(header, records)
    failures = [*judge_expectations(scenario, records), *judge_invariants(world, trace)]
    checked = ["I1", "I2", "I3", "I4", "I5", "I6", "I7"]
    world_seed, events, settled = world.seed, world.kernel.executed, world.settled()
    stats = RunStats.of(world)
    del world, trace  # a replay builds a world of its own: not two at once
    if twice is None:
        twice = events <= REPLAY_BUDGET or os.environ.get(REPLAY_ENV) == "1"
    if twice:
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


def replay_differs(
    scenario: Scenario,
    seed: int,
    core_class: type[ClientCore],
    records: tuple[TraceRecord, ...],
) -> str | None:
    """Run again with the same seed, comparing each record as it is made (none kept)."""
    again = World.build(scenario, seed, core_class)
    writer = again.trace
    writer.follow(records)
    with fewer_collections():
        again.run_until(scenario.duration)
        again.drain(drain_limit(scenario))
    writer.finish_follow()
    if writer.divergence is None:
        return None
    line, first, second = writer.divergence
    return (
        f"a second run with the same seed differs at trace line {line}:"
        f" {_show(first)} vs {_show(second)}"
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
    failures = [
        Failure(v.rule, f"{v.event}: expected {v.expected} ({RULES[v.rule]})", v.line or None)
        for v in _check_per_settings(world, trace)
    ]
    outages = [r for r in trace.records if r.kind == "fault.start" and _is_outage(r)]
    by_src: dict[str, list[TraceRecord]] = {}  # grouped once: linear in clients
    for rec in trace.records:
        by_src.setdefault(rec.src, []).append(rec)
    settled = world.settled()
    for client in world.clients.values():
        mine = by_src.get(client.src, [])
        failures += _judge_i2_outages(client, mine, outages)
        failures += _judge_i4(client, mine)
        failures += _judge_i6(world, client, mine, settled)
    return failures


def _is_outage(rec: TraceRecord) -> bool:
    fault = rec.data.get("fault")
    return isinstance(fault, dict) and fault.get("kind") == "outage" and "instance" not in fault


def _judge_i2_outages(
    client: SimClient, mine: list[TraceRecord], outages: list[TraceRecord]
) -> list[Failure]:
    """I2 against the network's truth: an outage cuts a ready client at once.

    The checker times `interrupted` from the loss the client itself reports;
    a client that noticed the cut late would pass it. Here the loss start is
    the outage's own start, when the client was ready then.
    """
    threshold = client.spec.interrupt_after
    out: list[Failure] = []
    if not outages:
        return out
    states = _States(mine)
    interrupted = [r for r in mine if r.kind == "interrupted"]
    for fault_rec in outages:
        fault = fault_rec.data["fault"]
        if fault.get("client") not in (None, client.id):
            continue
        start, duration = fault_rec.t, float(fault.get("duration") or 0.0)
        if duration < threshold or states.before(start) != "ready":
            continue
        due = start + threshold
        if states.before(due) in ("ended", "failed"):
            continue  # the session finished first: nothing to interrupt
        told = [r for r in interrupted if start <= r.t <= due + TIME_TOLERANCE]
        if not any(abs(r.t - due) <= TIME_TOLERANCE for r in told):
            when = ", ".join(f"{r.t:g}" for r in told) or "none by then"
            out.append(
                Failure(
                    "I2",
                    f"{client.src}: the outage from t={start:g} cut the ready connection, "
                    f"so interrupted was due at t={due:g} (seen: {when})",
                    fault_rec.line or None,
                )
            )
    return out


class _States:
    """A client's state changes, looked up by time with a bisection (records are in time order)."""

    def __init__(self, mine: list[TraceRecord]) -> None:
        changes = [r for r in mine if r.kind == "state"]
        self.times = [r.t for r in changes]
        self.states = [str(r.data["to"]) for r in changes]

    def before(self, t: float) -> str:
        """The state just before `t` (changes within the time tolerance of `t` excluded)."""
        n = bisect_left(self.times, t - TIME_TOLERANCE)
        return self.states[n - 1] if n else "idle"


def _check_per_settings(world: World, trace: Trace) -> list[Violation]:
    """The checker, once per group of clients sharing timer settings.

    The trace header carries one client's settings; clients with other ones
    are judged on their own records under a header of their own.
    """
    groups: dict[tuple[float, bool], set[str]] = {}
    for client in world.clients.values():
        key = (client.spec.interrupt_after, client.spec.interruption_error)
        groups.setdefault(key, set()).add(client.src)
    if len(groups) == 1 or trace.header is None:
        return check_trace(trace)
    out: list[Violation] = []
    for (interrupt_after, legacy), members in groups.items():
        extra = {**trace.header.extra, "interrupt_after": interrupt_after}
        extra["interruption_error"] = legacy
        header = replace(trace.header, extra=extra)
        records = tuple(r for r in trace.records if r.client is None or r.src in members)
        out += check_trace(Trace(header, records, trace.source))
    return sorted(out, key=lambda v: v.line)


def _judge_i4(client: SimClient, mine: list[TraceRecord]) -> list[Failure]:
    """Each corrupt frame the client received gives one error 151; the session goes on."""
    errors = [
        r for r in mine if r.kind == "error" and r.data.get("code") == ErrorCode.INVALID_RESPONSE
    ]
    got = Counter(round(r.t, 6) for r in errors)
    want = Counter(round(t, 6) for t in client.view.foreign_frames)
    out = []
    for t in sorted(set(got) | set(want)):
        if got[t] != want[t]:
            out.append(
                Failure(
                    "I4",
                    f"{client.src} at t={t:g}: {want[t]} corrupt frame(s) received, "
                    f"{got[t]} error 151 reported",
                )
            )
    failed_at = {round(r.t, 6) for r in mine if r.kind == "state" and r.data.get("to") == "failed"}
    for t in sorted(failed_at & set(want)):
        out.append(Failure("I4", f"{client.src} failed at t={t:g} on a corrupt frame"))
    return out


def _judge_i6(
    world: World, client: SimClient, mine: list[TraceRecord], settled: bool
) -> list[Failure]:
    view = client.view
    out: list[Failure] = []
    src = client.src
    if view.chat_id is not None:
        accepted = [e.index for e in world.accepted(view.chat_id)]
        delivered = view.delivered
        unknown = sorted(set(delivered) - set(accepted))
        if unknown:
            out.append(Failure("I6", f"{src} saw indexes {_short(unknown)} the server never had"))
        dupes = sorted(i for i, n in Counter(delivered).items() if n > 1)
        if dupes:
            out.append(
                Failure("I6", f"{src} saw transcript indexes {_short(dupes)} more than once")
            )
        missing = sorted(set(accepted) - set(delivered))
        if missing and view.state == "ready" and settled:
            out.append(
                Failure(
                    "I6", f"{src} never saw transcript indexes {_short(missing)} of {view.chat_id}"
                )
            )
        out += _judge_acks(world, client)
    for msg_id in view.unresolved():
        if view.state == "ready" or not view.alive:
            out.append(Failure("I6", f"{src} message {msg_id} was neither acknowledged nor failed"))
    if view.alive and view.ever_ready and not settled:
        out.append(
            Failure(
                "I6",
                f"{src} did not settle after the run (state {view.state}, "
                f"{len(view.unresolved())} message(s) unresolved)",
            )
        )
    return out


def _judge_acks(world: World, client: SimClient) -> list[Failure]:
    view = client.view
    assert view.chat_id is not None
    by_id: dict[str, int] = {}
    out = []
    for event in world.accepted(view.chat_id):
        if event.client_message_id is None:
            continue
        if event.client_message_id in by_id:
            out.append(
                Failure("I6", f"message {event.client_message_id} is twice in the transcript")
            )
        by_id[event.client_message_id] = event.index
    for msg_id, indexes in view.acked.items():
        if msg_id in view.failed:
            out.append(Failure("I6", f"{client.src} message {msg_id} both acknowledged and failed"))
        if len(indexes) > 1:
            out.append(
                Failure("I6", f"{client.src} message {msg_id} acknowledged {len(indexes)} times")
            )
        if by_id.get(msg_id) != indexes[0]:
            out.append(
                Failure(
                    "I6",
                    f"{client.src} message {msg_id} acknowledged at index {indexes[0]}, "
                    f"the server has it at {by_id.get(msg_id)}",
                )
            )
    return out


def _short(xs: list[int], limit: int = 8) -> str:
    text = ", ".join(str(x) for x in xs[:limit])
    return text + (", ..." if len(xs) > limit else "")
