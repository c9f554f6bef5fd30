"""What one emulated browser saw, judged against the server's truth; sums of those.

Pure values and functions (no Locust, no sockets), so the tallying is tested
on its own. A `SessionRecord` is filled from the transport's events while the
session runs; `judge_session` turns it, plus the server's transcript of the
chat when the server can tell it, into a `SessionTally`; `Totals` adds
tallies up (per worker, then across workers on the master).

Definitions (the I6 invariant, counted instead of merely judged; the rule
itself is `statecharts.judge.i6_rule`, which the judge applies to traces):

- with the server's truth (the transcript of the chat, as `chatsim serve`
  exposes it): every accepted transcript event must reach the application
  once. `lost` = accepted indexes never delivered + acknowledged messages the
  server does not have + indexes where the browser got another event (client
  message id, or party) than the server has there; `duplicated` = extra
  deliveries of an index + extra acknowledgements of one message + a client
  message id at two indexes.
- without it (any other chat server): indexes grow by one per event and are
  never reused, so the highest index the client saw delivered or acknowledged
  bounds what the server accepted; `lost` = the indexes up to it that never
  arrived. A loss at the very end of a transcript is invisible this way.
- `unacked`: messages sent but neither acknowledged nor reported failed when
  the session was judged (after it settled): never silently dropped, or a
  failure.
- pure Bayeux (no transcript): a publish the server confirmed must come back
  once on the publisher's own channel; `lost`/`duplicated` count sequence
  numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from statecharts.judge import i6_rule

# How long a session may take to settle at the end: a dropped connect reply is noticed
# only after the long-poll hold (30 s) plus the maximum network delay (10 s).
SETTLE = 45.0


@dataclass(frozen=True)
class TranscriptEntry:
    """One transcript entry as the server has it."""

    index: int
    party: str
    message_id: str | None = None


@dataclass(frozen=True)
class ServerTranscript:
    """The server's transcript of one chat."""

    chat_id: str
    events: tuple[TranscriptEntry, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServerTranscript:
        events = tuple(
            TranscriptEntry(int(e["index"]), str(e.get("party", "")), e.get("id"))
            for e in data.get("events", [])
        )
        return cls(str(data["chatId"]), events)


@dataclass
class SessionRecord:
    """Filled while the session runs (on the asyncio side), read when judged."""

    name: str
    chat_id: str | None = None
    state: str = "idle"
    ever_ready: bool = False
    sent: list[str] = field(default_factory=list)
    acked: dict[str, list[int]] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    delivered: list[int] = field(default_factory=list)  # transcript indexes or sequence numbers
    interrupted: int = 0
    continued: int = 0
    restored: int = 0
    errors: Counter[int] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)  # the checker's, per session
    bayeux: bool = False  # pure Bayeux: `delivered`/`acked` hold sequence numbers
    agent_said: int = 0  # agent messages the server accepted into this chat (--agent-every)
    # What arrived at each transcript index: the client message id, else the party.
    arrived: dict[int, str] = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        return self.state not in ("ended", "failed")

    def unresolved(self) -> list[str]:
        return i6_rule.unresolved(self.sent, self.acked, self.failed)


@dataclass
class Totals:
    """Counts over sessions: what `chatsim load --json` reports, plus `sessions`."""

    users: int = 0
    sessions_ready: int = 0
    sessions_alive: int = 0
    sessions_restored: int = 0  # sessions restored at least once (failover, reload)
    sent: int = 0
    acked: int = 0
    failed: int = 0
    unacked: int = 0
    delivered: int = 0
    agent_said: int = 0
    lost: int = 0
    duplicated: int = 0
    interrupted: int = 0
    continued: int = 0
    restored: int = 0
    violations: int = 0
    judged: int = 0
    truth_checked: int = 0
    errors: Counter[int] = field(default_factory=Counter)

    def add(self, other: Totals) -> None:
        for f in fields(self):
            if f.name == "errors":
                self.errors.update(other.errors)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @classmethod
    def sum(cls, parts: Iterable[Totals]) -> Totals:
        out = cls()
        for part in parts:
            out.add(part)
        return out

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["errors"] = {str(code): n for code, n in sorted(self.errors.items())}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Totals:
        known = {f.name for f in fields(cls)} - {"errors"}
        out = cls()
        for key in known & set(data):
            setattr(out, key, int(data[key]))
        out.errors = Counter({int(code): int(n) for code, n in data.get("errors", {}).items()})
        return out

    @property
    def clean(self) -> bool:
        """No loss, no duplicate, nothing left unacknowledged, no broken rule."""
        return not (self.lost or self.duplicated or self.unacked or self.violations)


