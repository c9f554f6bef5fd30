"""What a server instance hands to its driver: frames to send and connections to drop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    """Send `text` (one Bayeux frame) on connection `conn_id`."""

    conn_id: str
    text: str


@dataclass(frozen=True)
class Drop:
    """Close connection `conn_id` from the server side."""

    conn_id: str
    reason: str


Output = Reply | Drop
# (t, src "server:<instance>", kind, fields): the shape of `Cluster.take_events()`.
ServerEvent = tuple[float, str, str, dict[str, Any]]
