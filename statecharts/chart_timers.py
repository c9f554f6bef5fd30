"""The statechart's timers as data: which states arm each timer, and the settings.

`statecharts.chart` re-exports every name here. `TIMER_TABLE` says which
states arm each timer, which setting gives its length and what it fires;
`Timers` holds one transport's settings (the contract's defaults).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from statecharts.chart_table import LIVE, State, Trigger


class Timer(StrEnum):
    INTERRUPT = "interrupt"
    REQUEST = "request"
    BACKOFF = "backoff"


@dataclass(frozen=True)
class TimerSpec:
    timer: Timer
    setting: str
    armed_in: frozenset[State]
    fires: Trigger | None
    note: str


TIMER_TABLE: Mapping[Timer, TimerSpec] = {
    spec.timer: spec
    for spec in (
        TimerSpec(
            Timer.INTERRUPT,
            "interrupt_after",
            frozenset({State.RECONNECTING, State.RESTORING}),
            Trigger.INTERRUPT_TIMEOUT,
            "started at the first observed failure; not restarted by retries",
        ),
        TimerSpec(
            Timer.REQUEST,
            "max_network_delay",
            frozenset(LIVE),
            Trigger.CONNECTION_LOST,
            "a request unanswered past hold + max_network_delay counts as a failure",
        ),
        TimerSpec(
            Timer.BACKOFF,
            "backoff_increment",
            frozenset({State.RECONNECTING, State.INTERRUPTED, State.RESTORING}),
            None,
            "delay before the next attempt: grows by backoff_increment up to max_backoff",
        ),
    )
}
# Where the interruption timer runs (an outage not yet told to the application).
INTERRUPT_ARMED_IN = TIMER_TABLE[Timer.INTERRUPT].armed_in
# The same specs as a tuple, for readers that iterate them.
TIMER_SPECS: tuple[TimerSpec, ...] = tuple(TIMER_TABLE.values())


@dataclass(frozen=True)
class Timers:
    """Timer settings of one transport (the contract's defaults), in seconds."""

    interrupt_after: float = 3.0
    max_network_delay: float = 10.0
    long_poll_hold: float = 30.0
    backoff_increment: float = 1.0
    max_backoff: float = 60.0
    jitter: bool = False

    def backoff(self, failures: int, rng: random.Random | None = None) -> float:
        """Delay before retry number `failures` (0 = first retry: immediate)."""
        delay = min(self.max_backoff, self.backoff_increment * max(0, failures))
        if self.jitter and rng is not None and delay > 0:
            return rng.uniform(0.0, delay)
        return delay
