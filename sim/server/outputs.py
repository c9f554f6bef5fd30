"""What a server instance hands to its driver: frames to send and connections to drop."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from transport.wire import LazyFrame, Message


class Reply(LazyFrame):
    """Send one Bayeux frame, the `messages`, on connection `conn_id`."""

    __slots__ = ("conn_id", "retry_after")
    shown = ("conn_id", "text", "retry_after")

    def __init__(
        self, conn_id: str, messages: list[Message], retry_after: float | None = None
    ) -> None:
        super().__init__(messages)
        self.conn_id = conn_id
        # A command in it was rate-limited: an HTTP transport answers 429 with this Retry-After.
        self.retry_after = retry_after


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
    that much later than it was made, order kept (the `slow` fault).

    It also tells the driver which instances to look at: the first output since the
    driver last looked, or a deadline that may have moved earlier (`deadline_moved`),
    puts the instance's `index` once on `changes`, the list its cluster shares with
    every instance. A driver that reads it drains only those (`Cluster.take_outputs`);
    one that drains every instance may ignore it (it holds each index at most once)."""

    __slots__ = ("changes", "delayed", "index", "marked", "ready", "rearm", "slow_ms")

    def __init__(self, changes: list[int] | None = None, index: int = 0) -> None:
        self.slow_ms = 0.0
        self.ready: list[Output] = []  # filled through send/extend only: they mark
        self.delayed: deque[tuple[float, Output]] = deque()
        self.changes: list[int] = changes if changes is not None else []
        self.index = index
        self.marked = False  # `index` is on `changes`
        self.rearm = False  # the deadline may have moved earlier since the driver looked

    def send(self, output: Output, now: float) -> None:
        if self.slow_ms <= 0 and not self.delayed:
            self.ready.append(output)
            if not self.marked:  # mark(), inlined: once per reply
                self.marked = True
                self.changes.append(self.index)
            return
        due = now + self.slow_ms / 1000.0
        if self.delayed:
            due = max(due, self.delayed[-1][0])
        self.delayed.append((due, output))
        self.deadline_moved()

    def extend(self, outputs: Iterable[Output]) -> None:
        """Ready at once, whatever the delay (a crash's drops)."""
        self.ready.extend(outputs)
        self.mark()

    def release(self, now: float) -> None:
        """Move the delayed outputs due by `now` to the ready ones."""
        delayed = self.delayed
        while delayed and delayed[0][0] <= now:
            self.ready.append(delayed.popleft()[1])
        self.mark()

    def set_slow(self, ms: float) -> None:
        """0 ends the fault: what it held back is ready at once (in order) rather than
        holding up the outputs made after it."""
        self.slow_ms = ms
        if ms <= 0 and self.delayed:
            self.ready.extend(output for _, output in self.delayed)
            self.delayed.clear()
            self.deadline_moved()

    def mark(self) -> None:
        """There are outputs for the driver."""
        if not self.marked:
            self.marked = True
            self.changes.append(self.index)

    def deadline_moved(self) -> None:
        """The instance's next deadline may be earlier than the driver last saw."""
        self.rearm = True
        if not self.marked:
            self.marked = True
            self.changes.append(self.index)

    def take(self) -> list[Output]:
        outputs, self.ready = self.ready, []
        return outputs
