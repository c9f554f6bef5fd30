"""A scripted Bayeux client for server tests: frames in, frames out, no client core."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sim.server import Cluster, Drop, Reply
from transport.wire import (
    META_CONNECT,
    META_HANDSHAKE,
    META_SUBSCRIBE,
    SERVICE_CHAT,
    Message,
    decode,
    encode,
)


class World:
    """Drains every instance after each step and files frames by connection."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.inbox: dict[str, list[list[Message]]] = defaultdict(list)
        self.dropped: dict[str, str] = {}

    def drain(self) -> None:
        for _, output in self.cluster.take_outputs():
            if isinstance(output, Reply):
                self.inbox[output.conn_id].append(decode(output.text))
            elif isinstance(output, Drop):
                self.dropped[output.conn_id] = output.reason

    def tick(self, now: float) -> None:
        self.cluster.tick(now)
        self.drain()

    def run_until(self, end: float) -> float:
        """Tick at every deadline up to `end`; returns the last time ticked."""
        now = 0.0
        while (deadline := self.cluster.next_deadline()) is not None and deadline <= end:
            now = deadline
            self.tick(now)
        return now


class ScriptClient:
    def __init__(self, world: World, instance: str, conn: str = "c1") -> None:
        self.world = world
        self.instance = instance
        self.conn = conn
        self.client_id = ""
        self.ack = -1
        self._ids = 0
        assert world.cluster.instances[instance].open(conn, 0.0)

    def next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    def send(self, messages: list[Message], now: float, conn: str | None = None) -> None:
        self.world.cluster.instances[self.instance].receive(
            conn or self.conn, encode(messages), now
        )
        self.world.drain()

    def send_raw(self, text: str, now: float) -> None:
        self.world.cluster.instances[self.instance].receive(self.conn, text, now)
        self.world.drain()

    def frames(self, conn: str | None = None) -> list[list[Message]]:
        inbox = self.world.inbox[conn or self.conn]
        frames = list(inbox)
        inbox.clear()
        return frames

    def one(self, conn: str | None = None) -> list[Message]:
        frames = self.frames(conn)
        assert len(frames) == 1, frames
        return frames[0]

    def request(self, message: Message, now: float) -> Message:
        """Send one message and return the reply with the same id."""
        message = {**message, "id": self.next_id()}
        if self.client_id and "clientId" not in message:
            message["clientId"] = self.client_id
        self.send([message], now)
        inbox = self.world.inbox[self.conn]
        answering = [f for f in inbox if any(m.get("id") == message["id"] for m in f)]
        inbox[:] = [f for f in inbox if f not in answering]
        replies = [m for f in answering for m in f if m.get("id") == message["id"]]
        if len(replies) == 2:  # a service result, then its publish ack (no data), as CometD
            result, ack = replies
            assert "data" in result and {**ack, "data": result["data"]} == result, replies
            assert "data" not in ack and ack["successful"] is True, replies
            replies = [result]
        assert len(replies) == 1, replies
        return replies[0]

    def handshake(self, now: float, types: list[str] | None = None) -> Message:
        reply = self.request(
            {
                "channel": META_HANDSHAKE,
                "version": "1.0",
                "supportedConnectionTypes": types or ["websocket", "long-polling"],
                "ext": {"ack": True},
            },
            now,
        )
        if reply["successful"]:
            self.client_id = reply["clientId"]
            self.ack = -1
        return reply

    def connect(self, now: float, ack: int | None = None, conn: str | None = None) -> None:
        """Send a connect (with `ack`, default the last batch seen); replies land in the inbox."""
        message = {
            "channel": META_CONNECT,
            "clientId": self.client_id,
            "connectionType": "websocket",
            "id": self.next_id(),
            "ext": {"ack": self.ack if ack is None else ack},
        }
        self.send([message], now, conn)

    def connect_reply(self, conn: str | None = None) -> tuple[list[Message], Message]:
        """The deliveries and the connect reply of the one frame that answered a connect."""
        frame = self.one(conn)
        assert frame[-1]["channel"] == META_CONNECT, frame
        reply = frame[-1]
        ack = reply.get("ext", {}).get("ack")
        if isinstance(ack, int):
            self.ack = ack
        return frame[:-1], reply

    def subscribe(self, channel: str, now: float) -> Message:
        return self.request({"channel": META_SUBSCRIBE, "subscription": channel}, now)

    def chat(self, operation: str, now: float, **params: Any) -> dict[str, Any]:
        reply = self.request(
            {"channel": SERVICE_CHAT, "data": {"operation": operation, **params}}, now
        )
        assert reply["successful"] is True, reply
        data: dict[str, Any] = reply["data"]
        return data


def transcript(deliveries: list[Message]) -> list[tuple[int, str, str]]:
    return [
        (m["data"]["index"], m["data"]["type"], m["data"]["party"])
        for m in deliveries
        if "index" in m["data"]
    ]
