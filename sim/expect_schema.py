"""What an `expect` item may name: the kinds of record a run writes, each kind's fields, the codes.

The scenario loader refuses an expectation that could never match (an
unknown kind, a field its kind never has, a code outside the catalog) as bad
input, instead of running the scenario and failing it. Client kinds and
fields come from the event classes themselves; the server, network and fault
records are listed here, next to nothing else, so a new record kind is added
in one place.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import fields

from statecharts.catalog import ErrorCode
from statecharts.events import APP_EVENT_TYPES, Acked, AppEvent, CommandDone, Loss, SendFailed


def _wire_names(cls: type[AppEvent]) -> frozenset[str]:
    return frozenset(f.metadata.get("wire", f.name) for f in fields(cls))


_CLIENT_TYPES: tuple[type[AppEvent], ...] = (
    *APP_EVENT_TYPES.values(),
    Loss,
    Acked,
    SendFailed,
    CommandDone,
)
_CLIENT: dict[str, frozenset[str]] = {cls.kind: _wire_names(cls) for cls in _CLIENT_TYPES}
_OTHERS: dict[str, frozenset[str]] = {
    kind: frozenset(names)
    for kind, names in {
        # server:<instance> records (sim.server)
        "crash": {"dropped"},
        "recover": set(),
        "agent": {"chatId", "index"},
        "session.start": {"chatId"},
        "session.end": {"chatId", "reason"},
        "session.expire": {"chatId", "reason"},
        "session.move": {"chatId", "from", "to"},
        "bad_frame": {"reason"},
        "client.start": {"client"},
        "client.end": {"client", "reason"},
        "credential.renewed": {"client"},  # a handshake answered an issued nonce
        "credential.refused": set(),
        # net records (sim.network)
        "open": {"conn", "instance"},
        "close": {"conn", "by", "reason"},
        "refused": {"conn", "reason"},
        "drop": {"conn", "dir", "why"},
        "corrupt": {"conn", "dir", "mode"},
        "dup": {"conn", "dir", "copies"},
        "hold": {"conn", "dir"},
        # fault and runner records
        "fault.start": {"fault"},
        "fault.end": {"fault"},
        "action.skipped": {"do", "state"},
    }.items()
}
# `command` is both a client record (CommandDone) and a server one.
_SERVER_COMMAND = frozenset({"operation", "client", "chatId", "error", "behaviour"})

KIND_FIELDS: dict[str, frozenset[str]] = {
    **_OTHERS,
    **_CLIENT,
    "command": _CLIENT["command"] | _SERVER_COMMAND,
}
KNOWN_KINDS = frozenset(KIND_FIELDS)
CODE_FIELDS = frozenset({"code", "error"})
CATALOG_CODES = frozenset(int(code) for code in ErrorCode)


def unknown_kind(kind: str) -> str | None:
    """What was expected, when `kind` is not a kind any run records."""
    if kind in KNOWN_KINDS:
        return None
    listed = ", ".join(sorted(_CLIENT))
    return f"an event kind ({listed}, or a server/net/fault record kind){_guess(kind, KNOWN_KINDS)}"


def unknown_field(kind: str, name: str, value: object) -> str | None:
    """What was expected, when `name: value` can never match a `kind` record."""
    known = KIND_FIELDS[kind]
    if name not in known:
        listed = ", ".join(sorted(known)) or "none"
        return f"a field of {kind} records ({listed}){_guess(name, known)}"
    if name in CODE_FIELDS and not (isinstance(value, int) and value in CATALOG_CODES):
        codes = ", ".join(str(c) for c in sorted(CATALOG_CODES))
        return f"a catalog code ({codes}; see chatsim codes)"
    return None


def _guess(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f"; did you mean {close[0]}?" if close else ""
