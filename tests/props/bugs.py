"""Known bugs planted in subclasses of the transport core (the oracles must catch them).

Most bugs rewrite what the core tells the application (`take_events`, the
public output), so they do not depend on the core's insides; `InterruptsEarly`
halves the core's own timer settings.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from statecharts.catalog import ErrorCode
from statecharts.events import AppEvent, EventError, Interrupted, Message, Restored, StateChanged
from transport.core import ClientCore

Events = list[tuple[float, AppEvent]]


class ContinuedWithoutInterrupted(ClientCore):
    """Never tells the application `interrupted` (nor its 150), yet says `continued`."""

    def take_events(self) -> Events:
        return [
            (t, e)
            for t, e in super().take_events()
            if not isinstance(e, Interrupted)
            and not (isinstance(e, EventError) and e.code == ErrorCode.NETWORK_INTERRUPTED)
        ]


class ReplayDeliveredTwice(ClientCore):
    """Messages replayed after a restore reach the application twice."""

    replay_upto: int = -1
    replay_from: int = 0

    def take_events(self) -> Events:
        out: Events = []
        for t, e in super().take_events():
            out.append((t, e))
            if isinstance(e, Restored):
                self.replay_from, self.replay_upto = e.position, e.position + e.replayed
            elif _inbound(e) and self.replay_from < _index(e) <= self.replay_upto:
                out.append((t, e))
        return out


class Error150Twice(ClientCore):
    """Emits the legacy error 150 twice with each interruption."""

    def take_events(self) -> Events:
        out: Events = []
        for t, e in super().take_events():
            out.append((t, e))
            if isinstance(e, EventError) and e.code == ErrorCode.NETWORK_INTERRUPTED:
                out.append((t, e))
        return out


class InvalidReplyTwice(ClientCore):
    """Reports each invalid server reply (error 151) twice."""

    def take_events(self) -> Events:
        out: Events = []
        for t, e in super().take_events():
            out.append((t, e))
            if isinstance(e, EventError) and e.code == ErrorCode.INVALID_RESPONSE:
                out.append((t, e))
        return out


class InterruptsEarly(ClientCore):
    """Times interruptions with half the configured interrupt_after."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timers = replace(self.timers, interrupt_after=self.timers.interrupt_after / 2)


class LosesMessageOnFailover(ClientCore):
    """Drops the first transcript event that arrives after a failover."""

    armed: bool = False

    def take_events(self) -> Events:
        out: Events = []
        for t, e in super().take_events():
            if isinstance(e, StateChanged) and e.trigger == "failover":
                self.armed = True
            elif self.armed and _inbound(e):
                self.armed = False
                continue
            out.append((t, e))
        return out


def _inbound(e: AppEvent) -> bool:
    return isinstance(e, Message) and e.direction == "in" and e.index is not None


def _index(e: AppEvent) -> int:
    assert isinstance(e, Message) and e.index is not None
    return e.index
