"""Browsers as a CometD server sees them: the browser cookie, multiple-clients, clientId owners.

`BAYEUX_BROWSER` names one browser (all its tabs share the cookie). A browser
has a few connections per host (Chromium: 6), so only one of its long-polling
tabs may hold a `/meta/connect`; the others are answered at once with the
advice `multiple-clients: true` and an `interval`, and poll at that pace, as
CometD servers do.

A Bayeux clientId belongs to the browser whose cookie its handshake presented
and to the WebSocket it was used from: a request presenting another browser's
cookie, or another WebSocket while the owning one is open, is answered
`402::Unknown client` for every message, and the core never sees it. A client
whose handshake presented no cookie (curl, Python, a browser's very first
tabs) is judged by connection only.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import hdrs, web

from sim.server.inbound import parse_frame
from sim.server.outputs import ServerEvent
from statecharts.errors import ProtocolViolation
from transport.wire import META_CONNECT, Message

COOKIE = "BAYEUX_BROWSER"
# The pace of a tab that may not hold a connect (CometD's multiSessionInterval).
MULTI_INTERVAL_MS = 2000
_COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{8,64}")
encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass
class Owner:
    """Where a clientId may be used from (browser None: its handshake had no cookie;
    websocket None: not used on one yet)."""

    browser: str | None
    websocket: str | None


@dataclass(frozen=True)
class BrowserId:
    value: str
    presented: bool  # False: issued now; the response must set the cookie


def browser_of(request: web.Request) -> BrowserId:
    presented = request.cookies.get(COOKIE, "")
    if _COOKIE_VALUE.fullmatch(presented):
        return BrowserId(presented, presented=True)
    return BrowserId(secrets.token_urlsafe(18), presented=False)


def poll_key(request: web.Request, browser: BrowserId) -> str | None:
    """Which browser a long-poll counts against for `multiple-clients` (None: not a browser).

    The cookie when the browser sent it. A cross-site page's requests carry no
    cookie (SameSite, third-party cookie blocking), so its tabs are told apart by
    address, page origin and User-Agent; a client with no Origin is no browser."""
    if browser.presented:
        return browser.value
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    return f"{request.remote}|{origin}|{request.headers.get('User-Agent', '')}"


def remember(response: web.StreamResponse, browser: BrowserId) -> None:
    """Set the cookie on a response (before it is prepared) when the browser had none.

    Written as the header's text (the value is URL-safe): the cookie objects of
    `set_cookie` would stay alive with each WebSocket response (~0.5 KiB)."""
    if not browser.presented:
        cookie = f"{COOKIE}={browser.value}; HttpOnly; Path=/; SameSite=Lax"
        response.headers.add(hdrs.SET_COOKIE, cookie)


class Browsers:
    """Per-server state: held long-polls per browser, and who owns each clientId."""

    def __init__(self) -> None:
        self._polls: dict[str, int] = {}
        self._owners: dict[str, Owner] = {}
        self._open_websockets: set[str] = set()

    # -- multiple-clients --------------------------------------------------------
    def begin_poll(self, browser: str) -> bool:
        """Count a long-poll carrying a connect; True when another tab already holds one."""
        held = self._polls.get(browser, 0)
        self._polls[browser] = held + 1
        return held > 0

    def end_poll(self, browser: str) -> None:
        left = self._polls.get(browser, 1) - 1
        if left > 0:
            self._polls[browser] = left
        else:
            self._polls.pop(browser, None)

    # -- clientId owners -----------------------------------------------------------
    def websocket_opened(self, conn_id: str) -> None:
        self._open_websockets.add(conn_id)

    def websocket_closed(self, conn_id: str) -> None:
        self._open_websockets.discard(conn_id)

    def client_started(
        self, client_id: str, browser: BrowserId | None, websocket: str | None
    ) -> None:
        """A handshake from this browser/socket made a Bayeux client: the clientId is theirs."""
        presented = browser.value if browser is not None and browser.presented else None
        self._owners[client_id] = Owner(presented, websocket)

    def server_event(self, event: ServerEvent) -> None:
        """Forget the owners of clients the server forgot (ended, or lost in a crash)."""
        _t, src, kind, fields = event
        if kind == "client.end" and isinstance(fields.get("client"), str):
            self._owners.pop(fields["client"], None)
        elif kind == "crash":
            prefix = src.removeprefix("server:") + "-"
            for client_id in [c for c in self._owners if c.startswith(prefix)]:
                del self._owners[client_id]

    def intruder(
        self,
        messages: list[Message],
        browser: BrowserId | None,
        websocket: str | None,
    ) -> bool:
        """Whether a message uses a clientId from a browser or WebSocket that does not own it."""
        for message in messages:
            client_id = message.get("clientId")
            owner = self._owners.get(client_id) if isinstance(client_id, str) else None
            if owner is not None and not self._may_use(owner, browser, websocket):
                return True
        return False

    def _may_use(self, owner: Owner, browser: BrowserId | None, websocket: str | None) -> bool:
        # Bound to the cookie its handshake presented, never to one seen later: a
        # browser's first tabs race for the cookie (each handshake without one is
        # issued its own, the last stored wins), so a later binding would refuse a
        # tab its own clientId. A clientId made without a cookie is judged by its
        # connection only, as a client that sends no cookie is.
        presented = browser.value if browser is not None and browser.presented else None
        if owner.browser is not None and presented not in (None, owner.browser):
            return False
        if owner.websocket != websocket and owner.websocket in self._open_websockets:
            return False
        if websocket is not None:
            owner.websocket = websocket
        return True


def refusal(messages: list[Message]) -> str:
    """402 for every message of an intruder's frame, advising a new handshake."""
    replies = []
    for message in messages:
        reply: dict[str, Any] = {
            "channel": message.get("channel", META_CONNECT),
            "successful": False,
            "error": "402::Unknown client",
            "advice": {"reconnect": "handshake", "interval": 0},
        }
        if "id" in message:
            reply["id"] = message["id"]
        replies.append(reply)
    return encode(replies)


def connects_in(body: str) -> bool:
    """Whether a long-poll body carries a `/meta/connect` (False when it is no Bayeux frame)."""
    if META_CONNECT not in body:
        return False
    try:
        return has_connect(parse_frame(body))
    except ProtocolViolation:
        return False


def has_connect(messages: list[Message]) -> bool:
    """Whether a parsed frame carries a `/meta/connect`."""
    return any(m.get("channel") == META_CONNECT for m in messages)


def ask_no_hold(messages: list[Message]) -> list[Message]:
    """The connects of a tab that may not hold one: ask the core for an immediate answer."""
    return [_no_hold(m) if m.get("channel") == META_CONNECT else m for m in messages]


def _no_hold(connect: Message) -> Message:
    advice = connect.get("advice")
    return {**connect, "advice": {**(advice if isinstance(advice, dict) else {}), "timeout": 0}}


def advise_multiple_clients(text: str) -> str:
    """Add `multiple-clients` advice to the connect reply in a response frame."""
    try:
        frame = json.loads(text)
    except ValueError:
        return text  # a corrupted frame (fault) goes out as it is
    if not isinstance(frame, list):
        return text
    for message in frame:
        if isinstance(message, dict) and message.get("channel") == META_CONNECT:
            advice = message.get("advice")
            advice = advice if isinstance(advice, dict) else {}
            if advice.get("reconnect", "retry") == "retry":
                message["advice"] = {
                    **advice,
                    "multiple-clients": True,
                    "interval": MULTI_INTERVAL_MS,
                }
    return encode(frame)
