"""Chat sessions and the store that keeps them, shared by every instance of a cluster.

The store is an interface so that a live deployment could keep sessions
elsewhere; `MemoryStore` is the in-process implementation. Callers `put` a
session back after changing it, so an implementation that copies is correct.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from statecharts.values import quick_init_all


@dataclass(frozen=True, slots=True)
class TranscriptEvent:
    """One indexed transcript entry (delivered as `data` on /chat/<chatId>).

    A value: never changed once made (not `frozen`, whose checked `__init__` made it
    three times slower to build, once per transcript event on the hot path)."""

    index: int
    type: str
    party: str
    text: str | None = None
    client_message_id: str | None = None

    def __init__(
        self,
        index: int,
        type: str,
        party: str,
        text: str | None = None,
        client_message_id: str | None = None,
    ) -> None:
        # Written out so that the compiled build makes it natively (quick_init
        # stands in for it in pure Python).
        object.__setattr__(self, "index", index)
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "party", party)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "client_message_id", client_message_id)

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"index": self.index, "type": self.type, "party": self.party}
        if self.text is not None:
            data["text"] = self.text
        if self.client_message_id is not None:
            data["clientMessageId"] = self.client_message_id
        return data


@dataclass(slots=True)
class StoredChat:
    chat_id: str
    secure_key: str
    nickname: str
    instance: str  # the instance that serves it now (requestChat, then requestNotifications)
    last_contact: float
    transcript: list[TranscriptEvent] = field(default_factory=list)
    # clientMessageId -> transcript index, for de-duplication of sendMessage
    message_ids: dict[str, int] = field(default_factory=dict)
    agent_joined: bool = False
    chars: int = 0  # text in the transcript, for its bound

    @property
    def position(self) -> int:
        """Index of the last transcript event (0 when empty)."""
        return len(self.transcript)

    def append(
        self, type_: str, party: str, text: str | None = None, client_message_id: str | None = None
    ) -> TranscriptEvent:
        transcript = self.transcript
        event = TranscriptEvent(len(transcript) + 1, type_, party, text, client_message_id)
        transcript.append(event)
        if text is not None:
            self.chars += len(text)
        if client_message_id is not None:
            self.message_ids[client_message_id] = event.index
        return event

    def since(self, position: int) -> list[TranscriptEvent]:
        return self.transcript[position:]


class SessionStore(Protocol):
    def get(self, chat_id: str) -> StoredChat | None: ...
    def put(self, session: StoredChat) -> None: ...
    def delete(self, chat_id: str) -> None: ...
    def iterate(self) -> Iterator[StoredChat]: ...
    def touch(self, chat_id: str, now: float) -> None: ...
    def __len__(self) -> int: ...


class MemoryStore:
    """Sessions in a dict, in creation order."""

    def __init__(self) -> None:
        self._sessions: dict[str, StoredChat] = {}

    def get(self, chat_id: str) -> StoredChat | None:
        return self._sessions.get(chat_id)

    def put(self, session: StoredChat) -> None:
        self._sessions[session.chat_id] = session

    def delete(self, chat_id: str) -> None:
        self._sessions.pop(chat_id, None)

    def iterate(self) -> Iterator[StoredChat]:
        return iter(list(self._sessions.values()))

    def touch(self, chat_id: str, now: float) -> None:
        session = self._sessions.get(chat_id)
        if session is not None and now > session.last_contact:
            session.last_contact = now

    def __len__(self) -> int:
        return len(self._sessions)


# Pure Python only (a compiled build's classes are built natively already).
quick_init_all(TranscriptEvent)
