"""Live-format traces generated from simulated runs (what a recorder would write).

The page's lines are the client's events; the server's truth lines are the
world's accepted transcript, each placed just before the client first
received it (or at the session's start when it never did).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.runner import play
from sim.scenario import load_scenario

EXAMPLES = Path(__file__).parents[2] / "examples"
PAGE_KINDS = frozenset(
    {"state", "ready", "interrupted", "continued", "error", "restored", "message", "ack"}
    | {"send_failed", "ended"}
)
SERVER_KINDS = frozenset({"session.start", "session.move", "session.end"})


def live_lines(example: str, client: str = "c1") -> list[dict[str, Any]]:
    """A live trace (header first) of one client of an example scenario."""
    world = play(load_scenario(EXAMPLES / example))
    src = f"client:{client}"
    lines: list[dict[str, Any]] = []
    first_seen: dict[int, float] = {}
    started = 0.0
    for rec in world.records:
        body = {"t": rec.t, "src": rec.src, "kind": rec.kind, **rec.data}
        if rec.src == src and rec.kind in PAGE_KINDS:
            lines.append(body)
            if rec.kind == "message" and rec.data.get("direction") == "in":
                first_seen.setdefault(int(rec.data["index"]), rec.t)
        elif rec.src == "fault" or (rec.src.startswith("server:") and rec.kind in SERVER_KINDS):
            lines.append(body)
            if rec.kind == "session.start":
                started = rec.t
    chat = world.client(client).view.chat_id
    assert chat is not None
    for event in world.accepted(chat):
        truth: dict[str, Any] = {"chatId": chat, "index": event.index, "party": event.party}
        if event.client_message_id is not None:
            truth["id"] = event.client_message_id
        at = round(first_seen.get(event.index, started + 0.001) - 0.001, 6)
        lines.append({"t": at, "src": "server:i1", "kind": "transcript", **truth})
    lines.sort(key=lambda line: float(line["t"]))
    header = {
        "kind": "run",
        "scenario": f"live:{client}",
        "seed": 0,
        "version": 1,
        "clock": "wall",
        "interrupt_after": world.client(client).spec.interrupt_after,
        "interruption_error": world.client(client).spec.interruption_error,
        "tolerance": 0.25,
    }
    return [header, *lines]


def write(lines: list[dict[str, Any]], path: Path) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path
