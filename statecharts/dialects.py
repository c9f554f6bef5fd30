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

Each profile also carries the seed's numbers that change behaviour: the idle
time after which a session expires, and the request timeout where one is
documented.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from statecharts.catalog import ErrorCode, describe

Payload = dict[str, Any]


@dataclass(frozen=True)
class NativeError:
    """One row of a dialect's error table."""

    key: str  # the dialect's own id: a type, an id string, a message
    message: str
    status: int | None = None  # HTTP status where the dialect has one
    number: int | None = None  # the dialect's own numeric code, if any


@dataclass(frozen=True)
class Dialect:
    name: str
    seed: str
    table: Mapping[ErrorCode, NativeError]
    session_idle_timeout: float = 60.0
    request_timeout: float | None = None
    render_row: Callable[[NativeError, Payload], Payload] = field(
        repr=False, default=lambda r, d: d
    )
    matches: Callable[[Payload], bool] = field(repr=False, default=lambda _p: False)
    key_of: Callable[[Payload], str | None] = field(repr=False, default=lambda _p: None)

    def render(self, code: int, data: Payload | None = None) -> Payload:
        """The payload this server would send for a canonical error code."""
        row = self.table.get(ErrorCode(code))
        if row is None:
            return _render_genesys(code, data)
        return self.render_row(row, dict(data or {}))

    def read(self, payload: Payload) -> tuple[int, str, Payload] | None:
        """(canonical code, canonical description, data) or None if not ours."""
        if not self.matches(payload):
            return None
        key = self.key_of(payload)
        for code, row in self.table.items():
            if row.key == key:
                return int(code), describe(code), {"dialect": self.name, "native": payload}
        fallback = ErrorCode.EXECUTION_ERROR
        return int(fallback), describe(fallback), {"dialect": self.name, "native": payload}


def _render_genesys(code: int, data: Payload | None) -> Payload:
    return {"code": int(code), "description": describe(code), "data": dict(data or {})}


def _genesys_read(payload: Payload) -> bool:
    return isinstance(payload.get("code"), int) and isinstance(payload.get("description"), str)


GENESYS = Dialect(
    "genesys",
    "001 Genesys Web Engagement chat API",
    {code: NativeError(str(int(code)), describe(code)) for code in ErrorCode},
    render_row=lambda row, data: _render_genesys(int(row.key), data),
    matches=_genesys_read,
    key_of=lambda p: str(p.get("code")),
)

_LC = NativeError
LIVECHAT = Dialect(
    "livechat",
    "000 LiveChat agent/customer API",
    {
        ErrorCode.UNKNOWN_COMMAND: _LC("validation", "Wrong format of request"),
        ErrorCode.MISSING_PARAMETER: _LC("validation", "Wrong format of request"),
        ErrorCode.INCORRECT_PARAMETER: _LC("validation", "Wrong format of request"),
        ErrorCode.UNKNOWN_SESSION: _LC("authentication", "Authentication error"),
        ErrorCode.STOPPED_BY_DECORATOR: _LC("authorization", "Authorization error"),
        ErrorCode.EXECUTION_ERROR: _LC("internal", "Internal server error"),
        ErrorCode.SERVER_UNAVAILABLE: _LC("request_timeout", "Request timed out"),
        ErrorCode.LOGIN_FAILED: _LC("license_not_found", "License not found"),
    },
    request_timeout=15.0,
    render_row=lambda row, data: {
        "error": {"type": row.key, "message": row.message, **({"data": data} if data else {})}
    },
    matches=lambda p: isinstance(p.get("error"), dict) and "type" in p["error"],
    key_of=lambda p: str(p["error"]["type"]),
)

LAYER = Dialect(
    "layer",
    "002 Layer client API",
    {
        ErrorCode.UNKNOWN_COMMAND: NativeError(
            "invalid_endpoint", "The endpoint does not exist", 404, 106
        ),
        ErrorCode.MISSING_PARAMETER: NativeError(
            "missing_property", "A property with a required value was not supplied", 422, 104
        ),
        ErrorCode.INCORRECT_PARAMETER: NativeError(
            "invalid_property", "A property was supplied with an invalid value", 422, 105
        ),
        ErrorCode.UNKNOWN_SESSION: NativeError(
            "not_found", "The resource requested could not be found", 404, 102
        ),
        ErrorCode.STOPPED_BY_DECORATOR: NativeError(
            "access_denied",
            "The authenticated user does not have access to the resource requested",
            403,
            101,
        ),
        ErrorCode.EXECUTION_ERROR: NativeError(
            "internal_server_error", "An unexpected error occurred", 500, 100
        ),
        ErrorCode.SERVER_UNAVAILABLE: NativeError(
            "service_unavailable", "A backend service could not be accessed", 503, 1
        ),
        ErrorCode.LOGIN_FAILED: NativeError(
            "authentication_required", "The client is unauthenticated", 401, 4
        ),
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
    {
        ErrorCode.UNKNOWN_COMMAND: NativeError("Unrecognized request URL.", "", 404),
        ErrorCode.MISSING_PARAMETER: NativeError("The payload is invalid.", "", 400),
        ErrorCode.INCORRECT_PARAMETER: NativeError("Invalid attributes.", "", 400),
        ErrorCode.UNKNOWN_SESSION: NativeError(
            "The requested resource could not be found.", "", 404
        ),
        ErrorCode.STOPPED_BY_DECORATOR: NativeError(
            "Method is not allowed for this route.", "", 405
        ),
        ErrorCode.EXECUTION_ERROR: NativeError("Server error", "", 500),
        ErrorCode.SERVER_UNAVAILABLE: NativeError("Server error", "", 500),
    },
    render_row=lambda row, _data: {"message": row.key, "status": row.status},
    matches=lambda p: isinstance(p.get("message"), str) and isinstance(p.get("status"), int),
    key_of=lambda p: str(p["message"]),
)

POLYAI = Dialect(
    "polyai",
    "004 PolyAI messaging API",
    {
        ErrorCode.UNKNOWN_COMMAND: NativeError(
            "Unknown event type or invalid message format", "", 400
        ),
        ErrorCode.MISSING_PARAMETER: NativeError("invalid connection parameters", "", 400),
        ErrorCode.INCORRECT_PARAMETER: NativeError("Error parsing request", "", 400),
        ErrorCode.UNKNOWN_SESSION: NativeError("Error: Session not found", "", 404),
        ErrorCode.STOPPED_BY_DECORATOR: NativeError("Event type not allowed", "", 400),
        ErrorCode.EXECUTION_ERROR: NativeError(
            "Sorry, I encountered an error. Please try again.", "", 500
        ),
        ErrorCode.SERVER_UNAVAILABLE: NativeError(
            "Our system is experiencing high load. Please try again in a moment.", "", 429
        ),
        ErrorCode.LOGIN_FAILED: NativeError("authentication failed", "", 401),
    },
    session_idle_timeout=600.0,
    render_row=lambda row, _data: {
        "type": "EVENT_TYPE_SYSTEM_MESSAGE",
        "level": "SYSTEM_MESSAGE_LEVEL_ERROR",
        "message": row.key,
    },
    matches=lambda p: p.get("type") == "EVENT_TYPE_SYSTEM_MESSAGE",
    key_of=lambda p: str(p.get("message")),
)

DIALECTS: dict[str, Dialect] = {d.name: d for d in (GENESYS, LIVECHAT, LAYER, APIVIDEO, POLYAI)}


def read_error(payload: object) -> tuple[int, str, Payload] | None:
    """Recognise a server error payload in any dialect; None if it is none of them."""
    if not isinstance(payload, dict):
        return None
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
