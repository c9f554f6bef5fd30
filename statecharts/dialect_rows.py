"""Every error row of the four other seeds, and the EventError code each maps to.

One row per error the seed documents, with the seed's own wording: its key
(a type, an id, or the message itself), message, HTTP status and numeric code
where the seed gives them, the API surface it belongs to, and the canonical
EventError code a client reports for it (the mapping `chatsim codes --dialect`
prints). `statecharts.dialects` builds the server profiles from these rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from statecharts.catalog import ErrorCode as E


@dataclass(frozen=True)
class NativeError:
    """One row of a dialect's error table."""

    key: str  # the dialect's own id: a type, an id string, a message
    message: str
    status: int | None = None  # HTTP status where the dialect has one
    number: int | None = None  # the dialect's own numeric code, if any
    maps_to: E = E.EXECUTION_ERROR  # the EventError code a client reports
    surface: str = ""  # where the API returns it (PolyAI has several surfaces)
    note: str = ""
    # transient by the seed's own advice: a client retries after this many seconds
    retry_after: float | None = None
    # the server then ends the chat itself (PolyAI: SESSION_END follows some errors)
    ends_session: bool = False

    def matches(self, key: str | None) -> bool:
        """Whether a payload's key is this row; a trailing `*` is the seed's wildcard."""
        if key is None:
            return False
        if self.key.endswith("*"):
            return key.startswith(self.key[:-1])
        return key == self.key


_R = NativeError

# 000 LiveChat: `{"error": {"type", "message", "data"?}}`, all 12 types.
LIVECHAT_ROWS = (
    _R("internal", "Internal server error", maps_to=E.EXECUTION_ERROR),
    _R("validation", "Wrong format of request", maps_to=E.INCORRECT_PARAMETER),
    _R(
        "authorization",
        "Authorization error",
        maps_to=E.STOPPED_BY_DECORATOR,
        note="Agent is not allowed to perform action",
    ),
    _R(
        "authentication",
        "Authentication error",
        maps_to=E.UNKNOWN_SESSION,
        note="Invalid / expired access token",
    ),
    _R(
        "request_timeout",
        "Request timed out",
        maps_to=E.SERVER_UNAVAILABLE,
        note="Timeout threshold is 15 seconds",
    ),
    _R("license_expired", "License expired", maps_to=E.LOGIN_FAILED),
    _R(
        "unsupported_version",
        "Unsupported version",
        maps_to=E.LOGIN_FAILED,
        note="Unsupported version of protocol",
    ),
    _R(
        "misdirected_request",
        "Wrong region",
        maps_to=E.SERVER_UNAVAILABLE,
        note="Client's request should be performed to another region; data.region names it",
    ),
    _R(
        "entity_too_large",
        "Upload limit exceeded (10MB)",
        maps_to=E.INCORRECT_PARAMETER,
        note="Client's request is too large",
    ),
    _R(
        "wrong_product_version",
        "Wrong product version",
        maps_to=E.LOGIN_FAILED,
        note="License is not LiveChat 3 (probably still LiveChat 2)",
    ),
    _R(
        "license_not_found",
        "License not found",
        maps_to=E.LOGIN_FAILED,
        note="License with specified ID doesn't exist",
    ),
    _R(
        "requester_offline",
        "Requester offline",
        maps_to=E.STOPPED_BY_DECORATOR,
        note="Method is only allowed for logged in agents (via RTM API)",
    ),
)

