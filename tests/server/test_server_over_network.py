"""The server core over the simulated network (sim/network.py), with a scripted client."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from sim.faults import Direction, Loss
from sim.kernel import Handle, Simulation
from sim.network import Network
from sim.network_parts import Frame
from sim.server import Cluster, Drop, MemoryStore, Reply
from transport.wire import META_CONNECT, META_HANDSHAKE, SERVICE_CHAT, Message, decode, encode

L = 0.005


class ScriptedEndpoint:
    """The client end: records what arrives; sends what the test schedules."""

    def __init__(self) -> None:
        self.received: list[tuple[float, list[Message]]] = []
        self.closed: list[tuple[float, str]] = []
        self.client_id = ""

    def connection_made(self, now: float) -> None:
        pass

    def connection_failed(self, now: float, reason: str) -> None:
        self.closed.append((now, reason))

    def connection_closed(self, now: float, reason: str) -> None:
        self.closed.append((now, reason))

    def frame_received(self, sent: Frame, now: float) -> None:
        frame = decode(sent if isinstance(sent, str) else sent.text)
        self.received.append((now, frame))
        for message in frame:
            if message["channel"] == META_HANDSHAKE and message.get("successful"):
                self.client_id = message["clientId"]

    def messages(self, channel: str) -> list[tuple[float, Message]]:
        return [(t, m) for t, f in self.received for m in f if m["channel"] == channel]


class ServerPort:
    """Drives one instance for the network and drains the whole cluster after each call."""

    def __init__(self, rig: Rig, name: str) -> None:
        self.rig = rig
        self.core = rig.cluster.instances[name]

    def open(self, conn_id: str, now: float) -> bool:
        accepted = self.core.open(conn_id, now)
        self.rig.pump()
        return accepted

    def receive(self, conn_id: str, frame: Frame, now: float) -> None:
        self.core.receive(conn_id, frame if isinstance(frame, str) else frame.messages, now)
        self.rig.pump()

    def closed(self, conn_id: str, now: float) -> None:
        self.core.closed(conn_id, now)
        self.rig.pump()


class Rig:
    def __init__(self) -> None:
        self.sim = Simulation(3, "server-over-network")
        self.kernel = self.sim.kernel
        self.net = Network(self.kernel, self.sim.tracer, self.sim.streams.get("net"), latency=L)
        self.cluster = Cluster(["i1", "i2"], MemoryStore(), rng=random.Random(3))
        for name in self.cluster.instances:
            self.net.attach_server(name, ServerPort(self, name))
        self.client = ScriptedEndpoint()
        self.net.attach_client("c1", self.client)
        self._timer: Handle | None = None
        self._ids = 0

    def pump(self) -> None:
        for _, out in self.cluster.take_outputs():
            if isinstance(out, Reply):
                self.net.server_send(out.conn_id, out.text)
            elif isinstance(out, Drop):
                self.net.server_close(out.conn_id, out.reason)
        self.kernel.cancel(self._timer)
        deadline = self.cluster.next_deadline()
        self._timer = None if deadline is None else self.kernel.call_at(deadline, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self.cluster.tick(self.kernel.now)
        self.pump()

    def at(self, t: float, fn: Callable[..., object], *args: Any) -> None:
        self.kernel.call_at(t, fn, *args)

    def send_at(self, t: float, build: Callable[[], Message]) -> None:
        def send() -> None:
            self._ids += 1
            message = {"id": str(self._ids), "clientId": self.client.client_id, **build()}
            self.net.client_send("c1", encode([message]))

        self.at(t, send)

    def handshake_at(self, t: float) -> None:
        self.send_at(
            t,
            lambda: {
                "channel": META_HANDSHAKE,
                "version": "1.0",
                "supportedConnectionTypes": ["websocket"],
                "ext": {"ack": True},
            },
        )

    def connect_at(self, t: float, ack: Callable[[], int]) -> None:
        self.send_at(
            t,
            lambda: {"channel": META_CONNECT, "connectionType": "websocket", "ext": {"ack": ack()}},
        )

    def chat_at(self, t: float, operation: str, params: Callable[[], dict[str, Any]]) -> None:
        self.send_at(
            t, lambda: {"channel": SERVICE_CHAT, "data": {"operation": operation, **params()}}
        )

    def chat_result(self, operation: str) -> dict[str, Any]:
        for _, message in self.client.messages(SERVICE_CHAT):
            data = message.get("data")  # None: the publish ack
            if data and data["operation"] == operation and "result" in data:
                result: dict[str, Any] = data["result"]
                return result
        raise AssertionError(f"no result for {operation}")

    def last_ack(self) -> int:
        acks = [m["ext"]["ack"] for _, m in self.client.messages(META_CONNECT)]
        return acks[-1] if acks else -1

    def agent_says_at(self, t: float, chat_id: str, text: str) -> None:
        def say() -> None:
            self.cluster.agent_say(chat_id, text, self.kernel.now)
            self.pump()

        self.at(t, say)


def chat_deliveries(client: ScriptedEndpoint) -> list[tuple[float, int]]:
    return [
        (t, m["data"]["index"])
        for t, f in client.received
        for m in f
        if m["channel"].startswith("/chat/") and "index" in m["data"]
    ]


def start_chat(rig: Rig) -> None:
    rig.at(0.0, rig.net.connect, "c1", "i1")
    rig.handshake_at(0.1)
    rig.chat_at(0.2, "requestChat", lambda: {"nickname": "ann"})
    rig.connect_at(0.3, lambda: -1)


def test_chat_over_the_network_is_delivered_with_latency() -> None:
    rig = Rig()
    start_chat(rig)
    rig.kernel.run_until(0.5)
    assert [i for _, i in chat_deliveries(rig.client)] == [1, 2]
    chat_id = rig.chat_result("requestChat")["chatId"]
    rig.connect_at(0.6, rig.last_ack)  # held
    rig.agent_says_at(1.0, chat_id, "hello")
    rig.kernel.run_until(2.0)
    t, index = chat_deliveries(rig.client)[-1]
    assert index == 3 and t == pytest.approx(1.0 + L)


def test_connect_reply_lost_is_sent_again() -> None:
    rig = Rig()
    rig.net.add_fault(Loss(at=0.29, duration=0.2, p=1.0, direction=Direction.DOWN))
    start_chat(rig)  # the connect reply carrying batch 0 is lost
    rig.kernel.run_until(0.6)
    assert chat_deliveries(rig.client) == []
    rig.connect_at(0.7, rig.last_ack)  # no ack seen: still -1
    rig.kernel.run_until(1.0)
    assert [i for _, i in chat_deliveries(rig.client)] == [1, 2]
    assert rig.last_ack() == 0


def test_crash_then_restore_on_another_instance() -> None:
    rig = Rig()
    start_chat(rig)
    rig.kernel.run_until(0.5)
    chat = rig.chat_result("requestChat")

    def crash() -> None:
        rig.cluster.crash("i1", rig.kernel.now)
        rig.pump()

    rig.at(1.0, crash)
    rig.agent_says_at(1.5, chat["chatId"], "are you there?")
    rig.at(2.0, rig.net.connect, "c1", "i2")
    rig.handshake_at(2.1)
    keys = {"chatId": chat["chatId"], "secureKey": chat["secureKey"]}
    rig.chat_at(2.2, "requestNotifications", lambda: {**keys, "transcriptPosition": 2})
    rig.connect_at(2.3, lambda: -1)
    rig.kernel.run_until(3.0)
    assert rig.client.closed and rig.client.closed[0][1] == "crash"
    assert rig.chat_result("requestNotifications") == {
        "instance": "i2",
        "position": 3,
        "replayed": 1,
    }
    t, index = chat_deliveries(rig.client)[-1]
    assert index == 3 and t == pytest.approx(2.3 + 2 * L)