def live_counts(record: SessionRecord) -> Totals:
    """What a running session has seen so far (progress lines; nothing judged yet)."""
    return Totals(
        users=1,
        sessions_ready=int(record.ever_ready),
        sessions_alive=int(record.alive and record.ever_ready),
        sessions_restored=int(record.restored > 0),
        sent=len(record.sent),
        acked=len(record.acked),
        failed=len(record.failed),
        delivered=len(record.delivered),
        agent_said=record.agent_said,
        interrupted=record.interrupted,
        continued=record.continued,
        restored=record.restored,
        violations=len(record.violations),
        errors=Counter(record.errors),
    )


@dataclass(frozen=True)
class Findings:
    """What went wrong in one session, with the indexes and ids (for the report)."""

    missing: tuple[int, ...] = ()  # transcript indexes / sequence numbers never delivered
    unknown_acks: tuple[str, ...] = ()  # acknowledged messages the server does not have
    twice: tuple[int, ...] = ()  # delivered more than once
    acked_twice: tuple[str, ...] = ()
    at_two_indexes: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    # Indexes where the browser got another event than the server has there.
    other_event: tuple[int, ...] = ()

    @property
    def lost(self) -> int:
        return len(self.missing) + len(self.unknown_acks) + len(self.other_event)

    @property
    def duplicated(self) -> int:
        return len(self.twice) + len(self.acked_twice) + len(self.at_two_indexes)

    def describe(self, name: str) -> str | None:
        parts = [
            f"{label} {_short(values)}"
            for label, values in (
                ("never delivered", self.missing),
                ("acknowledged but not on the server", self.unknown_acks),
                ("delivered twice", self.twice),
                ("acknowledged twice", self.acked_twice),
                ("at two transcript positions", self.at_two_indexes),
                ("never acknowledged", self.unresolved),
                ("another event than the server's at", self.other_event),
            )
            if values
        ]
        return f"{name}: " + "; ".join(parts) if parts else None


def find(record: SessionRecord, truth: ServerTranscript | None) -> Findings:
    """The I6 rule (`i6_rule`), per session: see the module docstring for the definitions."""
    seen = set(record.delivered)
    twice = i6_rule.delivered_twice(record.delivered)
    acked_twice = i6_rule.acked_twice(record.acked)
    unresolved = tuple(record.unresolved())
    first_acks = [ix[0] for ix in record.acked.values()]
    if truth is None:
        expected: Iterable[int] = ()  # no chat: nothing the server can have accepted for it
        if record.bayeux:
            expected = set(first_acks)
        elif record.chat_id is not None:
            expected = i6_rule.numbered_up_to(seen, first_acks)
        missing = i6_rule.never_delivered(expected, seen)
        return Findings(missing, (), twice, acked_twice, (), unresolved)
    accepted = {e.index for e in truth.events}
    if not record.alive:
        # A finished session owes nothing past what it had reached.
        accepted = {i for i in accepted if i <= max(seen, default=0)}
    has = {e.index: e.message_id or e.party for e in truth.events}
    return Findings(
        other_event=i6_rule.other_events(record.arrived, has),
        missing=i6_rule.never_delivered(accepted, seen),
        unknown_acks=i6_rule.not_in_transcript(record.acked, {e.message_id for e in truth.events}),
        twice=twice,
        acked_twice=acked_twice,
        at_two_indexes=i6_rule.accepted_twice(e.message_id for e in truth.events),
        unresolved=unresolved,
    )


def judge_session(record: SessionRecord, truth: ServerTranscript | None) -> Totals:
    """Count the record against the server's truth (or the client-only bound)."""
    findings = find(record, truth)
    out = live_counts(record)
    out.judged = 1
    out.truth_checked = int(truth is not None)
    out.unacked = len(findings.unresolved)
    out.lost = findings.lost
    out.duplicated = findings.duplicated
    return out


def _short(values: tuple[int, ...] | tuple[str, ...], limit: int = 6) -> str:
    text = ", ".join(str(v) for v in values[:limit])
    return text + (f", ... ({len(values)})" if len(values) > limit else "")
