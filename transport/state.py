"""Saved client state: the cookie a page keeps to restore its chat.

The protocol is in docs/ARCHITECTURE.md, "The chat protocol in detail".

`SavedState` is `{chatId, secureKey, instance, position, servers}`: which chat,
its secret, the Chat Server instance that served it last, the last transcript
index the application received, and the instances to try (failover order).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from statecharts.errors import BadInput

_KEYS = ("chatId", "secureKey", "instance", "position", "servers")


@dataclass(frozen=True)
class SavedState:
    chat_id: str
    secure_key: str
    instance: str
    position: int
    servers: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "chatId": self.chat_id,
            "secureKey": self.secure_key,
            "instance": self.instance,
            "position": self.position,
            "servers": list(self.servers),
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"), sort_keys=False)

    @classmethod
    def from_json(cls, text: str, source: str = "cookie") -> SavedState:
        """Parse a cookie; BadInput names the field that is wrong."""
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            raise BadInput(source, "a JSON object", got=text) from None
        if not isinstance(value, dict):
            raise BadInput(source, "a JSON object", got=value)
        return cls.from_dict(value, source)

    @classmethod
    def from_dict(cls, value: dict[str, Any], source: str = "cookie") -> SavedState:
        missing = [k for k in _KEYS if k not in value]
        if missing:
            raise BadInput(source, "a value", field=missing[0])
        for key in ("chatId", "secureKey", "instance"):
            if not isinstance(value[key], str) or not value[key]:
                raise BadInput(source, "a non-empty string", field=key, got=value[key])
        position = value["position"]
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            raise BadInput(source, "an integer >= 0", field="position", got=position)
        servers = value["servers"]
        if not isinstance(servers, list) or not all(isinstance(s, str) and s for s in servers):
            raise BadInput(source, "a list of instance names", field="servers", got=servers)
        return cls(value["chatId"], value["secureKey"], value["instance"], position, tuple(servers))
