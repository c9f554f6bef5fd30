"""I6: no loss, no duplication.

On the trace alone (`Delivery.feed`, then `finish`):
- inbound `message` indexes arrive once each, in order, with no gap;
- an `ack` names a message this client sent, once, never with a `send_failed`
  for it, and at the index where the trace shows that message (a `message in`
  carrying its id), not at an index the trace shows holding another event;
- by the end every sent message is acknowledged or reported failed, unless
  the session is still recovering (lost, not yet ready) when the trace ends.

The rule on plain values (indexes, ids) is `i6_rule`, shared with the load
tally. Against the server's truth (`Truth`): the client saw exactly what the server
accepted for its chat (no index it never had; none missing once the session
is ready and settled), no message is twice in the transcript, and each ack
carries the index the server gave that message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from statecharts.judge.facts import ENDED, FAILED, INBOUND, OUTBOUND, READY, ClientFacts, Feed
from statecharts.judge.i6_rule import (
    Inbound,
    accepted_twice,
    inbound_fault,
    never_delivered,
    not_accepted,
    unresolved,
)
from statecharts.judge.truth import Accepted, Truth
from statecharts.judge.verdict import Report, show
from statecharts.trace import TraceRecord


@dataclass
class _Books:
    """One client's deliveries and messages, as its trace tells them."""

    last_index: int | None = None
    # index -> its first message in (the keys: every index delivered)
    shown: dict[int, TraceRecord] = field(default_factory=dict)
    # client message id -> the index of the last first-shown message in carrying it
    own_index: dict[str, int] = field(default_factory=dict)
    sent: dict[str, TraceRecord] = field(default_factory=dict)  # id -> message out
    acks: dict[str, list[TraceRecord]] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)


