"""Per browser session traces: the page's own events beside the server's truth.

`chatsim serve --trace DIR` writes `DIR/<session>.jsonl` for each recorder
session, in the trace format `chatsim check` reads:

- line 1: `{"kind": "run", "scenario": "live:<session>", "seed": 0, "version": 1,
  "clock": "wall", "interrupt_after", "interruption_error", "tolerance"}`
  (`"truncated": true` is added when a cap below was reached);
- `client:<session>` lines: what the page recorded (see `sim.live.recorder`);
- `server:<instance>` lines for the chats the page named with `chat {chatId}`:
  `transcript {chatId, index, party, id?}`, `acked {chatId, id, index}`,
  `session.start {chatId}`, `session.move {chatId, from, to}` and
  `session.end {chatId, reason}` (reason `disconnect`, `ttl`, `fault`, or
  `server`: the server ended it after an error, PolyAI `SESSION_END`);
- `fault` lines: `fault.start`/`fault.end {fault}` of every fault active at
  any time since the session began (its page opened, or its first event).

Lines are ordered by `t` (seconds since the server started; the page's lines
use the browser clock). Nothing here reads a clock or touches the disk: the
caller passes `now` and writes `render()` where it wants.

Bounds (every map a client can grow): at most `max_sessions` sessions (64;
at the cap, a session without events for `RETIRE_IDLE` seconds is retired to
make room: its file stays, its page is told to start a new session; if none
is idle the new one is refused), `max_records` lines per session (10,000; later ones
are dropped and the header says `truncated`), `MAX_CHATS` chats remembered
(`MAX_UNCLAIMED_RECORDS` lines each until a page names the chat), `MAX_FAULTS`
faults remembered.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sim.live.recorder import Batch
from sim.server.outputs import ServerEvent
from statecharts.trace import RunHeader, TraceRecord

MAX_SESSIONS = 64
MAX_RECORDS = 10_000
MAX_CHATS = 2048
MAX_CHATS_PER_SESSION = 16
# Lines kept for a chat no page has named yet (a page names its chat after it started).
MAX_UNCLAIMED_RECORDS = 64
MAX_FAULTS = 1000
# At the session cap, a session silent this long is retired to make room.
RETIRE_IDLE = 300.0
MAX_RETIRED = 4096
INTERRUPT_AFTER = 3.0
# How far a browser's events may be from the server's wall-clock truth (clocks, delivery).
TOLERANCE = 1.0
TRUTH_KINDS = frozenset({"transcript", "acked", "session.start", "session.move"})
ENDINGS = {"session.end": "disconnect", "session.expire": None}


class TooManySessions(Exception):
    """The session cap is reached and no session is idle: a new session is refused."""


class SessionRetired(Exception):
    """The session was retired (idle at the cap): the page should start a new one."""


@dataclass
class ChatLog:
    """The server's truth for one chat, and what the control page shows of it."""

    chat_id: str
    instance: str
    records: list[TraceRecord] = field(default_factory=list)
    position: int = 0
    acks: int = 0
    ended: str | None = None
    claimed: bool = False
    dropped: bool = False  # a line was left out (a cap was reached)


@dataclass
class FaultSpan:
    id: int
    fault: dict[str, Any]
    start: float
    end: float | None = None


@dataclass
class SessionLog:
    """One recorder session: a page (and its reloads)."""

    id: str
    began: float
    last_seen: float
    settings: dict[str, Any] = field(default_factory=dict)
    records: list[TraceRecord] = field(default_factory=list)
    chats: list[str] = field(default_factory=list)
    next_seq: int = 0
    truncated: bool = False
    state: str = "started"
    counters: Counter[str] = field(default_factory=Counter)


