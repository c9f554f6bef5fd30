"""Hand-written live traces (the shared live format) and ways to break them."""

from __future__ import annotations

import json
from typing import Any

HEADER = {
    "kind": "run",
    "scenario": "live:s1",
    "seed": 0,
    "version": 1,
    "clock": "wall",
    "interrupt_after": 3.0,
    "interruption_error": True,
    "tolerance": 0.5,
}
E150 = {"code": 150, "description": "Network connection interrupted"}
OUTAGE = {"kind": "outage", "at": 10.0, "duration": 5.0}


def c(t: float, kind: str, **fields: Any) -> dict[str, Any]:
    return {"t": t, "src": "client:s1", "kind": kind, **fields}


def s(t: float, kind: str, instance: str = "i1", **fields: Any) -> dict[str, Any]:
    return {"t": t, "src": f"server:{instance}", "kind": kind, **fields}


def f(t: float, kind: str, fault: dict[str, Any]) -> dict[str, Any]:
    return {"t": t, "src": "fault", "kind": kind, "fault": fault}


# A page that chats, rides out a 5 s outage (interrupted at loss + 3 s, within
# the 0.5 s tolerance), receives what it missed, and ends.
OUTAGE_SESSION: list[dict[str, Any]] = [
    s(1.0, "session.start", chatId="chat-1"),
    s(1.0, "transcript", chatId="chat-1", index=1, party="client"),
    c(1.05, "chat", chatId="chat-1"),
    c(1.05, "ready"),
    c(1.1, "message", direction="in", index=1, party="client"),
    c(2.0, "message", direction="out", id="m1", text="hi"),
    s(2.02, "transcript", chatId="chat-1", index=2, party="client", id="m1"),
    s(2.02, "acked", chatId="chat-1", id="m1", index=2),
    c(2.05, "ack", id="m1", index=2),
    c(2.06, "message", direction="in", index=2, party="client", id="m1"),
    s(4.0, "transcript", chatId="chat-1", index=3, party="agent"),
    c(4.02, "message", direction="in", index=3, party="agent"),
    f(10.0, "fault.start", OUTAGE),
    s(11.0, "transcript", chatId="chat-1", index=4, party="agent"),
    c(13.1, "interrupted"),
    c(13.1, "error", **E150),
    f(15.0, "fault.end", OUTAGE),
    c(16.2, "continued", duration=6.2),
    c(16.25, "message", direction="in", index=4, party="agent"),
    c(20.0, "ended"),
    s(20.1, "session.end", chatId="chat-1", reason="disconnect"),
]

CRASH = {"kind": "crash", "at": 10.0, "duration": 30.0, "instance": "i1"}
# The serving instance crashes; the page fails over and restores on i2 within 1.2 s.
CRASH_SESSION: list[dict[str, Any]] = [
    s(1.0, "session.start", chatId="chat-7"),
    s(1.0, "transcript", chatId="chat-7", index=1, party="client"),
    c(1.05, "ready", chatId="chat-7"),
    c(1.1, "message", direction="in", index=1, party="client"),
    f(10.0, "fault.start", CRASH),
    s(10.5, "transcript", chatId="chat-7", index=2, party="agent", instance="i2"),
    c(11.0, "error", code=100, description="Chat Server is not available"),
    s(11.2, "session.move", chatId="chat-7", **{"from": "i1", "to": "i2"}, instance="i2"),
    c(11.2, "restored", instance="i2", position=1, replayed=1),
    c(11.25, "message", direction="in", index=2, party="agent"),
    c(12.0, "message", direction="out", id="m1"),
    s(12.01, "transcript", chatId="chat-7", index=3, party="client", id="m1", instance="i2"),
    c(12.05, "ack", id="m1", index=3),
    c(12.06, "message", direction="in", index=3, party="client", id="m1"),
]


def text(records: list[dict[str, Any]], header: dict[str, Any] | None = None) -> str:
    lines = [header or HEADER, *records]
    return "".join(json.dumps(line) + "\n" for line in lines)


def without(records: list[dict[str, Any]], **match: Any) -> list[dict[str, Any]]:
    """The records minus those whose fields all equal `match`."""
    return [r for r in records if not all(r.get(k) == v for k, v in match.items())]


def changed(
    records: list[dict[str, Any]], match: dict[str, Any], **fields: Any
) -> list[dict[str, Any]]:
    out = []
    for r in records:
        hit = all(r.get(k) == v for k, v in match.items())
        out.append({**r, **fields} if hit else r)
    return out


def plus(records: list[dict[str, Any]], *extra: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted([*records, *extra], key=lambda r: float(r["t"]))
