"""How strictly to judge: thresholds and time tolerance, per trace and per client."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from statecharts.errors import UsageError
from statecharts.trace import Trace

VIRTUAL_TOLERANCE = 1e-6
WALL_TOLERANCE = 0.25
DEFAULT_INTERRUPT_AFTER = 3.0


@dataclass(frozen=True)
class ClientTimers:
    interrupt_after: float
    interruption_error: bool | None  # None: inferred from the trace (a 150 seen or not)


@dataclass(frozen=True)
class Settings:
    interrupt_after: float = DEFAULT_INTERRUPT_AFTER
    tolerance: float = WALL_TOLERANCE
    interruption_error: bool | None = None
    virtual: bool = False  # virtual time: exact to the microsecond, only exact causes
    live: bool = False  # a live session's trace: it holds every fault the server injected
    cut: bool = False  # the trace stops before the session did (header `truncated`)
    # Clients whose own settings differ from the trace's (src `client:<id>` -> timers).
    clients: Mapping[str, ClientTimers] = field(default_factory=dict)

    def timers(self, src: str) -> ClientTimers:
        own = self.clients.get(src)
        if own is not None:
            return own
        return ClientTimers(self.interrupt_after, self.interruption_error)


def positive_seconds(name: str, value: float | None) -> float | None:
    """A threshold from a caller: None, or a positive finite number (else UsageError)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{name}: expected a positive finite number of seconds, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"{name}: expected a positive finite number of seconds, got {value!r}")
    return float(value)


def settings_for(
    trace: Trace, interrupt_after: float | None = None, tolerance: float | None = None
) -> Settings:
    """Settings from the caller, else the run header, else the defaults.

    The header's values were validated when the trace was read (positive,
    finite, the right types), so they are taken as they are.
    """
    interrupt_after = positive_seconds("interrupt_after", interrupt_after)
    tolerance = positive_seconds("tolerance", tolerance)
    extra = trace.header.extra if trace.header else {}
    virtual = extra.get("clock") == "virtual"
    ia = interrupt_after if interrupt_after is not None else extra.get("interrupt_after")
    tol = tolerance if tolerance is not None else extra.get("tolerance")
    if tol is None:
        tol = VIRTUAL_TOLERANCE if virtual else WALL_TOLERANCE
    legacy = extra.get("interruption_error")
    return Settings(
        float(ia if ia is not None else DEFAULT_INTERRUPT_AFTER),
        float(tol),
        legacy if isinstance(legacy, bool) else None,
        virtual,
        extra.get("clock") == "wall",
        extra.get("truncated") is True,
    )
