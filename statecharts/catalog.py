"""The EventError catalog (docs/REFERENCE.md, "Error codes"), as data.

Codes come from the Genesys chat JS API error reference. Ranges: 1-49 chat
command syntax, 50-99 session run-time, 100-149 Chat Server, 150-199
transport (browser side), 200-249 widget (browser side). Descriptions are the
contract wording; the transport, the server emulator and the CLI all read them
from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum, IntEnum, StrEnum
from typing import Any


class ErrorCode(IntEnum):
    """Wire codes carried by EventError."""

    UNKNOWN_COMMAND = 1
    MISSING_PARAMETER = 2
    INCORRECT_PARAMETER = 3
    UNKNOWN_SESSION = 50
    STOPPED_BY_DECORATOR = 51
    EXECUTION_ERROR = 52
    SERVER_UNAVAILABLE = 100
    LOGIN_FAILED = 101
    NETWORK_INTERRUPTED = 150
    INVALID_RESPONSE = 151
    RESTORE_FAILED = 152


class Category(Enum):
    """The seed's code ranges, inclusive."""

    COMMAND_SYNTAX = (1, 49, "chat command syntax")
    SESSION_RUNTIME = (50, 99, "chat session run-time")
    CHAT_SERVER = (100, 149, "Chat Server")
    TRANSPORT = (150, 199, "chat transport (browser side)")
    WIDGET = (200, 249, "chat widget (browser side)")

    @property
    def low(self) -> int:
        return self.value[0]

    @property
    def high(self) -> int:
        return self.value[1]

    @property
    def label(self) -> str:
        return self.value[2]


class Origin(StrEnum):
    """Who produces the code: the Chat Server, the browser side, or either."""

    SERVER = "server"
    CLIENT = "client"
    BOTH = "server/client"


@dataclass(frozen=True)
class ErrorInfo:
    code: ErrorCode
    description: str
    origin: Origin
    when: str
    deprecated: bool = False

    @property
    def category(self) -> Category:
        return category_of(int(self.code))

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["code"] = int(self.code)
        data["origin"] = self.origin.value
        data["category"] = self.category.label
        data["range"] = [self.category.low, self.category.high]
        return data


def category_of(code: int) -> Category:
    for category in Category:
        if category.low <= code <= category.high:
            return category
    raise ValueError(f"error code {code} is outside every range 1-249")


_S, _C, _B = Origin.SERVER, Origin.CLIENT, Origin.BOTH

CATALOG: dict[ErrorCode, ErrorInfo] = {
    info.code: info
    for info in (
        ErrorInfo(ErrorCode.UNKNOWN_COMMAND, "Unknown chat command", _S, "unknown operation"),
        ErrorInfo(
            ErrorCode.MISSING_PARAMETER,
            "One or more mandatory parameters are missed in chat command",
            _S,
            "a required field of the operation is absent",
        ),
        ErrorInfo(
            ErrorCode.INCORRECT_PARAMETER,
            "Value of chat command parameter is incorrect",
            _S,
            "a field has the wrong type or value",
        ),
        ErrorInfo(
            ErrorCode.UNKNOWN_SESSION,
            "Chat session ID is unknown",
            _S,
            "unknown or expired chat id",
        ),
        ErrorInfo(
            ErrorCode.STOPPED_BY_DECORATOR,
            "Chat command is stopped by decorator",
            _S,
            "a server-side interceptor vetoed it",
        ),
        ErrorInfo(
            ErrorCode.EXECUTION_ERROR,
            "Error during chat command execution",
            _S,
            "the command failed while running",
        ),
        ErrorInfo(
            ErrorCode.SERVER_UNAVAILABLE,
            "Chat Server is not available",
            _B,
            "also the notice that failover to another instance begins",
        ),
        ErrorInfo(
            ErrorCode.LOGIN_FAILED, "Login to Chat Server was failed", _S, "requestChat refused"
        ),
        ErrorInfo(
            ErrorCode.NETWORK_INTERRUPTED,
            "Network connection interrupted",
            _C,
            "with `interrupted`; deprecated, on by default, can be switched off",
            deprecated=True,
        ),
        ErrorInfo(
            ErrorCode.INVALID_RESPONSE,
            "Invalid server response",
            _C,
            "a reply that fails validation; the reply is dropped, the session goes on",
        ),
        ErrorInfo(
            ErrorCode.RESTORE_FAILED,
            "Session restoration failed",
            _C,
            "restore from saved state found the session gone on the server; the session ends",
        ),
    )
}


def describe(code: int) -> str:
    """The contract description of a known code, or a generic one by range."""
    try:
        return CATALOG[ErrorCode(code)].description
    except ValueError:
        return f"Unlisted {category_of(code).label} error"
