"""Hypothesis strategies for faults: values, single faults, templates and schedules.

Split out of `sim.hypo.strategies` (which re-exports every name here) so
that the fault-drawing half, with its ordered tables of telling values,
reads on its own. Everything shrinks towards the simplest value: times on a
tenth-of-a-second grid, probabilities to 0.0, a 5 s outage first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from sim.faults import (
    BEHAVIOUR_KINDS,
    FAULT_TYPES,
    Blackhole,
    CommandError,
    Corrupt,
    CorruptMode,
    Crash,
    Direction,
    Duplicate,
    Expire,
    ExpireCredential,
    Fault,
    Latency,
    Loss,
    NoReply,
    NotReady,
    Outage,
    RateLimit,
    Redirect,
    Reject,
    Reload,
    Reorder,
    ResetCursor,
    SessionEnd,
    Slow,
)

# The other seeds' behaviours are drawn only when asked for (`faults(BEHAVIOUR_KINDS)`),
# so a default campaign keeps its weight on losses.
ALL_KINDS: tuple[str, ...] = tuple(k for k in FAULT_TYPES if k not in BEHAVIOUR_KINDS)
SEED_KINDS: tuple[str, ...] = tuple(sorted(BEHAVIOUR_KINDS))
LOSS_KINDS = ("outage", "crash", "blackhole")
# Server error codes a `command_error` fault may force (docs/REFERENCE.md, "Error codes").
SERVER_CODES = (52, 1, 2, 3, 50, 51, 100, 101)
DEFAULT_INSTANCES = ("i1", "i2")
DEFAULT_CLIENTS = ("c1",)


def tenths(low: float, high: float) -> st.SearchStrategy[float]:
    """Decimal seconds on a 0.1 grid in [low, high], shrinking to `low`."""
    lo, hi = round(low * 10), round(high * 10)
    if lo == hi:
        # A one-value integer range still leaves a choice behind, and such
        # choices stop Hypothesis from deleting stateful steps while shrinking.
        return st.just(lo / 10)
    return st.integers(lo, hi).map(lambda n: n / 10)


def probabilities(high: float = 0.5) -> st.SearchStrategy[float]:
    """Probabilities in steps of 0.05, shrinking to 0."""
    return st.integers(0, round(high * 20)).map(lambda n: n / 20)


# Durations that tell a story about a 3 s interruption threshold, simplest first:
# a shrunk failure says "a 5 s outage" rather than "eight outages of 0.1 s".
TELLING_SECONDS = (5.0, 1.0, 3.0, 0.5, 10.0, 2.0)


def seconds(low: float, high: float) -> st.SearchStrategy[float]:
    """Telling values first (shrink target 5 s), then any tenth in [low, high]."""
    values = seconds_table(low, high)
    # One integer draw over an ordered table rather than a one_of (see `optional`).
    return st.integers(0, len(values) - 1).map(values.__getitem__)


def durations(high: float = 10.0) -> st.SearchStrategy[float]:
    return seconds(0.1, high)


def directions() -> st.SearchStrategy[Direction]:
    return st.sampled_from([Direction.BOTH, Direction.DOWN, Direction.UP])


def _common(
    instances: Sequence[str], clients: Sequence[str], horizon: float
) -> dict[str, st.SearchStrategy[Any]]:
    """Fields every fault takes: at (relative), direction, optional client/instance."""
    return {
        "at": tenths(0.0, horizon),
        "direction": directions(),
        "client": optional(clients),
        "instance": optional(instances),
    }


def optional(values: Sequence[str]) -> st.SearchStrategy[str | None]:
    """None first, then one of `values`.

    An index into a table, never a `one_of`: a `one_of` drawn after another
    value in a rule's arguments stops Hypothesis from deleting stateful steps
    while shrinking (seen with Hypothesis 6.170), so these strategies avoid it.
    """
    table: list[str | None] = [None, *values]
    if len(table) == 1:
        return st.none()
    return st.integers(0, len(table) - 1).map(table.__getitem__)


def _kind_fields(
    instances: Sequence[str], max_duration: float
) -> dict[str, dict[str, st.SearchStrategy[Any]]]:
    """Per kind, the strategies of its own fields (beyond the common ones)."""
    # Every lasting fault gets a duration, so that runs heal and a fault reads
    # the same in a program and in its scenario file.
    need = durations(max_duration)
    some = need
    return {
        Outage.kind: {"duration": need},
        Blackhole.kind: {"duration": need},
        Latency.kind: {
            "duration": some,
            "ms": st.integers(0, 2000).map(float),
            "jitter": st.integers(0, 500).map(float),
        },
        Loss.kind: {"duration": need, "p": probabilities(1.0)},
        Duplicate.kind: {"duration": some, "p": probabilities(1.0)},
        Reorder.kind: {"duration": some, "p": probabilities(1.0)},
        Corrupt.kind: {
            "duration": some,
            "count": st.integers(1, 3),
            "mode": st.sampled_from(list(CorruptMode)),
            "direction": st.sampled_from([Direction.DOWN, Direction.BOTH, Direction.UP]),
        },
        Crash.kind: {
            "duration": need,
            "instance": st.sampled_from(list(instances)) if instances else st.none(),
        },
        Expire.kind: {"duration": st.none()},
        Reload.kind: {"duration": st.none()},
        NotReady.kind: {"duration": need},
        CommandError.kind: {
            "duration": st.none(),
            "code": st.sampled_from(SERVER_CODES),
            "count": st.integers(1, 3),
        },
        Slow.kind: {"duration": some, "ms": st.integers(0, 3000).map(float)},
        RateLimit.kind: {
            "duration": st.none(),
            "count": st.integers(1, 3),
            "retry_after": st.integers(0, 5).map(float),
        },
        ExpireCredential.kind: {"duration": st.none(), "count": st.integers(1, 3)},
        Redirect.kind: {"duration": need, "to": st.sampled_from(list(instances) or ["i1"])},
        NoReply.kind: {"duration": st.none(), "count": st.integers(1, 3)},
        ResetCursor.kind: {"duration": st.none(), "count": st.integers(1, 3)},
        SessionEnd.kind: {
            "duration": st.none(),
            "code": st.sampled_from(SERVER_CODES),
            "count": st.integers(1, 2),
        },
        # A row of the default (genesys) dialect: its rows are its codes.
        Reject.kind: {
            "duration": st.none(),
            "row": st.sampled_from([str(c) for c in SERVER_CODES]),
            "count": st.integers(1, 3),
        },
    }


def faults(
    kinds: Sequence[str] | None = None,
    *,
    instances: Sequence[str] = DEFAULT_INSTANCES,
    clients: Sequence[str] = DEFAULT_CLIENTS,
    horizon: float = 0.0,
    max_duration: float = 10.0,
) -> st.SearchStrategy[Fault]:
    """One fault of the given kinds (default: every fault kind, outage first).

    `at` lies in [0, horizon]: an offset from injection for programs, an
    absolute time for schedules. Faults that need a duration always get one
    (at most `max_duration`), so every run heals.
    """
    chosen = list(kinds) if kinds is not None else list(ALL_KINDS)
    unknown = [k for k in chosen if k not in FAULT_TYPES]
    if unknown:
        raise ValueError(f"unknown fault kinds: {', '.join(unknown)}")
    # Lost connections drive most of the statechart: draw them more often.
    weighted = chosen + [k for k in LOSS_KINDS if k in chosen] * 2
    common = _common(instances, clients, horizon)
    own = _kind_fields(instances, max_duration)
    builders = {kind: st.builds(FAULT_TYPES[kind], **{**common, **own[kind]}) for kind in chosen}
    # Kind first, then its fields: every kind equally likely (a plain one_of
    # favours kinds with many fields) and shrinking goes to the first kind.
    return st.sampled_from(weighted).flatmap(builders.__getitem__)


def fault_templates(
    kinds: Sequence[str] | None = None, instances: Sequence[str] = DEFAULT_INSTANCES
) -> list[Fault]:
    """A few telling variants of each fault kind, the first of each kind first."""
    both, down, up = Direction.BOTH, Direction.DOWN, Direction.UP
    variants: dict[str, list[Fault]] = {
        Outage.kind: [Outage(), *(Outage(instance=i) for i in instances)],
        Blackhole.kind: [Blackhole(), Blackhole(direction=down), Blackhole(direction=up)],
        Latency.kind: [Latency(ms=500.0), Latency(ms=2000.0, jitter=500.0), Latency(ms=100.0)],
        Loss.kind: [Loss(p=1.0), Loss(p=0.5), Loss(p=0.5, direction=down)],
        Duplicate.kind: [Duplicate(p=1.0), Duplicate(p=0.5, direction=down)],
        Reorder.kind: [Reorder(p=0.5), Reorder(p=1.0, direction=down)],
        Corrupt.kind: [
            *(Corrupt(mode=m) for m in CorruptMode),
            Corrupt(count=3),
            Corrupt(direction=both),
        ],
        Crash.kind: [*(Crash(instance=i) for i in instances), Crash()],
        Expire.kind: [Expire()],
        Reload.kind: [Reload()],
        NotReady.kind: [NotReady()],
        CommandError.kind: [CommandError(code=c) for c in SERVER_CODES],
        Slow.kind: [Slow(ms=500.0), Slow(ms=3000.0)],
        RateLimit.kind: [RateLimit(retry_after=2.0), RateLimit(count=3, retry_after=0.5)],
        ExpireCredential.kind: [ExpireCredential()],
        Redirect.kind: [Redirect(to=i, duration=5.0) for i in reversed(instances or ["i1"])],
        NoReply.kind: [NoReply()],
        ResetCursor.kind: [ResetCursor()],
        SessionEnd.kind: [SessionEnd(), SessionEnd(code=100)],
        Reject.kind: [Reject(row=str(c)) for c in SERVER_CODES],
    }
    chosen = list(kinds) if kinds is not None else list(ALL_KINDS)
    unknown = [k for k in chosen if k not in FAULT_TYPES]
    if unknown:
        raise ValueError(f"unknown fault kinds: {', '.join(unknown)}")
    firsts = [variants[k][0] for k in chosen]
    rest = [f for k in chosen for f in variants[k][1:]]
    return firsts + rest


# Kinds that take no duration: instantaneous, or spent by a count.
UNTIMED = frozenset({Expire.kind, Reload.kind, CommandError.kind, Corrupt.kind})


def rule_faults(
    kinds: Sequence[str] | None = None,
    *,
    instances: Sequence[str] = DEFAULT_INSTANCES,
    max_duration: float = 10.0,
) -> st.SearchStrategy[Fault]:
    """Faults for stateful rules: a template and a duration, two choices in all.

    Hypothesis (6.170) does not delete stateful steps that take more than a
    few choices while shrinking, so rules draw faults from `fault_templates`
    (shrinking to a 5 s outage) rather than from the free-form `faults()`.
    """
    templates = fault_templates(kinds, instances)
    table = seconds_table(0.1, max_duration)

    def build(pair: tuple[int, int]) -> Fault:
        template = templates[pair[0]]
        if template.kind in UNTIMED:
            return template
        return replace(template, duration=table[pair[1]])

    return st.tuples(st.integers(0, len(templates) - 1), st.integers(0, len(table) - 1)).map(build)


def seconds_table(low: float, high: float) -> list[float]:
    telling = [s for s in TELLING_SECONDS if low <= s <= high]
    lo, hi = round(low * 10), round(high * 10)
    return telling + [n / 10 for n in range(lo, hi + 1) if n / 10 not in telling]


def fault_table(templates: list[Fault], max_seconds: float) -> list[Fault]:
    """Every template with every duration, ordered duration-major (5 s first)."""
    untimed = [t for t in templates if t.kind in UNTIMED]
    timed = [t for t in templates if t.kind not in UNTIMED]
    out: list[Fault] = []
    for duration in seconds_table(0.1, max_seconds):
        out += [replace(t, duration=duration) for t in timed]
        if untimed:  # after the first row, so that a 5 s outage comes first
            out += untimed
            untimed = []
    return out + untimed


def fault_schedules(
    horizon: float = 60.0,
    *,
    kinds: Sequence[str] | None = None,
    max_faults: int = 4,
    instances: Sequence[str] = DEFAULT_INSTANCES,
    clients: Sequence[str] = DEFAULT_CLIENTS,
) -> st.SearchStrategy[list[Fault]]:
    """A scenario's fault list: absolute times in [0, horizon], sorted by `at`."""
    one = faults(kinds, instances=instances, clients=clients, horizon=horizon)
    return st.lists(one, max_size=max_faults).map(lambda fs: sorted(fs, key=lambda f: f.at))