# 002 Layer: `{id, code, message, url, data}` + an HTTP status, all 16 ids.
LAYER_ROWS = (
    _R(
        "service_unavailable",
        "The operation could not be completed because a backend service could not be accessed",
        503,
        1,
        E.SERVER_UNAVAILABLE,
        note="transient: retry soon",
    ),
    _R(
        "invalid_request_id",
        "The client has supplied a request ID that is not a valid UUID",
        400,
        3,
        E.INCORRECT_PARAMETER,
    ),
    _R(
        "authentication_required",
        "The action could not be completed because the client is unauthenticated",
        401,
        4,
        E.LOGIN_FAILED,
        note="data.nonce: the client answers the authentication challenge",
    ),
    _R(
        "rate_limit_exceeded",
        "The client has sent too many requests in a given amount of time",
        429,
        7,
        E.SERVER_UNAVAILABLE,
    ),
    _R(
        "request_timeout",
        "The server or the client timed out waiting for a request to complete",
        408,
        8,
        E.SERVER_UNAVAILABLE,
        note="408 or none",
    ),
    _R(
        "invalid_operation",
        "The server or client has declined to perform an invalid operation",
        422,
        9,
        E.STOPPED_BY_DECORATOR,
        note="422 or none",
    ),
    _R("invalid_request", "The request is structurally invalid", 400, 10, E.UNKNOWN_COMMAND),
    _R(
        "internal_server_error",
        "The operation could not be completed because an unexpected error occurred",
        500,
        100,
        E.EXECUTION_ERROR,
    ),
    _R(
        "access_denied",
        "The authenticated user does not have access to the resource requested",
        403,
        101,
        E.STOPPED_BY_DECORATOR,
    ),
    _R("not_found", "The resource requested could not be found", 404, 102, E.UNKNOWN_SESSION),
    _R(
        "missing_property",
        "A property with a required value was not supplied",
        422,
        104,
        E.MISSING_PARAMETER,
    ),
    _R(
        "invalid_property",
        "A property was supplied with an invalid value",
        422,
        105,
        E.INCORRECT_PARAMETER,
    ),
    _R(
        "invalid_endpoint",
        "The endpoint \u2018GET /nonce\u2019 does not exist",
        404,
        106,
        E.UNKNOWN_COMMAND,
    ),
    _R(
        "invalid_header",
        "Invalid Accept header; must be of form application/vnd.layer+json; version=x.y",
        406,
        107,
        E.INCORRECT_PARAMETER,
    ),
    _R(
        "conflict",
        "The distinct conversation already exists with conflicting metadata",
        409,
        108,
        E.EXECUTION_ERROR,
    ),
    _R(
        "method_not_allowed",
        "The HTTP method used is not allowed for the given resource",
        405,
        109,
        E.UNKNOWN_COMMAND,
    ),
)

# 003 api.video: `{message, status}`, the seven general errors.
APIVIDEO_ROWS = (
    _R("Invalid attributes.", "", 400, maps_to=E.INCORRECT_PARAMETER),
    _R("The payload is invalid.", "", 400, maps_to=E.MISSING_PARAMETER),
    _R(
        "Your account has reached the webhook urls limit.",
        "",
        400,
        maps_to=E.STOPPED_BY_DECORATOR,
    ),
    _R("The requested resource could not be found.", "", 404, maps_to=E.UNKNOWN_SESSION),
    _R("Unrecognized request URL.", "", 404, maps_to=E.UNKNOWN_COMMAND),
    _R("Method is not allowed for this route.", "", 405, maps_to=E.STOPPED_BY_DECORATOR),
    _R("Server error", "", 500, maps_to=E.EXECUTION_ERROR),
)

_HTTP, _TOKEN, _SESSION = "http", "access-token", "session-creation"
_WS, _EVENT, _AGENT = "websocket-handshake", "system-message", "system-message (agent)"
_STATE, _HANDOFF = "system-message (session state)", "system-message (handoff)"

