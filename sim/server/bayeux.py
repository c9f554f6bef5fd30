"""Per-client Bayeux state on one instance: subscriptions, the delivery queue, ack batches.

Deliveries leave only with `/meta/connect` replies. With the ack extension
(the client sent `ext.ack: true` in its handshake) each non-empty reply forms
a batch with a new id (0, 1, ...); a batch is kept until a later connect
acknowledges it (`ext.ack >= id`) and is sent again with every connect reply
until then, so a lost reply loses nothing. Without the extension a delivered
message is forgotten at once, as plain Bayeux does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transport.wire import Message


@dataclass(frozen=True, slots=True)
class HeldConnect:
    """A `/meta/connect` the server holds until a delivery or the hold deadline."""

    conn_id: str
    msg_id: Any  # the connect's id as the client sent it (any JSON value)
    deadline: float
    ack_in: int | None
    seq: int


@dataclass(slots=True)
class BayeuxClient:
    client_id: str
    ack_enabled: bool
    last_contact: float
    subscriptions: set[str] = field(default_factory=set)
    chats: set[str] = field(default_factory=set)  # chat sessions bound to this client
    chat: str | None = None  # the chat it was bound to last (kept after the chat ends)
    queue: list[Message] = field(default_factory=list)
    unacked: list[tuple[int, list[Message]]] = field(default_factory=list)
    next_batch: int = 0
    held: HeldConnect | None = None
    idle_check: float | None = None  # when the one pending idle-expiry check runs
    unacked_count: int = 0  # messages in `unacked`, kept with it (pending_count runs often)

    def acknowledge(self, ack: int) -> None:
        unacked = self.unacked  # in batch id order: the acknowledged ones lead
        while unacked and unacked[0][0] <= ack:
            self.unacked_count -= len(unacked.pop(0)[1])

    def pending_count(self) -> int:
        return len(self.queue) + self.unacked_count

    def has_pending(self) -> bool:
        return bool(self.queue or self.unacked)

    def take_batch(self) -> tuple[list[Message], int | None]:
        """Messages for the next connect reply and the batch id to put in its `ext.ack`.

        The id is None when the reply carries no batch (nothing pending)."""
        if not self.ack_enabled:
            messages, self.queue = self.queue, []
            return messages, None
        if self.queue:
            self.unacked.append((self.next_batch, self.queue))
            self.unacked_count += len(self.queue)
            self.next_batch += 1
            self.queue = []
        unacked = self.unacked
        if not unacked:
            return [], None
        if len(unacked) == 1:  # the usual case: the batch itself (callers only read it)
            return unacked[0][1], unacked[0][0]
        messages = [m for _, batch in unacked for m in batch]
        return messages, unacked[-1][0]


def channel_matches(pattern: str, channel: str) -> bool:
    """Bayeux channel globbing: `/a/*` one segment, `/a/**` any depth."""
    if pattern == channel:
        return True
    if pattern.endswith("/**"):
        return channel.startswith(pattern[:-2])
    if pattern.endswith("/*"):
        prefix = pattern[:-1]
        return channel.startswith(prefix) and "/" not in channel[len(prefix) :]
    return False
