"""Bounds on what one client can make the server core keep (the live server's own are `Limits`).

Each is far above what a real chat client does and far below what exhausts a
test machine; reaching one is answered in the protocol (a Bayeux error, a
chat error, or the client forgotten so it handshakes again and restores),
never by silently dropping what was accepted.
"""

from __future__ import annotations

MAX_CLIENTS = 20_000  # Bayeux clients per instance: more handshakes are refused
MAX_SUBSCRIPTIONS = 100  # channels one Bayeux client may subscribe to
MAX_CHANNEL_LENGTH = 256
MAX_PENDING = 10_000  # messages queued or unacknowledged for one client: beyond, it is forgotten
MAX_TRANSCRIPT_CHARS = 16 * 1024 * 1024  # text of one chat: further messages get error 52