class TraceBook:
    def __init__(
        self,
        *,
        max_sessions: int = MAX_SESSIONS,
        max_records: int = MAX_RECORDS,
        tolerance: float = TOLERANCE,
    ) -> None:
        self.max_sessions = max_sessions
        self.max_records = max_records
        self.tolerance = tolerance
        self.sessions: dict[str, SessionLog] = {}
        self.chats: OrderedDict[str, ChatLog] = OrderedDict()
        self.faults: OrderedDict[int, FaultSpan] = OrderedDict()
        self._dirty: dict[str, None] = {}
        self._retired: OrderedDict[str, None] = OrderedDict()
        self._final: dict[str, str] = {}  # retired sessions' last text, to write once

    # -- the page's events --------------------------------------------------------------
    def record(self, batch: Batch, now: float) -> int:
        """Add a batch; returns how many events were new (a re-sent batch adds none)."""
        log = self.sessions.get(batch.session)
        if log is None:
            if batch.session in self._retired:
                raise SessionRetired(f"session {batch.session} was retired: start a new one")
            if len(self.sessions) >= self.max_sessions:
                self._retire_idlest(now)
            first = min((e.record.t for e in batch.events), default=now)
            log = self.sessions[batch.session] = SessionLog(batch.session, min(first, now), now)
        if batch.opened is not None:
            log.began = min(log.began, batch.opened)
        log.last_seen = now
        log.settings.update(batch.settings)
        added = 0
        for event in batch.events:
            if event.seq < log.next_seq:
                continue  # already recorded: the response to an earlier send was lost
            log.next_seq = event.seq + 1
            self._take(log, event.record)
            added += 1
        self._dirty[log.id] = None
        return added

    def _retire_idlest(self, now: float) -> None:
        """Make room: retire the session silent longest, if it is idle; else refuse."""
        idlest = min(self.sessions.values(), key=lambda log: log.last_seen)
        if now - idlest.last_seen < RETIRE_IDLE:
            raise TooManySessions(
                f"at most {self.max_sessions} recorder sessions at once "
                f"(one is retired after {RETIRE_IDLE:.0f} s without events)"
            )
        self._final[idlest.id] = self.render(idlest.id)
        del self.sessions[idlest.id]
        self._dirty.pop(idlest.id, None)
        self._retired[idlest.id] = None
        while len(self._retired) > MAX_RETIRED:
            self._retired.popitem(last=False)
        claimed = {n for log in self.sessions.values() for n in log.chats}
        for chat_id in idlest.chats:
            chat = self.chats.get(chat_id)
            if chat is not None:
                chat.claimed = chat_id in claimed

    def take_final(self) -> dict[str, str]:
        """Retired sessions' final text (write it once; they are no longer in `sessions`)."""
        final, self._final = self._final, {}
        return final

    def _take(self, log: SessionLog, rec: TraceRecord) -> None:
        log.counters[_counter(rec)] += 1
        log.state = _state_after(log.state, rec)
        if rec.kind == "chat":
            self._claim(log, str(rec.data["chatId"]))
        if len(log.records) + self._truth_size(log) >= self.max_records:
            log.truncated = True
        else:
            log.records.append(rec)

    def _claim(self, log: SessionLog, chat_id: str) -> None:
        if chat_id in log.chats or len(log.chats) >= MAX_CHATS_PER_SESSION:
            return
        log.chats.append(chat_id)
        chat = self.chats.get(chat_id)
        if chat is not None:
            chat.claimed = True

    def _truth_size(self, log: SessionLog) -> int:
        return sum(len(c.records) for n in log.chats if (c := self.chats.get(n)) is not None)

    # -- the server's truth ------------------------------------------------------------
    def server_event(self, event: ServerEvent) -> None:
        t, src, kind, fields = event
        chat_id = fields.get("chatId")
        if not isinstance(chat_id, str) or (kind not in TRUTH_KINDS and kind not in ENDINGS):
            return
        chat = self._chat(chat_id, src.removeprefix("server:"))
        if kind in ENDINGS:
            reason = str(fields.get("reason") or ENDINGS[kind] or "expired")
            kind, fields = "session.end", {"chatId": chat_id, "reason": reason}
            chat.ended = reason
        elif kind == "transcript":
            chat.position = max(chat.position, int(fields["index"]))
        elif kind == "acked":
            chat.acks += 1
        elif kind == "session.move":
            chat.instance = str(fields["to"])
        cap = self.max_records if chat.claimed else MAX_UNCLAIMED_RECORDS
        if len(chat.records) < cap:
            chat.records.append(TraceRecord(t, src, kind, dict(fields)))
        else:
            chat.dropped = True
        for log in self.sessions.values():
            if chat_id in log.chats:
                self._dirty[log.id] = None

    def _chat(self, chat_id: str, instance: str) -> ChatLog:
        chat = self.chats.get(chat_id)
        if chat is None:
            claimed = any(chat_id in log.chats for log in self.sessions.values())
            chat = self.chats[chat_id] = ChatLog(chat_id, instance, claimed=claimed)
            if len(self.chats) > MAX_CHATS:
                self._forget_a_chat()
        return chat

    def _forget_a_chat(self) -> None:
        """Forget the oldest chat no page has named (or else the oldest chat)."""
        victim = next((n for n, c in self.chats.items() if not c.claimed), None)
        self.chats.pop(victim if victim is not None else next(iter(self.chats)))

    def fault_started(self, fault_id: int, fault: dict[str, Any], now: float) -> None:
        self.faults[fault_id] = FaultSpan(fault_id, dict(fault), now)
        while len(self.faults) > MAX_FAULTS:
            self.faults.popitem(last=False)
        self._touch_all()

    def fault_ended(self, fault_id: int, now: float) -> None:
        span = self.faults.get(fault_id)
        if span is not None and span.end is None:
            span.end = now
            self._touch_all()

    def _touch_all(self) -> None:
        for name in self.sessions:
            self._dirty[name] = None

    # -- output -----------------------------------------------------------------------
    def take_dirty(self) -> list[str]:
        """Sessions changed since the last call (to rewrite their files)."""
        dirty, self._dirty = list(self._dirty), {}
        return dirty

    def header(self, session: str) -> RunHeader:
        log = self.sessions[session]
        extra: dict[str, Any] = {
            "clock": "wall",
            "interrupt_after": float(log.settings.get("interrupt_after", INTERRUPT_AFTER)),
            "interruption_error": bool(log.settings.get("interruption_error", True)),
            "tolerance": self.tolerance,
        }
        if log.truncated or any(
            c.dropped for n in log.chats if (c := self.chats.get(n)) is not None
        ):
            extra["truncated"] = True
        return RunHeader(f"live:{session}", 0, extra=extra)

    def records(self, session: str) -> list[TraceRecord]:
        """The session's lines after the header, ordered by time."""
        log = self.sessions[session]
        lines = list(log.records)
        for chat_id in log.chats:
            chat = self.chats.get(chat_id)
            if chat is not None:
                lines.extend(chat.records)
        lines.extend(self._fault_records(log.began))
        return sorted(lines, key=lambda rec: rec.t)

    def _fault_records(self, since: float) -> list[TraceRecord]:
        out: list[TraceRecord] = []
        for span in self.faults.values():
            if span.end is not None and span.end < since:
                continue
            out.append(TraceRecord(span.start, "fault", "fault.start", {"fault": span.fault}))
            if span.end is not None:
                out.append(TraceRecord(span.end, "fault", "fault.end", {"fault": span.fault}))
        return out

    def render(self, session: str) -> str:
        lines = [self.header(session).to_json(), *(r.to_json() for r in self.records(session))]
        return "".join(line + "\n" for line in lines)


def _counter(rec: TraceRecord) -> str:
    if rec.kind == "message":
        return f"message.{rec.data.get('direction')}"
    return rec.kind


_STATES = {
    "ready": "ready",
    "restored": "ready",
    "continued": "ready",
    "interrupted": "interrupted",
    "ended": "ended",
}


def _state_after(state: str, rec: TraceRecord) -> str:
    """What the control page shows: the last state the page reported or implied."""
    if rec.kind == "state":
        return str(rec.data.get("to", state))
    if rec.kind == "error" and rec.data.get("code") == 152:
        return "failed"
    if state in ("ended", "failed") and rec.kind != "ready":
        return state
    return _STATES.get(rec.kind, state)
