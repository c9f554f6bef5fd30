"""What a server instance hands to its driver: frames to send and connections to drop."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Reply:
    """Send `text` (one Bayeux frame) on connection `conn_id`."""

    conn_id: str
    text: str
    # A command in it was rate-limited: an HTTP transport answers 429 with this Retry-After.
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Drop:
    """Close connection `conn_id` from the server side."""

    conn_id: str
    reason: str


Output = Reply | Drop
# (t, src "server:<instance>", kind, fields): the shape of `Cluster.take_events()`.
ServerEvent = tuple[float, str, str, dict[str, Any]]


class Outbox:
    """An instance's outputs waiting for the driver; with `slow_ms` set, each leaves
    that much later than it was made, order kept (the `slow` fault)."""

    __slots__ = ("delayed", "ready", "slow_ms")

    def __init__(self) -> None:
        self.slow_ms = 0.0
        self.ready: list[Output] = []
        self.delayed: deque[tuple[float, Output]] = deque()

    def send(self, output: Output, now: float) -> None:
        if self.slow_ms <= 0 and not self.delayed:
            self.ready.append(output)
            return
        due = now + self.slow_ms / 1000.0
        if self.delayed:
            due = max(due, self.delayed[-1][0])
        self.delayed.append((due, output))

    def release(self, now: float) -> None:
        """Move the delayed outputs due by `now` to the ready ones."""
        delayed = self.delayed
        while delayed and delayed[0][0] <= now:
            self.ready.append(delayed.popleft()[1])

    def set_slow(self, ms: float) -> None:
        """0 ends the fault: what it held back is ready at once (in order) rather than
        holding up the outputs made after it."""
        self.slow_ms = ms
        if ms <= 0:
            self.ready.extend(output for _, output in self.delayed)
            self.delayed.clear()

    def take(self) -> list[Output]:
        outputs, self.ready = self.ready, []
        return outputs
