"""The live server's resource limits: one frozen value, with the defaults users read in SECURITY.md.

Every growable thing an unauthenticated client can make the server hold has
a bound here; `chatsim serve` exposes each as a flag (`FLAGS`). Defaults fit
a developer's laptop and a browser test suite: generous for real clients,
small enough that one hostile page cannot exhaust memory or file descriptors.
"""

from __future__ import annotations

import math
import resource
from dataclasses import dataclass, fields, replace

from statecharts.errors import UsageError

# Leave room for the log, the listening socket, imports and the odd file.
_SPARE_FDS = 64
MAX_DEPTH = 500
# A dialect whose messages may outgrow a frame (LiveChat: 10 MB) raises the frame
# limit to one such message plus its Bayeux envelope, never past MAX_PROFILE_FRAME,
# and lowers max_connections so that every connection reading a whole frame while
# its send queue is full stays under PROFILE_MEMORY.
MAX_PROFILE_FRAME = 16 * 1024 * 1024
ENVELOPE = 64 * 1024
PROFILE_MEMORY = 1024 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_frame: int = 64 * 1024
    """Bytes of one WebSocket frame or one long-poll body (1009 / HTTP 413 beyond)."""
    max_depth: int = 32
    """Nesting of JSON arrays and objects in one frame."""
    send_queue: int = 1024 * 1024
    """Bytes queued for a WebSocket client that does not read; beyond it, close 1008."""
    max_connections: int = 1000
    """Open TCP connections; further ones get HTTP 503 and are closed."""
    idle_timeout: float = 60.0
    """Seconds a connection may sit without a complete request head (idle or
    slowloris), and beyond the long-poll hold a WebSocket may stay silent."""
    body_timeout: float = 10.0
    """Seconds to receive a long-poll body once its head has arrived (HTTP 408)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (math.isfinite(value) and value > 0):
                raise UsageError(f"--{f.name.replace('_', '-')} must be positive, got {value}")
        if self.max_frame < 1024:
            raise UsageError(f"--max-frame must be at least 1024 bytes, got {self.max_frame}")
        if self.max_depth > MAX_DEPTH:
            # Python's JSON parser gives up near 1,000 levels on its own.
            raise UsageError(f"--max-depth must be at most {MAX_DEPTH}, got {self.max_depth}")

    @property
    def ws_buffer(self) -> int:
        """Bytes aiohttp may buffer of one WebSocket message before it cuts it without a
        reason; between `max_frame` and this, we close 1009 and say why."""
        return min(4 * self.max_frame, self.max_frame + 1024 * 1024)

    def for_messages(self, message_bytes: int | None) -> Limits:
        """These limits with room for one message of `message_bytes` (a dialect's size
        limit) in a frame and in a send queue, memory still bounded (see PROFILE_MEMORY)."""
        if message_bytes is None or message_bytes <= self.max_frame:
            return self  # what a frame holds already
        frame = min(MAX_PROFILE_FRAME, message_bytes + ENVELOPE)
        raised = replace(self, max_frame=frame, send_queue=max(self.send_queue, frame))
        per_connection = raised.ws_buffer + raised.send_queue
        connections = max(1, min(self.max_connections, PROFILE_MEMORY // per_connection))
        return replace(raised, max_connections=connections)

    def within_fd_limit(self) -> Limits:
        """The same limits with `max_connections` below the process's open-file limit.

        Past that limit accept() fails and asyncio logs a traceback per attempt;
        refusing with 503 below it keeps the server answering."""
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self
        room = max(1, int(soft) - _SPARE_FDS)
        if self.max_connections <= room:
            return self
        return replace(self, max_connections=room)


DEFAULT_LIMITS = Limits()

# flag name -> (Limits field, type, help) for `chatsim serve`
FLAGS: dict[str, tuple[str, type, str]] = {
    "--max-frame": ("max_frame", int, "bytes of one frame or long-poll body"),
    "--max-depth": ("max_depth", int, "nesting depth of JSON in a frame"),
    "--send-queue": ("send_queue", int, "bytes queued for a client that does not read"),
    "--max-connections": ("max_connections", int, "open TCP connections"),
    "--idle-timeout": ("idle_timeout", float, "seconds without a request before closing"),
    "--body-timeout": ("body_timeout", float, "seconds to receive a long-poll body"),
}
