"""`GET /chatsim/status`: what the control page shows, as one JSON value.

    {"now": 12.3, "instances": ["i1"], "trace_dir": "traces" | null,
     "sessions": [{"session", "state", "chatId", "instance", "counters", "last_seen",
                   "records", "truncated", "trace", "file"}],
     "chats": [{"chatId", "instance", "position", "acks", "ended"}],
     "faults": [{"id", "fault", "state": "scheduled" | "active" | "ended"}]}

Lists are bounded: the newest `MAX_ROWS` chats and faults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.live.tracebook import SessionLog, TraceBook

MAX_ROWS = 100


def build_status(
    book: TraceBook,
    now: float,
    instances: list[str],
    board: list[dict[str, Any]],
    trace_dir: Path | None,
) -> dict[str, Any]:
    """`board`: the fault board's listing (`{"id", "active", "fault"}` per fault)."""
    return {
        "now": round(now, 3),
        "instances": instances,
        "trace_dir": None if trace_dir is None else str(trace_dir),
        "sessions": [_session(book, log, trace_dir) for log in book.sessions.values()],
        "chats": [
            {
                "chatId": c.chat_id,
                "instance": c.instance,
                "position": c.position,
                "acks": c.acks,
                "ended": c.ended,
            }
            for c in list(book.chats.values())[-MAX_ROWS:]
        ],
        "faults": _faults(book, board),
    }


def _session(book: TraceBook, log: SessionLog, trace_dir: Path | None) -> dict[str, Any]:
    chat_id = log.chats[-1] if log.chats else None
    chat = book.chats.get(chat_id) if chat_id is not None else None
    return {
        "session": log.id,
        "state": log.state,
        "chatId": chat_id,
        "instance": chat.instance if chat is not None else None,
        "counters": dict(log.counters),
        "last_seen": round(log.last_seen, 3),
        "records": len(log.records),
        "truncated": log.truncated,
        "trace": f"/chatsim/trace/{log.id}",
        "file": None if trace_dir is None else str(trace_dir / f"{log.id}.jsonl"),
    }


def _faults(book: TraceBook, board: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    for span in book.faults.values():
        state = "ended" if span.end is not None else "active"
        rows[span.id] = {"id": span.id, "fault": span.fault, "state": state}
    for posted in board:  # on the board: scheduled or running
        state = "active" if posted.get("active") else "scheduled"
        rows[int(posted["id"])] = {"id": posted["id"], "fault": posted["fault"], "state": state}
    ordered = sorted(rows.values(), key=lambda row: (row["state"] == "ended", -int(row["id"])))
    return ordered[:MAX_ROWS]
