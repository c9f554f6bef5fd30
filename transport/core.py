"""The sans-I/O chat client core (ARCHITECTURE.md "Client core").

`ClientCore` is a `transport.connection.ClientConnection` (link, Bayeux channel,
statechart, outage rules, timers) running the chat service
(`transport.chat.ChatService`), with the chat's application commands:

    core = ClientCore("c1", ClientConfig(...), servers=["i1", "i2"], rng=random.Random(x))
    core.start(now) / core.restore(saved, now) / core.reload(now) / core.end(now)
    message_id = core.send_message(text, now); core.send_typing(now)
    core.saved_state()                       # the cookie
    core.connection_made(now) ... core.frame_received(text, now); core.tick(now)
    core.take_outputs(); core.take_events(); core.next_deadline()

The layers (each its own module): `replies` (typed server replies, parsed at
the boundary: anything invalid is EventError 151), `bayeux` (requests and
advice), `frames` (a frame in, typed replies out), `timers` (the one timer
table), `recovery` (backoff, failover, interruption deadline: pure), `connection`
and the `service` seam with its two implementations, `chat` and `broadcast`.

Subclasses may override the hooks of `ClientConnection` and `deliver_transcript`
(property tests plant bugs there).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from mypy_extensions import mypyc_attr

from statecharts.chart import State, Trigger
from statecharts.events import Message, MessageDirection
from transport.chat import ChatService
from transport.connection import ClientConnection
from transport.outputs import (
    ClientConfig,
    CloseConnection,
    OpenConnection,
    Output,
    SendFrame,
)
from transport.replies import TranscriptItem
from transport.state import SavedState

__all__ = [
    "ClientConfig",
    "ClientCore",
    "CloseConnection",
    "OpenConnection",
    "Output",
    "SendFrame",
]


# Users subclass the core (`--core`, planted bugs): a compiled build must honour their
# overrides, so the class stays open to Python subclasses.
@mypyc_attr(allow_interpreted_subclasses=True)
class ClientCore(ClientConnection):
    """One chat client: a sans-I/O transport core (see the module docstring)."""

    def __init__(
        self,
        client_id: str,
        config: ClientConfig | None = None,
        servers: Sequence[str] = ("i1",),
        rng: random.Random | None = None,
    ) -> None:
        self.chat_service = ChatService(client_id, self.deliver_transcript)
        super().__init__(client_id, self.chat_service, config, servers, rng)
        self.chat_service.bind(self)

    # -- the hook for transcript events --------------------------------------------
    def deliver_transcript(self, now: float, item: TranscriptItem) -> None:
        self.emit(
            now,
            Message(MessageDirection.IN, item.index, item.client_message_id, item.party, item.text),
        )

    # -- chat commands -----------------------------------------------------------------
    def restore(self, saved: SavedState, now: float) -> None:
        """Page start from saved client state: restore the chat it names."""
        self.require(State.IDLE, "restore")
        servers = list(saved.servers) or list(self.servers)
        if saved.instance not in servers:
            servers.insert(0, saved.instance)
        self.servers = servers
        self.server_index = servers.index(saved.instance)
        self.chat_service.resume(saved.chat_id, saved.secure_key, saved.position)
        self.begin(Trigger.RESTORE, now)

    def send_message(self, text: str, now: float) -> str:
        """Send a chat message; returns its client message id (`<client>-m<n>`)."""
        self.advance(now)
        self.require_session("send_message")
        return self.chat_service.queue_message(text, now)

    def send_typing(self, now: float) -> None:
        self.advance(now)
        self.require_session("send_typing")
        self.chat_service.queue_typing(now)

    def saved_state(self) -> SavedState | None:
        service = self.chat_service
        if service.chat is None:
            return None
        return SavedState(
            service.chat.chat_id,
            service.chat.secure_key,
            self.instance,
            service.transcript.position,
            tuple(self.servers),
        )
