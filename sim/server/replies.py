"""The Bayeux reply messages an instance builds (success, failure, 402 unknown client)."""

from __future__ import annotations

from sim.server.bayeux import BayeuxClient
from sim.server.bounds import MAX_CHANNEL_LENGTH
from transport.wire import BayeuxError, Message, Reconnect, bayeux_error


def channel_name(channel: object) -> bool:
    return (
        isinstance(channel, str) and channel.startswith("/") and len(channel) <= MAX_CHANNEL_LENGTH
    )


def ack_of(msg: Message) -> int | None:
    """The client's `ext.ack` (an object or absent: `check_envelope` saw to that)."""
    ext = msg.get("ext")
    if ext is None:
        return None
    ack = ext.get("ack")
    return ack if isinstance(ack, int) and not isinstance(ack, bool) else None


def ok(msg: Message, client: BayeuxClient) -> Message:
    reply: Message = {"channel": msg["channel"], "successful": True, "clientId": client.client_id}
    if "id" in msg:
        reply["id"] = msg["id"]
    return reply


def failed(msg: Message, error: str) -> Message:
    reply: Message = {"channel": msg["channel"], "successful": False, "error": error}
    if "id" in msg:
        reply["id"] = msg["id"]
    return reply


def unknown_client(channel: str, msg_id: object) -> Message:
    reply: Message = {
        "channel": channel,
        "successful": False,
        "error": bayeux_error(BayeuxError.UNKNOWN_CLIENT, "Unknown client"),
        "advice": {"reconnect": Reconnect.HANDSHAKE.value, "interval": 0},
    }
    if msg_id is not None:
        reply["id"] = msg_id
    return reply
