"""The narrow views of the cluster that its parts are given (no import of cluster.py).

The cluster is the one core: it builds its instances and its chat service and
passes itself in as one of these ports. They hold nothing else of it, so
`cluster.py` imports `instance.py` and `chat.py`, never the other way round.
"""

from __future__ import annotations

from typing import Any, Protocol

from sim.server.bayeux import BayeuxClient
from sim.server.secrets import SecretSource
from sim.server.store import SessionStore, StoredChat, TranscriptEvent
from statecharts.dialects import Dialect
from transport.wire import Message


class Events(Protocol):
    def emit(self, now: float, instance: str, kind: str, fields: dict[str, Any]) -> None:
        """`fields` is handed over: pass a dict of your own, not one you keep."""


class CommandHandler(Protocol):
    retry_after: float | None  # a rate limit's, told since `take_retry_after`

    def handle(
        self, instance: str, client: BayeuxClient, data: dict[str, Any], now: float
    ) -> Message | None: ...
    def take_retry_after(self) -> float | None: ...


class InstancePort(Events, Protocol):
    """What a server instance may ask of its cluster."""

    store: SessionStore
    dialect: Dialect
    hold: float
    max_interval: float
    dirty: dict[tuple[str, str], None]  # clients `flush` must answer (empty: nothing to do)

    @property
    def chat(self) -> CommandHandler: ...
    def flush(self, now: float) -> None: ...
    def unbind(self, instance: str, client: BayeuxClient) -> None: ...
    def subscribe(self, instance: str, client: BayeuxClient, channel: str) -> None: ...
    def unsubscribe(self, instance: str, client: BayeuxClient, channel: str) -> None: ...
    def publish(self, channel: str, data: Any) -> None: ...
    def answer_nonce(self, nonce: object) -> bool: ...
    def new_client_id(self, instance: str) -> str: ...
    def run_timers(self, now: float) -> None: ...
    def own_deadline(self) -> float | None: ...


class ChatPort(Events, Protocol):
    """What the chat service may ask of its cluster."""

    store: SessionStore
    dialect: Dialect
    secrets: SecretSource
    not_ready_until: float
    max_message_bytes: int | None
    truth_events: bool

    def issue_nonce(self) -> str: ...
    def has_client(self, client_id: str) -> bool: ...
    def start_session(
        self, session: StoredChat, instance: str, client: BayeuxClient, now: float
    ) -> None: ...
    def end_session(self, chat_id: str, instance: str, now: float) -> None: ...
    def end_by_server(self, chat_id: str, instance: str, now: float) -> None: ...
    def bind(self, chat_id: str, instance: str, client: BayeuxClient) -> None: ...
    def deliver_chat(self, chat_id: str, data: dict[str, Any]) -> None: ...
    def deliver_to(
        self, instance: str, client: BayeuxClient, chat_id: str, items: list[dict[str, Any]]
    ) -> None: ...
    def accepted(self, session: StoredChat, event: TranscriptEvent, now: float) -> None: ...
    def acked(self, session: StoredChat, message_id: str, index: int, now: float) -> None: ...
    def client_said(self, chat_id: str, text: str, now: float) -> None: ...
