"""Application events (what a chat transport tells its application).

Each event is a frozen dataclass with a `kind` that names it in traces
(docs/REFERENCE.md, "Trace files"). `fields()` gives the trace fields in a
fixed order, so that equal runs write equal bytes; `event_from_fields` is its
inverse for the kinds an application sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import fields as dc_fields
from enum import StrEnum
from typing import Any, ClassVar

from statecharts.catalog import describe
from statecharts.values import quick_init_all


@dataclass(frozen=True)
class AppEvent:
    kind: ClassVar[str] = ""

    def fields(self) -> dict[str, Any]:
        """Trace fields in declaration order; None-valued optionals are left out."""
        layout = _LAYOUTS.get(type(self))
        if layout is None:
            layout = _LAYOUTS[type(self)] = _layout(type(self))
        out: dict[str, Any] = {}
        for name, wire, optional in layout:
            value = getattr(self, name)
            if value is None and optional:
                continue
            out[wire] = value
        return out


# Per event class: (attribute, trace name, None-default) for each field, in
# declaration order. Computed once: fields() runs for every traced event.
_LAYOUTS: dict[type[AppEvent], tuple[tuple[str, str, bool], ...]] = {}


def _layout(cls: type[AppEvent]) -> tuple[tuple[str, str, bool], ...]:
    return tuple(
        (f.name, f.metadata.get("wire", f.name), f.default is None) for f in dc_fields(cls)
    )


@dataclass(frozen=True)
class StateChanged(AppEvent):
    kind: ClassVar[str] = "state"
    from_: str = field(metadata={"wire": "from"})
    to: str
    trigger: str


@dataclass(frozen=True)
class Ready(AppEvent):
    kind: ClassVar[str] = "ready"
    chat_id: str | None = field(default=None, metadata={"wire": "chatId"})


@dataclass(frozen=True)
class Interrupted(AppEvent):
    kind: ClassVar[str] = "interrupted"


@dataclass(frozen=True)
class Continued(AppEvent):
    kind: ClassVar[str] = "continued"
    duration: float


@dataclass(frozen=True)
class EventError(AppEvent):
    """The EventError of the chat API: {code, description, data}."""

    kind: ClassVar[str] = "error"
    code: int
    description: str
    data: dict[str, Any] | None = None

    @classmethod
    def of(cls, code: int, data: dict[str, Any] | None = None) -> EventError:
        return cls(int(code), describe(code), data)


@dataclass(frozen=True)
class Restored(AppEvent):
    kind: ClassVar[str] = "restored"
    instance: str
    position: int
    replayed: int


class MessageDirection(StrEnum):
    IN = "in"  # a transcript event reached the application
    OUT = "out"  # the application sent a message


@dataclass(frozen=True)
class Message(AppEvent):
    """A transcript event: `in` reached the application, `out` was sent by it."""

    kind: ClassVar[str] = "message"
    direction: MessageDirection
    index: int | None = None
    id: str | None = None
    party: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class Ended(AppEvent):
    kind: ClassVar[str] = "ended"
    reason: str | None = None


APP_EVENT_TYPES: dict[str, type[AppEvent]] = {
    t.kind: t
    for t in (StateChanged, Ready, Interrupted, Continued, EventError, Restored, Message, Ended)
}
APP_KINDS = frozenset(APP_EVENT_TYPES)


def event_from_fields(kind: str, data: dict[str, Any]) -> AppEvent:
    """Rebuild a typed event from validated trace fields."""
    cls = APP_EVENT_TYPES[kind]
    kwargs: dict[str, Any] = {}
    for f in dc_fields(cls):
        wire = f.metadata.get("wire", f.name)
        if wire in data:
            kwargs[f.name] = data[wire]
    if cls is Message:
        kwargs["direction"] = MessageDirection(kwargs["direction"])
    return cls(**kwargs)


# -- diagnostic events: in traces, not shown to the application -------------
@dataclass(frozen=True)
class Loss(AppEvent):
    """The transport observed a failure (starts an outage if none is running)."""

    kind: ClassVar[str] = "loss"
    reason: str


@dataclass(frozen=True)
class Acked(AppEvent):
    """The server acknowledged a client message: it sits at `index`."""

    kind: ClassVar[str] = "ack"
    id: str
    index: int


@dataclass(frozen=True)
class SendFailed(AppEvent):
    """A client message that will not be delivered, reported to the application."""

    kind: ClassVar[str] = "send_failed"
    id: str
    code: int


@dataclass(frozen=True)
class CommandDone(AppEvent):
    """The outcome of a chat command: `result` on success, `error` (code) on failure."""

    kind: ClassVar[str] = "command"
    id: str
    operation: str
    ok: bool
    result: dict[str, Any] | None = None
    code: int | None = None


# Pure Python only (a compiled build's classes are built natively already).
quick_init_all(
    StateChanged,
    Ready,
    Continued,
    EventError,
    Restored,
    Message,
    Ended,
    Loss,
    Acked,
    SendFailed,
    CommandDone,
)
