"""What the live server's parts share: its log, limits, fault kinds, `Conn` and `LiveListener`.

Split out of `sim.live.server` (which re-exports these names) so that the
server's transport handlers (`sim.live.server_transports`) and fault control
(`sim.live.server_faults`) can use them without importing the server.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from sim.fault_engine import Link
from sim.live import browsers as bx
from sim.live.guard import SendQueue
from sim.live.limits import DEFAULT_LIMITS
from sim.server.outputs import ServerEvent
from statecharts.faults import BEHAVIOUR_KINDS

log = logging.getLogger("chatsim.live")

MAX_FRAME_BYTES = DEFAULT_LIMITS.max_frame
# A long-poll request nobody answers (blackholed) is cut after this long.
POLL_LIMIT = 90.0
_CLUSTER_KINDS = frozenset({"crash", "expire", "not_ready", "command_error", "slow"})
SERVER_KINDS = _CLUSTER_KINDS | BEHAVIOUR_KINDS
# Faults that act once when they start (the cluster counts command errors itself).
INSTANT_KINDS = frozenset({"expire", "command_error"}) | (BEHAVIOUR_KINDS - {"redirect"})


class LiveListener(Protocol):
    """Told what the server core reports and when faults start and end (per-session traces)."""

    def server_events(self, events: list[ServerEvent]) -> None: ...
    def fault_started(self, fault_id: int, fault: dict[str, Any], now: float) -> None: ...
    def fault_ended(self, fault_id: int, now: float) -> None: ...


@dataclass(eq=False, slots=True)
class Conn:
    """One core connection: a WebSocket, or one long-poll request (slots: thousands live)."""

    id: str
    instance: str
    peer: str
    client_id: str | None = None
    chat_id: str | None = None
    ws: web.WebSocketResponse | None = None
    transport: asyncio.BaseTransport | None = None
    outbox: SendQueue | None = None
    reply: asyncio.Future[str | None] | None = None
    closing: bool = False
    browser: bx.BrowserId | None = None
    multi: bool = False  # a long-poll connect from a browser whose other tab holds one
    closer: asyncio.Task[None] | None = None  # the close handshake under way
    retry_after: float | None = None  # its reply refuses a rate-limited command (HTTP 429)

    @property
    def names(self) -> tuple[str, ...]:
        """What a fault's `client` may name: the Bayeux clientId or the chatId."""
        return tuple(n for n in (self.client_id, self.chat_id) if n is not None)

    @property
    def link(self) -> Link:
        return Link(self.id, self.instance, client=self.client_id, chat=self.chat_id)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)