# 004 PolyAI: HTTP errors, handshake errors and EVENT_TYPE_SYSTEM_MESSAGE errors.
POLYAI_ROWS = (
    _R(
        "Bad request",
        "missing required headers or malformed body",
        400,
        maps_to=E.MISSING_PARAMETER,
        surface=_HTTP,
    ),
    _R(
        "Unauthorized",
        "invalid or expired access token, or connector token not recognised",
        401,
        maps_to=E.LOGIN_FAILED,
        surface=_HTTP,
    ),
    _R("Session not found", "", 404, maps_to=E.UNKNOWN_SESSION, surface=_HTTP),
    _R(
        "Rate limit exceeded",
        "check the Retry-After header for when to retry",
        429,
        maps_to=E.SERVER_UNAVAILABLE,
        surface=_HTTP,
    ),
    _R(
        "Server error",
        "retry with exponential backoff",
        500,
        maps_to=E.EXECUTION_ERROR,
        surface=_HTTP,
    ),
    _R("Missing authentication headers", "", 401, maps_to=E.LOGIN_FAILED, surface=_TOKEN),
    _R("Connector token does not exist", "", 401, maps_to=E.LOGIN_FAILED, surface=_TOKEN),
    _R("Failed to validate connector", "", 401, maps_to=E.LOGIN_FAILED, surface=_TOKEN),
    _R("Connector missing host domain", "", 401, maps_to=E.LOGIN_FAILED, surface=_TOKEN),
    _R("Failed to create access token", "", 500, maps_to=E.EXECUTION_ERROR, surface=_TOKEN),
    _R("Missing access token", "", 400, maps_to=E.MISSING_PARAMETER, surface=_SESSION),
    _R("Missing authentication headers", "", 401, maps_to=E.LOGIN_FAILED, surface=_SESSION),
    _R("Invalid access token", "", 401, maps_to=E.LOGIN_FAILED, surface=_SESSION),
    _R("Error parsing request", "", 400, maps_to=E.INCORRECT_PARAMETER, surface=_SESSION),
    _R("Failed to create session", "", 500, maps_to=E.EXECUTION_ERROR, surface=_SESSION),
    _R(
        "session not found",
        "",
        404,
        maps_to=E.UNKNOWN_SESSION,
        surface=_WS,
        note="sessions expire after ~10 minutes of inactivity",
    ),
    _R("authentication failed", "", 401, maps_to=E.LOGIN_FAILED, surface=_WS),
    _R(
        "connection limit exceeded for session",
        "",
        429,
        maps_to=E.SERVER_UNAVAILABLE,
        surface=_WS,
        note="at most 10 simultaneous WebSocket connections per session",
    ),
    _R("invalid connection parameters", "", 400, maps_to=E.MISSING_PARAMETER, surface=_WS),
    _R(
        "Unknown event type or invalid message format",
        "",
        maps_to=E.UNKNOWN_COMMAND,
        surface=_EVENT,
        note="the socket stays open",
    ),
    _R(
        "Event type not allowed: EVENT_TYPE_*",
        "",
        maps_to=E.STOPPED_BY_DECORATOR,
        surface=_EVENT,
        note="the socket stays open",
    ),
    _R(
        "Our system is experiencing high load. Please try again in a moment.",
        "",
        maps_to=E.SERVER_UNAVAILABLE,
        surface=_AGENT,
        note="transient: retry after 2-5 s",
        retry_after=2.0,
    ),
    _R(
        "Sorry, I'm unable to start a conversation right now. Please try again later.",
        "",
        maps_to=E.EXECUTION_ERROR,
        surface=_AGENT,
    ),
    _R(
        "Sorry, I'm having trouble responding right now. Please try again.",
        "",
        maps_to=E.EXECUTION_ERROR,
        surface=_AGENT,
    ),
    _R(
        "Sorry, I encountered an error. Please try again.",
        "",
        maps_to=E.EXECUTION_ERROR,
        surface=_AGENT,
    ),
    _R(
        "Error: Session not found",
        "",
        maps_to=E.UNKNOWN_SESSION,
        surface=_STATE,
        note="the session no longer exists: SESSION_END follows",
        ends_session=True,
    ),
    _R(
        "Error: Unable to retrieve session",
        "",
        maps_to=E.SERVER_UNAVAILABLE,
        surface=_STATE,
        note="transient: retry",
        retry_after=2.0,
    ),
    _R("Error: Connector not found", "", maps_to=E.EXECUTION_ERROR, surface=_STATE),
    _R("Error: Conversation not found", "", maps_to=E.EXECUTION_ERROR, surface=_STATE),
    _R(
        "Error: Conversation ID not found in session",
        "",
        maps_to=E.EXECUTION_ERROR,
        surface=_STATE,
    ),
    _R(
        "Sorry, we could not connect you to an agent. Please try again.",
        "",
        maps_to=E.EXECUTION_ERROR,
        surface=_HANDOFF,
    ),
    _R(
        "Failed to forward message to live agent",
        "",
        maps_to=E.EXECUTION_ERROR,
        surface=_HANDOFF,
    ),
    _R(
        "Sorry, handoff could not be initiated.",
        "",
        maps_to=E.EXECUTION_ERROR,
        surface=_HANDOFF,
    ),
)

# Every row key of every dialect (Genesys: its codes), for a `reject` fault's `row`.
ALL_ROWS = frozenset(
    r.key for rows in (LIVECHAT_ROWS, LAYER_ROWS, APIVIDEO_ROWS, POLYAI_ROWS) for r in rows
) | frozenset(str(int(code)) for code in E)