class Delivery:
    def __init__(self, tolerance: float, *, wall_clock: bool) -> None:
        self.tolerance = tolerance
        self.wall_clock = wall_clock
        self.books: dict[str, _Books] = {}

    def routes(self) -> dict[str, Feed]:
        return {
            INBOUND: self._inbound,
            OUTBOUND: self._sent,
            "ack": self._ack,
            "send_failed": self._send_failed,
        }

    def _books(self, src: str) -> _Books:
        books = self.books.get(src)
        if books is None:  # not setdefault: that would build a _Books per record
            books = self.books[src] = _Books()
        return books

    def _sent(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        msg_id = rec.data.get("id")
        if isinstance(msg_id, str):
            books = self.books.get(rec.src) or self._books(rec.src)
            if msg_id not in books.sent:
                books.sent[msg_id] = rec

    def _inbound(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        data = rec.data
        books = self.books.get(rec.src) or self._books(rec.src)
        index: int = data["index"]  # an integer: the trace reader checked it
        last = books.last_index
        shown = books.shown
        fault = inbound_fault(index, last, shown)
        if fault is not None:
            _misdelivered(rec, index, last, fault, report)
        books.last_index = index if last is None or index > last else last
        # (`fault is None` first: an enum member costs a lookup on the enum class)
        if fault is None or fault is not Inbound.TWICE:  # the first message in at this index
            shown[index] = rec
            msg_id = data.get("id")
            if isinstance(msg_id, str):  # acks name messages by string ids only
                books.own_index[msg_id] = index

    def _ack(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        msg_id = rec.data.get("id")
        if not isinstance(msg_id, str):
            return
        books = self._books(rec.src)
        acks = books.acks.get(msg_id)
        if acks is None:
            acks = books.acks[msg_id] = []
        acks.append(rec)
        if msg_id not in books.sent:
            report.fail(rec, "I6", f"an ack of a message this client sent; {msg_id} never was")
        if len(acks) > 1:
            report.fail(rec, "I6", f"one ack of {msg_id}; it is acknowledged {len(acks)} times")
        if msg_id in books.failed:
            report.fail(rec, "I6", f"no ack of {msg_id}: it was reported failed")

    def _send_failed(self, rec: TraceRecord, facts: ClientFacts, report: Report) -> None:
        msg_id = rec.data.get("id")
        if not isinstance(msg_id, str):
            return
        books = self._books(rec.src)
        if books.acks.get(msg_id):
            report.fail(rec, "I6", f"no send_failed for {msg_id}: it was acknowledged")
        books.failed.add(msg_id)

    # -- at the end ------------------------------------------------------------------
    def finish(
        self,
        clients: Mapping[str, ClientFacts],
        truth: Truth | None,
        end: float,
        report: Report,
        *,
        cut: bool = False,
    ) -> None:
        """`cut`: the trace stops before the session did, so nothing is due at its end."""
        for src, facts in clients.items():
            books = self.books.get(src, _Books())
            if not cut:
                self._unresolved(src, facts, books, end, report)
            self._acks_against_trace(books, report)
            if truth is not None:
                chat = truth.chats.get(src) or facts.chat_id
                _Against(src, facts, books, truth, chat, self, end, report, cut).judge()

    def _unresolved(
        self, src: str, facts: ClientFacts, books: _Books, end: float, report: Report
    ) -> None:
        # A session still recovering when the trace ends may yet resolve its messages.
        if facts.phase not in (READY, ENDED, FAILED):
            return
        for msg_id in unresolved(books.sent, books.acks, books.failed):
            sent = books.sent[msg_id]
            if self.wall_clock and sent.t > end - self.tolerance:
                continue  # sent as the trace ended: its ack may be on the way
            report.add(
                "I6",
                f"{src} message {msg_id} was neither acknowledged nor failed",
                "an ack or a send_failed for it by the end of the trace",
                line=sent.line,
                t=sent.t,
            )

    @staticmethod
    def _acks_against_trace(books: _Books, report: Report) -> None:
        """An ack names its own message's index, where the trace shows it."""
        own_index = books.own_index
        for msg_id, acks in books.acks.items():
            shown = own_index.get(msg_id)
            for ack in acks:
                index = ack.data.get("index")
                if shown is not None:
                    if shown != index:
                        report.fail(ack, "I6", f"index {shown}, where the trace shows {msg_id}")
                    continue  # at its own index: the message shown there is this one
                there = books.shown.get(index) if isinstance(index, int) else None
                if there is not None and _another(there, msg_id):
                    report.fail(ack, "I6", f"the index of {msg_id}; index {index} is {show(there)}")


@dataclass
class _Against:
    """One client's deliveries and acks against what the server accepted."""

    src: str
    facts: ClientFacts
    books: _Books
    truth: Truth
    chat: str | None
    rule: Delivery
    end: float
    report: Report
    cut: bool

    def judge(self) -> None:
        if self.chat is None:
            return
        transcripts = self.truth.transcripts
        accepted = list(transcripts.get(self.chat, ())) if transcripts is not None else None
        if accepted is not None:
            self._transcript(accepted)
        self._acks(accepted)
        facts = self.facts
        if self.truth.settled is False and facts.ever_ready and facts.phase not in (ENDED, FAILED):
            books = self.books
            left = unresolved(books.sent, books.acks, books.failed)
            self.report.add(
                "I6",
                f"{self.src} did not settle after the run (state {facts.phase}, "
                f"{len(left)} message(s) unresolved)",
                "every live session ready and caught up, every message resolved",
            )

    def _transcript(self, accepted: list[Accepted]) -> None:
        src, books = self.src, self.books
        unknown = not_accepted(books.shown, {a.index for a in accepted})
        if unknown:
            self.report.add(
                "I6",
                f"{src} saw indexes {_short(unknown)} the server never had",
                f"only the indexes the server accepted for {self.chat}",
            )
        until = self.facts.delivery_horizon(self.end)
        if until is None or self.truth.settled is False or self.cut:
            return
        ready = self.facts.phase == READY
        horizon = until - self.rule.tolerance
        due = (a.index for a in accepted if (a.t <= horizon if a.t is not None else ready))
        missing = never_delivered(due, books.shown)
        if missing:
            self.report.add(
                "I6",
                f"{src} never saw transcript indexes {_short(missing)} of {self.chat}",
                "every event the server accepted for its chat, once",
            )

    def _acks(self, accepted: list[Accepted] | None) -> None:
        by_id: dict[str, int] = dict(self.truth.server_acks.get(self.chat or "", {}))
        if accepted is None and not by_id:
            return  # nothing known of the server's indexes
        own = [a for a in accepted or () if a.id is not None]  # the client messages
        for msg_id in sorted(accepted_twice(a.id for a in own)):
            self.report.add(
                "I6",
                f"message {msg_id} is twice in the transcript",
                "each client message accepted once (the server de-duplicates)",
            )
        sources: list[tuple[str, dict[str, int]]] = []  # what the server says, where known
        if accepted is not None:
            sources.append(("transcript", {a.id: a.index for a in own if a.id is not None}))
        if by_id:
            sources.append(("acknowledgement", by_id))
        for msg_id, acks in self.books.acks.items():
            index = acks[0].data.get("index")
            for source, known in sources:
                if known.get(msg_id) != index:
                    self.report.fail(
                        acks[0],
                        "I6",
                        f"the server's index for {msg_id}: {self.src} message {msg_id} "
                        f"acknowledged at index {index}, the server's {source} has it at "
                        f"{known.get(msg_id)}",
                    )


def _misdelivered(
    rec: TraceRecord, index: int, last: int | None, fault: Inbound, report: Report
) -> None:
    if fault is Inbound.TWICE:
        report.fail(rec, "I6", f"each index once; this delivers index {index} more than once")
        return
    due = 1 if last is None else last + 1  # LATE and GAP come after a first index
    if fault is Inbound.LATE:
        report.fail(rec, "I6", f"index {due}; index {index} arrives out of order")
    else:
        report.fail(rec, "I6", f"index {due}; indexes {due}..{index - 1} missed")


def _another(shown: TraceRecord, msg_id: str) -> bool:
    """The delivered event is not this client message: another id, or another party."""
    other_id = shown.data.get("id")
    if other_id is not None:
        return bool(other_id != msg_id)
    party = shown.data.get("party")
    return party is not None and party != "client"


def _short(xs: Sequence[int], limit: int = 8) -> str:
    text = ", ".join(str(x) for x in xs[:limit])
    return text + (", ..." if len(xs) > limit else "")
