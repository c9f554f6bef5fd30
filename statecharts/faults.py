"""Faults as values, and the one validation of them.

A fault is a frozen dataclass: what goes wrong, from `at` for `duration`
seconds (None: until the run ends, or instantaneous for `expire`/`reload`),
in which `direction` (`up` client→server, `down` server→client, `both`), and
optionally only for one `client` or one server `instance`. The simulated
network and server apply faults in virtual time; the live server and the aio
client's own links apply the same values to real connections, all through
`statecharts.fault_engine`.

`parse_fault` turns a scenario/API mapping into a value, naming the field on
bad input; the scenario loader and the live fault API both use it, so the
same value is refused the same way everywhere: finite numbers only, `at` and
`duration` at most `MAX_SECONDS`, `ms`/`jitter` at most `MAX_MS`, counts at
most `MAX_COUNT`, probabilities in [0, 1], `command_error` codes from the
catalog, `retry_after` at most `MAX_SECONDS`, a `reject`'s `row` one of the
dialect's rows, and (when the caller knows them) instance and client names
it has (a redirect's `to` is an instance).

This module lives in `statecharts/` (which imports nothing of ours) so that
both `transport/aio` (client-side faults) and `sim/` can use it; `sim.faults`
re-exports it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import Enum, StrEnum
from typing import Any, ClassVar

from statecharts.catalog import ErrorCode
from statecharts.dialect_rows import ALL_ROWS
from statecharts.errors import BadInput

# Bounds of the one validation (documented in the README's fault table).
MAX_SECONDS = 604_800.0  # `at`, `duration`: one week
MAX_MS = 60_000.0  # `ms`, `jitter`: one minute
MAX_COUNT = 1_000_000  # `count` of corrupt, command_error and the seed behaviours


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"
    BOTH = "both"

    def covers(self, way: Direction) -> bool:
        return self is Direction.BOTH or self is way


class CorruptMode(StrEnum):
    INVALID_JSON = "invalid_json"
    SCHEMA = "schema"
    TRUNCATED = "truncated"


@dataclass(frozen=True)
class Fault:
    kind: ClassVar[str] = ""
    at: float = 0.0
    duration: float | None = None
    direction: Direction = Direction.BOTH
    client: str | None = None
    instance: str | None = None

    @property
    def end(self) -> float | None:
        return None if self.duration is None else self.at + self.duration

    def active(self, now: float) -> bool:
        end = self.end
        return self.at <= now and (end is None or now < end)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            # Leave out what parse_fault would restore anyway, and nothing else.
            if value is None or (f.name == "direction" and value is f.default):
                continue
            out[f.name] = value.value if isinstance(value, Enum) else value
        return out


# -- network faults ---------------------------------------------------------
@dataclass(frozen=True)
class Outage(Fault):
    """Connections closed at once; new connections refused for the duration."""

    kind: ClassVar[str] = "outage"
    duration: float | None = None


@dataclass(frozen=True)
class Blackhole(Fault):
    """Frames held (connections look open) and delivered late when it ends, as TCP would."""

    kind: ClassVar[str] = "blackhole"


@dataclass(frozen=True)
class Latency(Fault):
    """Extra one-way delay of `ms`, plus uniform jitter in [0, jitter] ms."""

    kind: ClassVar[str] = "latency"
    ms: float = 0.0
    jitter: float = 0.0


@dataclass(frozen=True)
class Loss(Fault):
    kind: ClassVar[str] = "loss"
    p: float = 0.0


@dataclass(frozen=True)
class Duplicate(Fault):
    kind: ClassVar[str] = "duplicate"
    p: float = 0.0


@dataclass(frozen=True)
class Reorder(Fault):
    """With probability p a frame is held back behind the next one (at most REORDER_HOLD s)."""

    kind: ClassVar[str] = "reorder"
    p: float = 0.0


@dataclass(frozen=True)
class Corrupt(Fault):
    """The next `count` frames this fault carries (default direction: down) are corrupted.

    The count belongs to the fault (all links together) and is used only by a
    frame that goes on its way corrupted, never by one that `loss` drops."""

    kind: ClassVar[str] = "corrupt"
    count: int = 1
    mode: CorruptMode = CorruptMode.INVALID_JSON
    direction: Direction = Direction.DOWN


# -- server and client faults ---------------------------------------------
@dataclass(frozen=True)
class Crash(Fault):
    """Instance down: its connections drop, new ones refused; the store survives."""

    kind: ClassVar[str] = "crash"


@dataclass(frozen=True)
class Expire(Fault):
    """The server forgets the session (as if its TTL ran out)."""

    kind: ClassVar[str] = "expire"


@dataclass(frozen=True)
class Reload(Fault):
    """Page reload on the client: the transport restarts from its saved state."""

    kind: ClassVar[str] = "reload"


@dataclass(frozen=True)
class NotReady(Fault):
    """Channel opens but the server answers requestChat with 'not ready yet'."""

    kind: ClassVar[str] = "not_ready"


@dataclass(frozen=True)
class CommandError(Fault):
    """The next `count` chat commands fail with `code`."""

    kind: ClassVar[str] = "command_error"
    code: int = 52
    count: int = 1


@dataclass(frozen=True)
class Slow(Fault):
    """The server takes `ms` longer to answer each message."""

    kind: ClassVar[str] = "slow"
    ms: float = 0.0


# -- server behaviours of the other seeds (each dialect renders its own row) ------
@dataclass(frozen=True)
class RateLimit(Fault):
    """The next `count` chat commands are refused as rate-limited: retry after `retry_after` s.

    Genesys: 100 with data.retryAfter; Layer 429 rate_limit_exceeded; PolyAI 429."""

    kind: ClassVar[str] = "rate_limit"
    count: int = 1
    retry_after: float = 1.0


@dataclass(frozen=True)
class ExpireCredential(Fault):
    """The next `count` chat commands are refused: the client's credential expired.

    The refusal carries a nonce challenge in data.nonce (Layer 401
    authentication_required; LiveChat authentication; PolyAI 401)."""

    kind: ClassVar[str] = "expire_credential"
    count: int = 1


@dataclass(frozen=True)
class Redirect(Fault):
    """While it lasts, chat commands reaching any instance but `to` are refused as
    misdirected, naming `to` in data.region (LiveChat misdirected_request)."""

    kind: ClassVar[str] = "redirect"
    to: str = field(kw_only=True)


@dataclass(frozen=True)
class NoReply(Fault):
    """The next `count` chat commands are never answered (the request times out)."""

    kind: ClassVar[str] = "no_reply"
    count: int = 1


@dataclass(frozen=True)
class ResetCursor(Fault):
    """The next `count` restores replay the transcript from 0, whatever position they
    name (PolyAI: an invalid cursor defaults to 0); the client de-duplicates."""

    kind: ClassVar[str] = "reset_cursor"
    count: int = 1


@dataclass(frozen=True)
class SessionEnd(Fault):
    """The next `count` chat commands fail with `code` and the server then ends their
    chat on its own (PolyAI: some errors are followed by a `SESSION_END` event)."""

    kind: ClassVar[str] = "session_end"
    code: int = 52
    count: int = 1


@dataclass(frozen=True)
class Reject(Fault):
    """The next `count` chat commands are refused with the dialect's error row `row`
    (its key: a LiveChat type, a Layer id, an api.video or PolyAI message)."""

    kind: ClassVar[str] = "reject"
    row: str = field(kw_only=True)
    count: int = 1


FAULT_TYPES: dict[str, type[Fault]] = {
    t.kind: t
    for t in (
        Outage,
        Blackhole,
        Latency,
        Loss,
        Duplicate,
        Reorder,
        Corrupt,
        Crash,
        Expire,
        Reload,
        NotReady,
        CommandError,
        Slow,
        RateLimit,
        ExpireCredential,
        Redirect,
        NoReply,
        ResetCursor,
        SessionEnd,
        Reject,
    )
}
NETWORK_KINDS = frozenset(
    {"outage", "blackhole", "latency", "loss", "duplicate", "reorder", "corrupt"}
)
# The other seeds' server behaviours (the cluster applies them; dialects render them).
_BEHAVIOURS = (RateLimit, ExpireCredential, Redirect, NoReply, ResetCursor, SessionEnd, Reject)
BEHAVIOUR_KINDS = frozenset(t.kind for t in _BEHAVIOURS)
# Kinds that make no sense without a duration.
NEEDS_DURATION = frozenset({"outage", "blackhole", "crash", "not_ready"})
_PROBABILITY_FIELDS = frozenset({"p"})
_CODES = frozenset(int(code) for code in ErrorCode)
_UPPER = {
    "at": MAX_SECONDS,
    "duration": MAX_SECONDS,
    "retry_after": MAX_SECONDS,
    "ms": MAX_MS,
    "jitter": MAX_MS,
}


def parse_fault(
    raw: Mapping[str, Any],
    source: str = "<fault>",
    line: int | None = None,
    *,
    instances: Collection[str] | None = None,
    clients: Collection[str] | None = None,
    rows: Collection[str] | None = None,
) -> Fault:
    """Build a fault value from a mapping; BadInput names the offending key.

    `instances`/`clients`: the names the caller has (None: any name goes);
    `rows`: the error rows a `reject` may name (its server's dialect; None: any
    dialect's)."""

    def bad(field: str, expected: str, got: object = None) -> BadInput:
        return BadInput(source, expected, line=line, field=field, got=got)

    if not isinstance(raw, Mapping):
        raise bad("faults", "a mapping like {at: 10, kind: outage, duration: 5}", raw)
    kind = raw.get("kind")
    if kind not in FAULT_TYPES:
        raise bad("kind", f"one of {', '.join(sorted(FAULT_TYPES))}", kind)
    cls = FAULT_TYPES[kind]
    known = {f.name: f for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "kind":
            continue
        if key not in known:
            raise bad(key, f"a key of a {kind} fault ({', '.join(sorted(known))})", key)
        kwargs[key] = _convert(kind, key, value, bad)
    row = kwargs.get("row")
    if row is not None and row not in (ALL_ROWS if rows is None else rows):
        raise bad("row", "a row key of the server's dialect (chatsim codes --dialect)", row)
    for key, names in (("instance", instances), ("to", instances), ("client", clients)):
        name = kwargs.get(key)
        if name is not None and names is not None and name not in names:
            known_names = ", ".join(sorted(names)) or "none yet"
            raise bad(key, f"one of {known_names}", name)
    if kind in NEEDS_DURATION and kwargs.get("duration") is None:
        article = "an" if kind[0] in "aeiou" else "a"
        raise bad("duration", f"a duration in seconds for {article} {kind} fault")
    missing = [n for n, f in known.items() if f.default is MISSING and n not in kwargs]
    if missing:
        raise bad(missing[0], "a value")
    return cls(**kwargs)


def _convert(kind: str, key: str, value: Any, bad: Any) -> Any:
    if key == "direction":
        try:
            return Direction(value)
        except ValueError:
            raise bad(key, "up, down or both", value) from None
    if key == "mode":
        try:
            return CorruptMode(value)
        except ValueError:
            raise bad(key, "invalid_json, schema or truncated", value) from None
    if key == "row":
        if not isinstance(value, str) or not value:
            raise bad(key, "the key of an error row (chatsim codes --dialect NAME)", value)
        return value
    if key in ("client", "instance", "to"):
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise bad(key, "a name", value)
        return str(value)
    if key == "code":
        if not _is_int(value) or value not in _CODES:
            codes = ", ".join(str(int(c)) for c in ErrorCode)
            raise bad(key, f"an error code of the catalog ({codes})", value)
        return int(value)
    if key == "count":
        if not _is_int(value) or not 0 <= value <= MAX_COUNT:
            raise bad(key, f"a whole number from 0 to {MAX_COUNT}", value)
        return value
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise bad(key, "a number", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise bad(key, "a finite number", value)
    if key in _PROBABILITY_FIELDS:
        if not 0.0 <= value <= 1.0:
            raise bad(key, "a probability between 0 and 1", value)
        return float(value)
    top = _UPPER[key]  # every other numeric key is bounded (a huge int included)
    if not 0.0 <= value <= top:
        unit = "ms" if key in ("ms", "jitter") else "s"
        raise bad(key, f"a number from 0 to {top:g} {unit}", value)
    return float(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
