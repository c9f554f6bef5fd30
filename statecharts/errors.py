"""Exceptions raised by chatsim.

The hierarchy has one split that matters to callers:

    ChatsimError
    ├── LocalError            something on this side: input, usage, misuse
    │   ├── BadInput          a file or message we were given is malformed;
    │   │                     carries source, line, field and what was expected
    │   ├── UsageError        a command line or API call that cannot be honoured
    │   └── IllegalTransition the statechart has no such transition
    └── RemoteError           something the peer told us or did
        ├── ServerError       a chat command failed on the server (codes 1-101)
        └── ProtocolViolation a server reply that fails validation (151)

The CLI turns every LocalError into a one-line reason and exit status 2;
a RemoteError is part of a run's behaviour, never a crash.
"""

from __future__ import annotations

from typing import Any


class ChatsimError(Exception):
    """Root of every error chatsim raises on purpose."""


class LocalError(ChatsimError):
    """Raised because of something on this side."""


class BadInput(LocalError):
    """Malformed input: names the source, the line, the field and the expectation."""

    def __init__(
        self,
        source: str,
        expected: str,
        *,
        line: int | None = None,
        field: str | None = None,
        got: object = None,
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        self.expected = expected
        self.got = got
        super().__init__(self.reason())

    def reason(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        what = f" {self.field}:" if self.field else ""
        got = "" if self.got is None else f", got {_short(self.got)}"
        return f"{where}:{what} expected {self.expected}{got}"


class UsageError(LocalError):
    """A command or API call that cannot be honoured as given."""


class IllegalTransition(LocalError):
    """The statechart has no transition for this trigger in this state."""

    def __init__(self, state: str, trigger: str) -> None:
        self.state = state
        self.trigger = trigger
        super().__init__(f"no transition '{trigger}' from state '{state}'")


class RemoteError(ChatsimError):
    """Raised because of something the peer said or did."""


class ServerError(RemoteError):
    """A chat command the server refused, with its EventError code."""

    def __init__(self, code: int, description: str, data: dict[str, Any] | None = None) -> None:
        self.code = code
        self.description = description
        self.data = data or {}
        super().__init__(f"{code} {description}")


class ProtocolViolation(RemoteError):
    """A server reply that fails validation (reported to the application as 151)."""


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
