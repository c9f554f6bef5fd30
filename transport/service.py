"""The seam between the connection and what runs over it (the chat, or pure Bayeux).

`transport.connection.ClientConnection` owns the statechart, the link, the Bayeux
handshake/connect loop, the outage rules and every timer. A `Service` is what
the session means on top of that channel: the chat service (`transport.chat`:
login, restore, transcript, outbox) or the broadcast service
(`transport.broadcast`: subscriptions and publishes on broadcast channels).
The connection calls a service at these fixed points only, always with `now`;
a service acts through the connection's public methods.
"""

from __future__ import annotations

from typing import Protocol

from transport.bayeux import Pending
from transport.replies import Delivery, MetaReply, OtherMessage, ServiceReply


class Service(Protocol):
    # When the service's own step is to be retried (None: not armed); a timer of the connection.
    retry_at: float | None

    def step(self, now: float) -> None:
        """The channel works (after a handshake, or on retry): log in, restore, subscribe."""

    def connected(self, now: float) -> None:
        """A successful /meta/connect reply: the delivery loop works."""

    def on_reply(
        self, reply: ServiceReply | Delivery | OtherMessage, pending: Pending | None, now: float
    ) -> None:
        """A valid non-meta message (`pending`: the request it answers, already resolved)."""

    def subscribed(self, reply: MetaReply, pending: Pending, now: float) -> None:
        """The reply to one of our /meta/subscribe requests."""

    def after_frame(self, now: float) -> None:
        """A whole frame was taken."""

    def flush(self, now: float) -> None:
        """The session works: send what the application queued."""

    def retry_due(self, now: float) -> None:
        """`retry_at` came."""

    def connection_gone(self, now: float) -> None:
        """Every outstanding request died with the connection."""

    def rehandshake(self, now: float) -> None:
        """The server forgot this client; fire `rehandshake` if a session must be restored."""

    def failover(self, now: float, old: str, new: str) -> None:
        """The connection moved to instance `new`; fire `failover` if a session moves along."""

    def reload(self, now: float) -> None:
        """Page reload: keep what the saved state keeps."""

    def farewell(self, now: float) -> list[dict[str, object]]:
        """Messages that end the session on the server (sent before /meta/disconnect)."""

    def settle_all(self, now: float, code: int) -> None:
        """The session is over: every unsettled client request fails with `code`."""

    def settle_unsent(self, now: float, code: int) -> None:
        """`end()`: what was never sent fails with `code` (what is in flight may still land)."""

    def shutdown(self, now: float) -> None:
        """The session is finished; forget it."""
