"""The cluster's routing: which Bayeux clients get a delivery, and answering their connects.

`Routing` is a mixin of `Cluster` (its methods take the cluster as `self`),
split out of `sim.server.cluster` so the routing reads on its own. A client
is keyed by (instance, clientId) and looked up in its instance when needed,
so an instance that crashed (and forgot its clients) leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sim.server.bayeux import BayeuxClient, channel_matches
from sim.server.bounds import MAX_PENDING
from sim.server.store import SessionStore
from transport.wire import Message, chat_channel

if TYPE_CHECKING:
    from sim.server.instance import ServerInstance

ClientKey = tuple[str, str]  # (instance, clientId)


class Routing:
    """Chat bindings and channel subscriptions across the instances of a cluster."""

    # What the mixin uses of its host class (declarations only).
    store: SessionStore
    instances: dict[str, ServerInstance]

    def __init__(self) -> None:
        self._bound: dict[str, dict[ClientKey, None]] = {}
        self._subs: dict[str, dict[ClientKey, None]] = {}
        self._dirty: dict[ClientKey, None] = {}
        self._overflowing: dict[ClientKey, None] = {}

    def bind(self, chat_id: str, instance: str, client: BayeuxClient) -> None:
        client.chats.add(chat_id)
        client.chat = chat_id
        self._bound.setdefault(chat_id, {})[(instance, client.client_id)] = None

    def unbind(self, instance: str, client: BayeuxClient) -> None:
        key = (instance, client.client_id)
        for chat_id in client.chats:
            self._bound.get(chat_id, {}).pop(key, None)
        for channel in client.subscriptions:
            self._remove_sub(channel, key)
        self._dirty.pop(key, None)

    def subscribe(self, instance: str, client: BayeuxClient, channel: str) -> None:
        client.subscriptions.add(channel)
        self._subs.setdefault(channel, {})[(instance, client.client_id)] = None

    def unsubscribe(self, instance: str, client: BayeuxClient, channel: str) -> None:
        client.subscriptions.discard(channel)
        self._remove_sub(channel, (instance, client.client_id))

    def _remove_sub(self, channel: str, key: ClientKey) -> None:
        subscribers = self._subs.get(channel)
        if subscribers is not None:
            subscribers.pop(key, None)
            if not subscribers:
                del self._subs[channel]

    def deliver_chat(self, chat_id: str, data: dict[str, Any]) -> None:
        """Queue a transcript event (or typing notice) for every client bound to the chat."""
        bound = self._bound.get(chat_id)
        if bound:
            message = {"channel": chat_channel(chat_id), "data": data}
            for key in bound:
                self._queue(key, (message,))

    def deliver_to(
        self, instance: str, client: BayeuxClient, chat_id: str, items: list[dict[str, Any]]
    ) -> None:
        channel = chat_channel(chat_id)
        self._queue((instance, client.client_id), [{"channel": channel, "data": d} for d in items])

    def publish(self, channel: str, data: Any) -> None:
        """A broadcast publish: every subscriber on the cluster gets it."""
        message = {"channel": channel, "data": data}
        targets: dict[ClientKey, None] = {}
        for pattern, subscribers in self._subs.items():
            if channel_matches(pattern, channel):
                targets.update(subscribers)
        for key in targets:
            self._queue(key, (message,))

    def _queue(self, key: ClientKey, messages: Sequence[Message]) -> None:
        inst = self.instances.get(key[0])
        client = None if inst is None else inst.clients.get(key[1])
        if client is not None and messages:
            queue = client.queue
            queue.extend(messages)
            self._dirty[key] = None
            if len(queue) + client.unacked_count > MAX_PENDING:  # client.pending_count()
                self._overflowing[key] = None

    def flush(self, now: float) -> None:
        """Answer the held connects of clients that got deliveries; forget the
        clients that let more than MAX_PENDING messages pile up (they handshake
        again and restore their chats: nothing accepted is lost)."""
        while self._overflowing:
            (instance, client_id), _ = self._overflowing.popitem()
            self._dirty.pop((instance, client_id), None)
            reason = f"over {MAX_PENDING} undelivered messages"
            self.instances[instance].forget_client(client_id, now, reason)
        while self._dirty:
            dirty, self._dirty = self._dirty, {}
            for instance, client_id in dirty:
                self.instances[instance].complete_held(client_id, now)

    def has_client(self, client_id: str) -> bool:
        """Whether a Bayeux client with this id is alive on any instance."""
        return any(client_id in inst.clients for inst in self.instances.values())

    def chat_of(self, client_id: str) -> str | None:
        """The chat this live Bayeux client last started or joined (requestChat,
        requestNotifications), even if it has ended since; None if it never had one."""
        for inst in self.instances.values():
            client = inst.clients.get(client_id)
            if client is not None:
                return client.chat
        return None

    def _client(self, key: ClientKey) -> BayeuxClient | None:
        inst = self.instances.get(key[0])
        return None if inst is None else inst.clients.get(key[1])

    def _long_polled(self, chat_id: str) -> bool:
        """Whether a client bound to this chat holds a connect right now."""
        for key in self._bound.get(chat_id, {}):
            client = self._client(key)
            if client is not None and client.held is not None:
                return True
        return False

    def touch_chats(self, client: BayeuxClient, now: float) -> None:
        for chat_id in client.chats:
            self.store.touch(chat_id, now)
