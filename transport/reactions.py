"""What the client does about a refused chat command, where the seeds agree.

A pure decision on the refusal's canonical code and `data` (a dialect's
native `data` is merged into it by `statecharts.dialects`):

- `WaitThenRetry(seconds)`: 100 with `retryAfter` (a rate limit, 429 +
  Retry-After): the command is sent again after exactly that long, not after
  the client's own backoff.
- `MoveTo(instance)`: `region` (LiveChat misdirected_request) or `instance`
  names another server this client knows: the session moves there (handshake,
  restore from its position) and the refused command is sent again there.
- `AnswerChallenge(nonce)`: the credential was refused with a `nonce`
  challenge (Layer 401 authentication_required): a new handshake answers it
  (`ext.nonce`), the session is restored and the command sent again.

Over HTTP (long-polling) a rate-limited command's reply also comes as a 429
with a `Retry-After` header (`retry_after_header`, `parse_retry_after`): the
link sends nothing more before that time.

In each case the application is told the refusal (an `error` with the
documented code and the native payload in `data`) and nothing is lost: the
command is retried, never reported failed. None: the ordinary handling.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from statecharts.catalog import ErrorCode

# A server may ask for a long wait; the client waits at most this long per refusal.
MAX_RETRY_AFTER = 300.0


@dataclass(frozen=True)
class WaitThenRetry:
    seconds: float


@dataclass(frozen=True)
class MoveTo:
    instance: str


@dataclass(frozen=True)
class AnswerChallenge:
    nonce: str


Reaction = WaitThenRetry | MoveTo | AnswerChallenge


def reaction_to(
    code: int, data: Mapping[str, Any], servers: Sequence[str], current: str
) -> Reaction | None:
    """The reaction a refusal calls for, or None for the ordinary handling."""
    target = data.get("region", data.get("instance"))
    if isinstance(target, str) and target in servers and target != current:
        return MoveTo(target)
    nonce = data.get("nonce")
    if isinstance(nonce, str) and nonce and len(nonce) <= 256:
        return AnswerChallenge(nonce)
    wait = data.get("retryAfter")
    if code == ErrorCode.SERVER_UNAVAILABLE and _seconds(wait):
        return WaitThenRetry(min(float(wait), MAX_RETRY_AFTER))
    return None


def retry_after_header(seconds: float) -> str:
    """An HTTP `Retry-After` for a wait: whole seconds (RFC 9110 delay-seconds), rounded up."""
    return str(max(0, math.ceil(seconds)))


def parse_retry_after(value: str | None) -> float | None:
    """The wait an HTTP `Retry-After` asks for, at most MAX_RETRY_AFTER; None when absent
    or not delay-seconds (an HTTP-date is not honoured: clocks differ)."""
    if value is None or not value.strip().isdigit():
        return None
    return min(float(value.strip()), MAX_RETRY_AFTER)


def _seconds(value: object) -> TypeGuard[int | float]:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < float("inf")
    )
