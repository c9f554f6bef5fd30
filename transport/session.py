"""The chat session layer: the chat a client holds, its transcript order, its outbox.

`Transcript` turns transcript deliveries that may arrive twice, late or out of
order (replays after a reload, re-sent batches, reordering) into the one
in-order stream the application sees: an index at or below the position is
dropped, an index past a gap waits until the gap is filled.

`Outbox` keeps every client message until the server acknowledged it (or it is
reported failed), so reconnects and restores can re-send it; the server
de-duplicates by client message id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transport.replies import TranscriptItem
from transport.wire import chat_channel


@dataclass
class Chat:
    chat_id: str
    secure_key: str
    channel: str = field(init=False)  # where its transcript is delivered

    def __post_init__(self) -> None:
        self.channel = chat_channel(self.chat_id)

    def params(self) -> dict[str, Any]:
        return {"chatId": self.chat_id, "secureKey": self.secure_key}

    def message_params(self, text: str, message_id: str) -> dict[str, Any]:
        """`params()` of a sendMessage, in one dict (one per application message)."""
        return {
            "chatId": self.chat_id,
            "secureKey": self.secure_key,
            "text": text,
            "clientMessageId": message_id,
        }


@dataclass
class Transcript:
    position: int = 0  # last index the application received
    waiting: dict[int, TranscriptItem] = field(default_factory=dict)

    def accept(self, item: TranscriptItem, index: int) -> list[TranscriptItem]:
        """Take one delivery (its `index`); return the events now deliverable, in order."""
        if index == self.position + 1 and not self.waiting:
            self.position = index  # the common case: the next one, nothing waiting
            return [item]
        if index <= self.position or index in self.waiting:
            return []
        self.waiting[index] = item
        ready: list[TranscriptItem] = []
        while self.position + 1 in self.waiting:
            ready.append(self.waiting.pop(self.position + 1))
            self.position += 1
        return ready

    @property
    def has_gap(self) -> bool:
        return bool(self.waiting)

    def forget_waiting(self) -> None:
        self.waiting.clear()


@dataclass
class Outbox:
    """Client messages not yet acknowledged, in the order the application sent them."""

    texts: dict[str, str] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)

    def add(self, message_id: str, text: str) -> None:
        self.texts[message_id] = text

    def unsent(self) -> list[tuple[str, str]]:
        return [(mid, text) for mid, text in self.texts.items() if mid not in self.in_flight]

    def sent(self, message_id: str) -> None:
        self.in_flight.add(message_id)

    def unsend(self, message_id: str) -> None:
        """Refused for now (rate limit, redirect, challenge): sent again later."""
        self.in_flight.discard(message_id)

    def settle(self, message_id: str) -> bool:
        """Acknowledged or failed: True if it was still outstanding."""
        self.in_flight.discard(message_id)
        return self.texts.pop(message_id, None) is not None

    def connection_gone(self) -> None:
        self.in_flight.clear()
