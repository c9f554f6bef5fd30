"""What a server may tell the client, checked: numbers, advice, nesting.

The small checks `transport.replies` builds its typed replies from; none
raises on bad input (a wrong value is `Invalid(reason)`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from statecharts.values import quick_init_all
from transport.wire import Reconnect

MS = 1000.0
# Bounds on what a server may tell us: beyond them a value is hostile, not advice.
MAX_ADVICE_MS = 86_400_000  # a day
MAX_RETRY_AFTER = 86_400.0  # a day, in seconds
MAX_DEPTH = 32  # nesting of a frame's JSON (ours is at most 5 deep)
RECONNECT_VALUES = frozenset(r.value for r in Reconnect)


@dataclass(frozen=True)
class Invalid:
    reason: str


@dataclass(frozen=True)
class AdviceUpdate:
    """What a reply's `advice` changes (None: not given)."""

    reconnect: Reconnect | None = None
    interval: float | None = None  # seconds
    hold: float | None = None  # seconds (advice.timeout)


# A server repeats the same advice on every connect reply: parsed once. Keyed by the
# exact types too (True == 1 as keys), only str/int/None values, valid advice, bounded.
_ADVICE_CACHE: dict[tuple[object, ...], AdviceUpdate] = {}
_ADVICE_CACHE_MAX = 64
_KEY_TYPES = (str, int, type(None))


class _LastAdvice:
    """The values of the advice cached last (the same objects are the same advice:
    str, int or None, immutable) and what they parse to."""

    __slots__ = ("interval", "parsed", "reconnect", "timeout")

    def __init__(self) -> None:
        unset = object()  # matches no value a frame holds
        self.reconnect: object = unset
        self.interval: object = unset
        self.timeout: object = unset
        self.parsed: AdviceUpdate | None = None


_LAST = _LastAdvice()


def parse_advice(advice: object) -> AdviceUpdate | Invalid | None:
    if advice is None:
        return None
    if not isinstance(advice, dict):
        return Invalid("'advice' is not an object")
    reconnect = advice.get("reconnect")
    interval = advice.get("interval")
    timeout = advice.get("timeout")
    last = _LAST
    if reconnect is last.reconnect and interval is last.interval and timeout is last.timeout:
        return last.parsed  # the very values of the last cached advice: no key to build
    if (
        type(reconnect) in _KEY_TYPES
        and type(interval) in _KEY_TYPES
        and type(timeout) in _KEY_TYPES
    ):
        key = (reconnect, interval, timeout, type(reconnect), type(interval), type(timeout))
        known = _ADVICE_CACHE.get(key)
        if known is None:
            parsed = _parse_advice(reconnect, interval, timeout)
            if isinstance(parsed, Invalid) or len(_ADVICE_CACHE) >= _ADVICE_CACHE_MAX:
                return parsed
            known = _ADVICE_CACHE[key] = parsed
        last.reconnect, last.interval, last.timeout, last.parsed = (
            reconnect,
            interval,
            timeout,
            known,
        )
        return known
    return _parse_advice(reconnect, interval, timeout)


def _parse_advice(reconnect: object, interval: object, timeout: object) -> AdviceUpdate | Invalid:
    if reconnect is not None and (
        not isinstance(reconnect, str) or reconnect not in RECONNECT_VALUES
    ):
        return Invalid("advice.reconnect is not retry, handshake or none")
    times: list[float | None] = []
    for key, value in (("interval", interval), ("timeout", timeout)):
        if value is None:
            times.append(None)
        elif is_number(value) and 0 <= value <= MAX_ADVICE_MS:
            times.append(value / MS)
        else:
            return Invalid(f"advice.{key} is not a number of ms in [0, {MAX_ADVICE_MS}]")
    return AdviceUpdate(Reconnect(reconnect) if reconnect is not None else None, times[0], times[1])


def retry_after(data: Mapping[str, Any]) -> float | Invalid | None:
    """`data.retryAfter` of a 'not ready' error, in seconds (None: not given)."""
    value = data.get("retryAfter")
    if value is None:
        return None
    if is_number(value) and 0 <= value <= MAX_RETRY_AFTER:
        return float(value)
    if is_number(value) and value < 0:
        return None  # a negative wait means "no advice"
    return Invalid(f"retryAfter is not a number of seconds in [0, {MAX_RETRY_AFTER:g}]")


# -- values ----------------------------------------------------------------------
def shallow(value: object) -> bool:
    """True if `value` nests at most MAX_DEPTH containers deep (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def is_int(value: object) -> TypeGuard[int]:
    return type(value) is int or (isinstance(value, int) and not isinstance(value, bool))


def is_code(value: object) -> TypeGuard[int]:
    return is_int(value) and 0 <= value < 1_000_000


def is_number(value: object) -> TypeGuard[int | float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and (isinstance(value, int) or math.isfinite(value))
    )


# Pure Python only (a compiled build's classes are built natively already).
quick_init_all(Invalid, AdviceUpdate)
