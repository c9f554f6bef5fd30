"""What one emulated browser saw, judged against the server's truth; sums of those.

Pure values and functions (no Locust, no sockets), so the tallying is tested
on its own. A `SessionRecord` is filled from the transport's events while the
session runs; `judge_session` turns it, plus the server's transcript of the
chat when the server can tell it, into a `SessionTally`; `Totals` adds
tallies up (per worker, then across workers on the master).

Definitions (the I6 invariant, counted instead of merely judged):

- with the server's truth (the transcript of the chat, as `chatsim serve`
  exposes it): every accepted transcript index must reach the application
  once. `lost` = accepted indexes never delivered + acknowledged messages the
  server does not have; `duplicated` = extra deliveries of an index + extra
  acknowledgements of one message + a client message id at two indexes.
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


@dataclass(frozen=True)
class TruthEvent:
    """One transcript entry as the server has it."""

    index: int
    party: str
    message_id: str | None = None


@dataclass(frozen=True)
class Truth:
    """The server's transcript of one chat."""

    chat_id: str
    events: tuple[TruthEvent, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Truth:
        events = tuple(
            TruthEvent(int(e["index"]), str(e.get("party", "")), e.get("id"))
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

    @property
    def alive(self) -> bool:
        return self.state not in ("ended", "failed")

    def unresolved(self) -> list[str]:
        return [m for m in self.sent if m not in self.acked and m not in self.failed]


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
        interrupted=record.interrupted,
        continued=record.continued,
        restored=record.restored,
        violations=len(record.violations),
        errors=Counter(record.errors),
    )


def judge_session(record: SessionRecord, truth: Truth | None) -> Totals:
    """Count the record against the server's truth (or the client-only bound)."""
    out = live_counts(record)
    out.judged = 1
    out.unacked = len(record.unresolved())
    seen = Counter(record.delivered)
    out.duplicated = sum(n - 1 for n in seen.values() if n > 1)
    out.duplicated += sum(len(ix) - 1 for ix in record.acked.values() if len(ix) > 1)
    if truth is None:
        acked_top = max((ix[0] for ix in record.acked.values()), default=0)
        top = max([*seen, acked_top], default=0)
        expected = set(range(1, top + 1)) if record.chat_id else set(_acked_sequence(record))
        out.lost = len(expected - set(seen))
        return out
    out.truth_checked = 1
    accepted = {e.index for e in truth.events}
    if not record.alive:
        # A finished session owes nothing past what it had reached.
        accepted = {i for i in accepted if i <= max(seen, default=0)}
    out.lost = len(accepted - set(seen))
    where: dict[str, list[int]] = {}
    for event in truth.events:
        if event.message_id is not None:
            where.setdefault(event.message_id, []).append(event.index)
    out.duplicated += sum(len(ix) - 1 for ix in where.values() if len(ix) > 1)
    out.lost += sum(1 for message_id in record.acked if message_id not in where)
    return out


def _acked_sequence(record: SessionRecord) -> list[int]:
    """Pure Bayeux: the sequence numbers the server confirmed (ids end in `-<n>`)."""
    return [ix[0] for ix in record.acked.values()]
