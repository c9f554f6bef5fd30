"""Server error dialects: the other seeds' error formats as server profiles.

chatsim's canonical errors are the Genesys EventError codes (catalog.py). A
dialect renders a canonical error the way another chat/messaging API would
put it on the wire, and reads such a payload back into a canonical code, so
a server profile can speak, say, LiveChat while the transport still reports
an EventError (with the native payload kept in `data["native"]`).

Profiles, from the seeds:
- `genesys`  {code, description, data}                         (001, the default)
- `livechat` {"error": {type, message, data?}}                  (000)
- `layer`    {id, code, message, url, data} + an HTTP status    (002)
- `apivideo` {message, status}                                  (003)
- `polyai`   {type: EVENT_TYPE_SYSTEM_MESSAGE, level, message}  (004)

Every error row of each seed is in its table (`statecharts.dialect_rows`),
with the EventError code a client reports for it; `chatsim codes --dialect
NAME` prints them. Each profile also carries the seed's numbers that change
behaviour (the idle time after which a session expires, the request timeout,
the size limit) and names the row that carries each server behaviour a fault
triggers (`rate_limit`, `expire_credential`, `redirect`, `no_reply`,
`too_large`), and the event by which it ends a chat on its own (PolyAI
`EVENT_TYPE_SESSION_END`, after a `session_end` fault's error).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from statecharts.catalog import ErrorCode, describe
from statecharts.dialect_rows import (
    APIVIDEO_ROWS,
    LAYER_ROWS,
    LIVECHAT_ROWS,
    POLYAI_ROWS,
    NativeError,
)

Payload = dict[str, Any]
E = ErrorCode

# Server behaviours a fault or a profile setting triggers, by name; a dialect
# names the row of its table that carries each one (see `Dialect.behaviours`).
RATE_LIMIT, EXPIRED_CREDENTIAL, REDIRECT = "rate_limit", "expire_credential", "redirect"
NO_REPLY, TOO_LARGE = "no_reply", "too_large"
CONNECTION_LIMIT = "connection_limit"
REJECT, SESSION_END = "reject", "session_end"  # a given row; an error that ends the chat
# The canonical code of each behaviour where the dialect has no row of its own.
BEHAVIOUR_CODES: dict[str, ErrorCode] = {
    RATE_LIMIT: E.SERVER_UNAVAILABLE,
    EXPIRED_CREDENTIAL: E.UNKNOWN_SESSION,
    REDIRECT: E.SERVER_UNAVAILABLE,
    NO_REPLY: E.SERVER_UNAVAILABLE,
    TOO_LARGE: E.INCORRECT_PARAMETER,
    CONNECTION_LIMIT: E.SERVER_UNAVAILABLE,
}


@dataclass(frozen=True)
class Dialect:
    name: str
    seed: str
    rows: tuple[NativeError, ...]
    # canonical code -> key of the row the server sends for it
    renders: Mapping[ErrorCode, str]
    # behaviour name -> key of the row that carries it (absent: the canonical code)
    behaviours: Mapping[str, str] = field(default_factory=dict)
    session_idle_timeout: float = 60.0
    request_timeout: float | None = None
    max_message_bytes: int | None = None
    # simultaneous WebSockets one session (a browser, else an address) may hold
    max_sockets: int | None = None
    # HTTP status -> key of the row the live server answers it with
    http_errors: Mapping[int, str] = field(default_factory=dict)
    # the `type` of the event on /chat/<chatId> by which the server ends a chat itself
    session_end_type: str = "SessionEnd"
    # the row refusing a request id that is not a UUID (Layer: invalid_request_id)
    request_id_row: str | None = None
    # A request asking for this media type must name one of these versions (Layer's
    # `Accept: application/vnd.layer+json; version=x.y`), else HTTP 406 invalid_header.
    accept_media: str | None = None
    accept_versions: tuple[str, ...] = ()
    render_row: Callable[[NativeError, Payload], Payload] = field(
        repr=False, default=lambda r, d: d
    )
    matches: Callable[[Payload], bool] = field(repr=False, default=lambda _p: False)
    key_of: Callable[[Payload], str | None] = field(repr=False, default=lambda _p: None)

    @property
    def table(self) -> dict[ErrorCode, NativeError]:
        """The row the server sends for each canonical code it renders."""
        return {code: self.row(key) for code, key in self.renders.items()}

    def row(self, key: str) -> NativeError:
        return next(r for r in self.rows if r.key == key)

    def behaviour_row(self, behaviour: str) -> NativeError | None:
        key = self.behaviours.get(behaviour)
        return None if key is None else self.row(key)

    def behaviour_code(self, behaviour: str) -> ErrorCode:
        """The EventError code a client reports for this behaviour in this dialect."""
        row = self.behaviour_row(behaviour)
        return row.maps_to if row is not None else BEHAVIOUR_CODES[behaviour]

    def render(
        self,
        code: int,
        data: Payload | None = None,
        behaviour: str | None = None,
        row_key: str | None = None,
    ) -> Payload:
        """The payload this server would send for a canonical error code (or a behaviour,
        or one row of its table by key)."""
        row = self.row_for(code, behaviour, row_key)
        if row is None:
            return _render_genesys(code, data)
        return self.render_row(row, dict(data or {}))

    def row_for(
        self, code: int, behaviour: str | None = None, row_key: str | None = None
    ) -> NativeError | None:
        """The row `render` sends (None: the canonical Genesys payload)."""
        row = self.row(row_key) if row_key is not None else None
        if row is None and behaviour is not None:
            row = self.behaviour_row(behaviour)
        if row is None and ErrorCode(code) in self.renders:
            row = self.row(self.renders[ErrorCode(code)])
        return row

    def read(self, payload: Payload) -> tuple[int, str, Payload] | None:
        """(canonical code, canonical description, data) or None if not ours."""
        if not self.matches(payload):
            return None
        key = self.key_of(payload)
        row = next((r for r in self.rows if r.matches(key)), None)
        code = row.maps_to if row is not None else E.EXECUTION_ERROR
        data: Payload = {"dialect": self.name, "native": payload}
        native_data = _native_data(payload)
        if native_data:
            data.update({k: v for k, v in native_data.items() if k not in data})
        if row is not None and row.retry_after is not None:
            data.setdefault("retryAfter", row.retry_after)  # the seed says: transient
        return int(code), describe(code), data


def _native_data(payload: Payload) -> Payload:
    """The `data` a native payload carries (LiveChat nests it in `error`)."""
    inner = payload.get("error")
    found = inner.get("data") if isinstance(inner, dict) else payload.get("data")
    return found if isinstance(found, dict) else {}


def _render_genesys(code: int, data: Payload | None) -> Payload:
    return {"code": int(code), "description": describe(code), "data": dict(data or {})}


def _genesys_read(payload: Payload) -> bool:
    return isinstance(payload.get("code"), int) and isinstance(payload.get("description"), str)


GENESYS = Dialect(
    "genesys",
    "001 Genesys Web Engagement chat API",
    tuple(NativeError(str(int(c)), describe(c), maps_to=c) for c in ErrorCode),
    {code: str(int(code)) for code in ErrorCode},
    render_row=lambda row, data: _render_genesys(int(row.key), data),
    matches=_genesys_read,
    key_of=lambda p: str(p.get("code")),
)

LIVECHAT = Dialect(
    "livechat",
    "000 LiveChat agent/customer API",
    LIVECHAT_ROWS,
    {
        E.UNKNOWN_COMMAND: "validation",
        E.MISSING_PARAMETER: "validation",
        E.INCORRECT_PARAMETER: "validation",
        E.UNKNOWN_SESSION: "authentication",
        E.STOPPED_BY_DECORATOR: "authorization",
        E.EXECUTION_ERROR: "internal",
        E.SERVER_UNAVAILABLE: "request_timeout",
        E.LOGIN_FAILED: "license_not_found",
    },
    {
        EXPIRED_CREDENTIAL: "authentication",
        REDIRECT: "misdirected_request",
        NO_REPLY: "request_timeout",
        TOO_LARGE: "entity_too_large",
    },
    request_timeout=15.0,
    max_message_bytes=10 * 1024 * 1024,
    http_errors={413: "entity_too_large"},
    render_row=lambda row, data: {
        "error": {"type": row.key, "message": row.message, **({"data": data} if data else {})}
    },
    matches=lambda p: isinstance(p.get("error"), dict) and "type" in p["error"],
    key_of=lambda p: str(p["error"]["type"]),
)

LAYER = Dialect(
    "layer",
    "002 Layer client API",
    LAYER_ROWS,
    {
        E.UNKNOWN_COMMAND: "invalid_endpoint",
        E.MISSING_PARAMETER: "missing_property",
        E.INCORRECT_PARAMETER: "invalid_property",
        E.UNKNOWN_SESSION: "not_found",
        E.STOPPED_BY_DECORATOR: "access_denied",
        E.EXECUTION_ERROR: "internal_server_error",
        E.SERVER_UNAVAILABLE: "service_unavailable",
        E.LOGIN_FAILED: "authentication_required",
    },
    {
        RATE_LIMIT: "rate_limit_exceeded",
        EXPIRED_CREDENTIAL: "authentication_required",
        NO_REPLY: "request_timeout",
    },
    request_id_row="invalid_request_id",
    accept_media="application/vnd.layer+json",
    accept_versions=("1.0",),
    http_errors={
        400: "invalid_request",
        406: "invalid_header",
        404: "invalid_endpoint",
        405: "method_not_allowed",
        500: "internal_server_error",
        503: "service_unavailable",
    },
    render_row=lambda row, data: {
        "id": row.key,
        "code": row.number,
        "message": row.message,
        "url": f"https://developer.layer.com/docs/errors#{row.key}",
        "data": data,
    },
    matches=lambda p: isinstance(p.get("id"), str) and "url" in p,
    key_of=lambda p: str(p["id"]),
)

APIVIDEO = Dialect(
    "apivideo",
    "003 api.video general errors",
    APIVIDEO_ROWS,
    {
        E.UNKNOWN_COMMAND: "Unrecognized request URL.",
        E.MISSING_PARAMETER: "The payload is invalid.",
        E.INCORRECT_PARAMETER: "Invalid attributes.",
        E.UNKNOWN_SESSION: "The requested resource could not be found.",
        E.STOPPED_BY_DECORATOR: "Method is not allowed for this route.",
        E.EXECUTION_ERROR: "Server error",
        E.SERVER_UNAVAILABLE: "Server error",
    },
    http_errors={
        400: "The payload is invalid.",
        404: "Unrecognized request URL.",
        405: "Method is not allowed for this route.",
        500: "Server error",
    },
    render_row=lambda row, data: {
        "message": row.key,
        "status": row.status,
        **({"data": data} if data else {}),
    },
    matches=lambda p: (
        isinstance(p.get("message"), str) and isinstance(p.get("status"), int) and "type" not in p
    ),
    key_of=lambda p: str(p["message"]),
)

POLYAI = Dialect(
    "polyai",
    "004 PolyAI messaging API",
    POLYAI_ROWS,
    {
        E.UNKNOWN_COMMAND: "Unknown event type or invalid message format",
        E.MISSING_PARAMETER: "invalid connection parameters",
        E.INCORRECT_PARAMETER: "Error parsing request",
        E.UNKNOWN_SESSION: "Error: Session not found",
        E.STOPPED_BY_DECORATOR: "Event type not allowed: EVENT_TYPE_*",
        E.EXECUTION_ERROR: "Sorry, I encountered an error. Please try again.",
        E.SERVER_UNAVAILABLE: (
            "Our system is experiencing high load. Please try again in a moment."
        ),
        E.LOGIN_FAILED: "authentication failed",
    },
    {
        RATE_LIMIT: "Rate limit exceeded",
        EXPIRED_CREDENTIAL: "Invalid access token",
        CONNECTION_LIMIT: "connection limit exceeded for session",
    },
    session_idle_timeout=600.0,
    max_sockets=10,
    session_end_type="EVENT_TYPE_SESSION_END",
    render_row=lambda row, data: {
        "type": "EVENT_TYPE_SYSTEM_MESSAGE",
        "level": "SYSTEM_MESSAGE_LEVEL_ERROR",
        "message": row.key,
        # HTTP and handshake errors carry their status (and data such as retryAfter);
        # a system message is only its text.
        **({"status": row.status} if row.status is not None else {}),
        **({"data": data} if data and row.status is not None else {}),
    },
    matches=lambda p: p.get("type") == "EVENT_TYPE_SYSTEM_MESSAGE",
    key_of=lambda p: str(p.get("message")),
)

DIALECTS: dict[str, Dialect] = {d.name: d for d in (GENESYS, LIVECHAT, LAYER, APIVIDEO, POLYAI)}
# The chat-channel events by which a server of any dialect ends a chat on its own.
SESSION_END_TYPES = frozenset(d.session_end_type for d in DIALECTS.values())


def session_end_event(dialect: Dialect, reason: str) -> Payload:
    """The event a server of this dialect delivers on the chat when it ends the chat."""
    return {"type": dialect.session_end_type, "reason": reason}


def read_session_end(payload: Payload) -> tuple[int, str, Payload] | None:
    """A server's session-end event as the error a client reports: 50 (the chat is
    gone), the event in `data.native`; None if it is not one."""
    if payload.get("type") not in SESSION_END_TYPES:
        return None
    code = E.UNKNOWN_SESSION
    return int(code), describe(code), {"native": dict(payload)}


def read_error(payload: object) -> tuple[int, str, Payload] | None:
    """Recognise a server error payload in any dialect; None if it is none of them."""
    if not isinstance(payload, dict):
        return None
    ended = read_session_end(payload)
    if ended is not None:
        return ended
    if GENESYS.matches(payload):
        data = payload.get("data")
        return (
            int(payload["code"]),
            str(payload["description"]),
            data if isinstance(data, dict) else {},
        )
    for dialect in DIALECTS.values():
        found = dialect.read(payload)
        if found is not None:
            return found
    return None
