"""Fault windows and session whereabouts, read from a trace's `fault` and server records.

A window is one fault from its `fault.start` to its end: `start + duration`
when the fault has a duration, else its `fault.end` record, else open (it
lasts past the end of the trace).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from statecharts.trace import TraceRecord


@dataclass(frozen=True)
class FaultWindow:
    kind: str
    start: float
    end: float  # math.inf while open
    fault: dict[str, Any]
    line: int

    @property
    def length(self) -> float:
        return self.end - self.start

    def names(self, key: str) -> str | None:
        value = self.fault.get(key)
        return value if isinstance(value, str) else None


def fault_windows(records: Sequence[TraceRecord]) -> list[FaultWindow]:
    out: list[FaultWindow] = []
    ends = [r for r in records if r.kind == "fault.end" and isinstance(r.data.get("fault"), dict)]
    for rec in records:
        fault = rec.data.get("fault")
        if rec.kind != "fault.start" or rec.src != "fault" or not isinstance(fault, dict):
            continue
        kind = str(fault.get("kind", ""))
        duration = fault.get("duration")
        if isinstance(duration, int | float) and not isinstance(duration, bool):
            end = rec.t + float(duration)
        else:
            end = next((e.t for e in ends if e.t >= rec.t and e.data["fault"] == fault), math.inf)
        out.append(FaultWindow(kind, rec.t, end, fault, rec.line))
    return out


@dataclass(frozen=True)
class Whereabouts:
    """Which instance served each chat over time (`session.start` / `session.move`)."""

    moves: dict[str, list[tuple[float, str]]]

    @classmethod
    def of(cls, records: Sequence[TraceRecord]) -> Whereabouts:
        moves: dict[str, list[tuple[float, str]]] = {}
        for rec in records:
            chat = rec.data.get("chatId")
            if not rec.src.startswith("server:") or not isinstance(chat, str):
                continue
            if rec.kind == "session.start":
                moves.setdefault(chat, []).append((rec.t, rec.src[len("server:") :]))
            elif rec.kind == "session.move" and isinstance(rec.data.get("to"), str):
                moves.setdefault(chat, []).append((rec.t, rec.data["to"]))
        return cls(moves)

    def instance_at(self, chat: str | None, t: float) -> str | None:
        """The instance serving `chat` just before `t` (None: unknown)."""
        where = None
        for at, instance in self.moves.get(chat or "", ()):
            if at >= t:
                break
            where = instance
        return where

    @property
    def chats(self) -> frozenset[str]:
        return frozenset(self.moves)
