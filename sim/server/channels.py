"""Who may subscribe to which channel: a live chat's channel belongs to its clients only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.server.bayeux import BayeuxClient
from sim.server.bounds import MAX_SUBSCRIPTIONS
from sim.server.replies import channel_name, failed, ok
from sim.server.store import SessionStore
from transport.wire import CHAT_PREFIX, BayeuxError, Message, bayeux_error

if TYPE_CHECKING:
    from sim.server.ports import InstancePort


def subscription(
    port: InstancePort, instance: str, client: BayeuxClient, msg: Message, *, subscribe: bool
) -> Message:
    """Answer /meta/subscribe or /meta/unsubscribe, (un)subscribing through the cluster."""
    raw = msg.get("subscription")
    channels = [raw] if isinstance(raw, str) else raw
    if not isinstance(channels, list) or not channels:
        return failed(msg, bayeux_error(BayeuxError.BAD_REQUEST, "Missing subscription"))
    for channel in channels:
        if not channel_name(channel):
            return failed(msg, bayeux_error(BayeuxError.BAD_REQUEST, "Bad subscription"))
        if subscribe and not _may_subscribe(port.store, client, channel):
            reply = failed(
                msg, bayeux_error(BayeuxError.BAD_CHANNEL, "Forbidden subscription", channel)
            )
            reply["subscription"] = raw
            return reply
    if subscribe and len(client.subscriptions.union(channels)) > MAX_SUBSCRIPTIONS:
        reply = failed(msg, bayeux_error(BayeuxError.BAD_REQUEST, "Too many subscriptions"))
        reply["subscription"] = raw
        return reply
    for channel in channels:
        if subscribe:
            port.subscribe(instance, client, channel)
        else:
            port.unsubscribe(instance, client, channel)
    reply = ok(msg, client)
    reply["subscription"] = raw
    return reply


def _may_subscribe(store: SessionStore, client: BayeuxClient, channel: str) -> bool:
    if channel.startswith("/meta/"):
        return False
    return not _foreign_chat(store, client, channel)


def _foreign_chat(store: SessionStore, client: BayeuxClient, channel: str) -> bool:
    """A live chat session's channel that this client does not own."""
    chat_id = chat_of(store, channel)
    return chat_id is not None and chat_id not in client.chats


def chat_of(store: SessionStore, channel: str) -> str | None:
    """The chat id when `channel` is the channel of a live chat session."""
    if not channel.startswith(CHAT_PREFIX):
        return None
    chat_id = channel[len(CHAT_PREFIX) :]
    return chat_id if store.get(chat_id) is not None else None
