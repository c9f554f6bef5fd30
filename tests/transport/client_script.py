"""A scripted server for unit tests of the client core: read what it sent, answer by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from statecharts.events import AppEvent, EventError, StateChanged
from transport import wire
from transport.core import ClientConfig, ClientCore, OpenConnection, Output, SendFrame

Msg = dict[str, Any]


@dataclass
class Script:
    core: ClientCore
    outputs: list[Output] = field(default_factory=list)
    events: list[tuple[float, AppEvent]] = field(default_factory=list)
    sent: list[Msg] = field(default_factory=list)

    @classmethod
    def new(
        cls, config: ClientConfig | None = None, servers: tuple[str, ...] = ("i1", "i2")
    ) -> Script:
        return cls(ClientCore("c1", config or ClientConfig(), servers))

    def pump(self) -> None:
        for out in self.core.take_outputs():
            self.outputs.append(out)
            if isinstance(out, SendFrame):
                self.sent.extend(json.loads(out.text))
        self.events.extend(self.core.take_events())

    # -- reading what the client did ------------------------------------------------
    def take_sent(self) -> list[Msg]:
        self.pump()
        out, self.sent = self.sent, []
        return out

    def last(self, channel: str, operation: str | None = None) -> Msg:
        self.pump()
        for msg in reversed(self.sent):
            if msg["channel"] != channel:
                continue
            if operation is None or msg.get("data", {}).get("operation") == operation:
                return msg
        raise AssertionError(f"no {channel} {operation or ''} sent; sent: {self.sent}")

    def opens(self) -> list[str]:
        self.pump()
        return [o.instance for o in self.outputs if isinstance(o, OpenConnection)]

    def kinds(self) -> list[str]:
        self.pump()
        return [e.kind for _, e in self.events]

    def of(self, kind: str) -> list[tuple[float, AppEvent]]:
        self.pump()
        return [(t, e) for t, e in self.events if e.kind == kind]

    def states(self) -> list[str]:
        self.pump()
        return [e.to for _, e in self.events if isinstance(e, StateChanged)]

    # -- answering -----------------------------------------------------------------
    def feed(self, messages: list[Msg] | str, now: float) -> None:
        text = messages if isinstance(messages, str) else wire.encode(messages)
        self.core.frame_received(text, now)
        self.pump()

    def handshake_ok(self, now: float, client_id: str = "b1") -> None:
        self.pump()
        hs = self.last(wire.META_HANDSHAKE)
        self.feed([handshake_reply(hs["id"], client_id)], now)

    def answer(self, request: Msg, now: float, **data: Any) -> None:
        self.feed([service_reply(request, **data)], now)

    def open_chat(self, now: float = 0.0, chat_id: str = "k1") -> None:
        """start -> handshake -> requestChat -> ready."""
        self.core.start(now)
        self.core.connection_made(now)
        self.handshake_ok(now)
        first = self.last(wire.META_CONNECT)  # asks not to be held: answered at once
        self.feed([connect_reply(first["id"])], now)
        login = self.last(wire.SERVICE_CHAT, "requestChat")
        result = {"chatId": chat_id, "secureKey": "s1", "instance": "i1", "position": 0}
        self.answer(login, now, result=result)
        sub = self.last(wire.META_SUBSCRIBE)
        self.feed([{"channel": wire.META_SUBSCRIBE, "successful": True, "id": sub["id"]}], now)


def handshake_reply(ident: str, client_id: str = "b1", hold_ms: int = 30000) -> Msg:
    return {
        "channel": wire.META_HANDSHAKE,
        "successful": True,
        "clientId": client_id,
        "version": "1.0",
        "supportedConnectionTypes": ["websocket", "long-polling"],
        "id": ident,
        "advice": {"reconnect": "retry", "interval": 0, "timeout": hold_ms},
        "ext": {"ack": True},
    }


def connect_reply(ident: str, batch: int | None = None, **extra: Any) -> Msg:
    msg: Msg = {"channel": wire.META_CONNECT, "successful": True, "id": ident, **extra}
    if batch is not None:
        msg["ext"] = {"ack": batch}
    return msg


def service_reply(request: Msg, **data: Any) -> Msg:
    operation = request["data"]["operation"]
    return {
        "channel": wire.SERVICE_CHAT,
        "id": request["id"],
        "successful": True,
        "data": {"operation": operation, **data},
    }


def delivery(chat_id: str, index: int, text: str = "hi", party: str = "agent", **extra: Any) -> Msg:
    data = {"index": index, "type": "Message", "party": party, "text": text, **extra}
    return {"channel": wire.chat_channel(chat_id), "data": data}


def ready_script(**config: object) -> Script:
    script = Script.new(ClientConfig(**config) if config else None)  # type: ignore[arg-type]
    script.open_chat(0.0)
    return script


def errors(script: Script) -> list[tuple[float, int]]:
    return [(t, e.code) for t, e in script.of("error") if isinstance(e, EventError)]
