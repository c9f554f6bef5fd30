"""The recovery policy: pure functions over an outage's bookkeeping (no clock, no I/O).

An outage starts at the first observed failure and ends when the session works
again (`statecharts.chart.WORKS_AGAIN`). Inside it: retries back off
(`Timers.backoff`), `failover_after` failed *attempts* on one instance (a
connection opened that never worked) move to the next instance, and the
application is told `interrupted` once the outage lasted `interrupt_after`
in a state that arms the interruption timer (`INTERRUPT_ARMED_IN`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from statecharts.chart import INTERRUPT_ARMED_IN, State
from statecharts.values import quick_init_all


@dataclass(frozen=True)
class Outage:
    since: float | None = None  # the first failure of the outage going on
    told: bool = False  # the application heard `interrupted`
    failures: int = 0  # failures since the session last worked
    instance_failures: int = 0  # failed attempts on the current instance


NO_OUTAGE = Outage()


@dataclass(frozen=True)
class AfterFailure:
    outage: Outage
    starts: bool  # this failure starts the outage (a `loss` event)
    failover: bool  # move to the next instance now (and retry at once)


def after_failure(
    outage: Outage, now: float, *, attempting: bool, failover_after: int, instances: int
) -> AfterFailure:
    """Count one failure: `attempting` says the connection it ended never worked."""
    starts = outage.since is None
    on_instance = outage.instance_failures + (1 if attempting else 0)
    failover = on_instance >= failover_after and instances > 1
    counted = Outage(
        now if starts else outage.since,
        outage.told,
        outage.failures + 1,
        0 if failover else on_instance,
    )
    return AfterFailure(counted, starts, failover)


def worked(outage: Outage) -> Outage:
    """A connection worked (handshake or connect reply): attempts on this instance reset."""
    return replace(outage, instance_failures=0) if outage.instance_failures else outage


def interrupt_deadline(outage: Outage, state: State, interrupt_after: float) -> float | None:
    """When the application is to hear `interrupted` (None: not armed)."""
    if outage.since is None or outage.told or state not in INTERRUPT_ARMED_IN:
        return None
    return outage.since + interrupt_after


# Pure Python only (a compiled build's classes are built natively already).
quick_init_all(Outage, AfterFailure)
