"""How the `corrupt` fault edits a frame's text (the fault engine uses it everywhere).

Deterministic: the same frame and mode always give the same bytes, so a
corrupted run stays reproducible without drawing random numbers.
"""

from __future__ import annotations

import json
from typing import Any

from statecharts.faults import CorruptMode

# What a proxy in the way answers when the backend is gone: not JSON at all.
NOT_JSON = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def corrupt_frame(text: str, mode: CorruptMode) -> str:
    if mode is CorruptMode.INVALID_JSON:
        return NOT_JSON
    if mode is CorruptMode.TRUNCATED:
        return truncate(text)
    return wrong_shape(text)


def truncate(text: str) -> str:
    """Cut the text in half; a non-empty prefix of a JSON array never parses."""
    return text[: len(text) // 2]


def wrong_shape(text: str) -> str:
    """Valid JSON that fails Bayeux validation.

    If some message has a boolean `successful`, it becomes a string (the
    envelope still looks right, so the deeper check must catch it); otherwise
    every message loses its `channel`. Text that is not a list of objects
    becomes an object where a list belongs.
    """
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list) or not value or not all(isinstance(m, dict) for m in value):
        return json.dumps({"unexpected": "object"}, separators=(",", ":"))
    messages: list[dict[str, Any]] = value
    if any(isinstance(m.get("successful"), bool) for m in messages):
        out = [
            {**m, "successful": str(m["successful"]).lower()}
            if isinstance(m.get("successful"), bool)
            else m
            for m in messages
        ]
    else:
        out = [{k: v for k, v in m.items() if k != "channel"} for m in messages]
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)
