"""What the judge knows about one client while it replays the client's records.

Rules read these facts as they were *before* the record they judge; the
judge applies the record afterwards (`ClientFacts.apply`). The facts that
come from the statechart — which states count as lost (`LOST` and where the
interruption timer is armed), which trigger starts a loss, which triggers
mean the session works again (`WORKS_AGAIN`), which end it — are read from
`statecharts.chart`, never restated here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from statecharts.catalog import ErrorCode
from statecharts.chart import (
    INTERRUPT_ARMED_IN,
    LOST,
    TERMINAL,
    TRANSITIONS,
    WORKS_AGAIN,
    State,
    Trigger,
)
from statecharts.judge.verdict import Report
from statecharts.trace import TraceRecord

# The connection counts as lost here: an interruption may be due, or is open.
LOST_STATES = frozenset(LOST | INTERRUPT_ARMED_IN)
# The trigger of the first observed failure (the loss start).
LOSS_TRIGGER = Trigger.CONNECTION_LOST
# The triggers that mean "the session works again" (they end an outage).
WORKS_AGAIN_TRIGGERS = WORKS_AGAIN
# Triggers that finish a session: every row they label leads to a terminal state.
ENDING_TRIGGERS = frozenset(
    row.trigger
    for row in TRANSITIONS
    if all(other.dest in TERMINAL for other in TRANSITIONS if other.trigger == row.trigger)
)

# The kinds that can change a client's phase (`ClientFacts.phase`, `ever_ready`):
# the others (message, loss, chat) only move the loss start or the chat, so a
# replay that asks only for phases may skip them.
PHASE_KINDS = frozenset(
    {"state", "interrupted", "continued", "error", "ended", "ready", "restored"}
)
# The judge routes a `message` by its direction too (most rules read one direction):
# a rule that reads both registers for "message" and gets both routes.
INBOUND, OUTBOUND = "message.in", "message.out"
ROUTES_OF = {"message": (INBOUND, OUTBOUND)}
# The routes whose records `ClientFacts.apply` reads: the others (a message out, an
# ack, a command, ...) change no fact.
FACT_KINDS = PHASE_KINDS | {INBOUND, "loss", "chat"}

# Phases an application-only trace (no `state` records) lets the judge tell apart.
IDLE, READY, INTERRUPTED, ENDED, FAILED = "idle", "ready", "interrupted", "ended", "failed"


@dataclass
class ClientFacts:
    src: str
    state: State | None = None  # from `state` records, when the client writes them
    told: int | None = None  # line of the open `interrupted`
    told_at: float = 0.0
    lost_since: float | None = None
    finished_by_152: bool = False
    app_phase: str = IDLE  # from application events alone
    ever_ready: bool = False
    chat_id: str | None = None  # from `ready {chatId}` or `chat {chatId}`
    ended_at: float | None = None  # when the application heard `ended`

    @property
    def phase(self) -> str:
        """The session's phase: the chart state when the trace has them, else from events."""
        if self.state is not None:
            return self.state.value
        return self.app_phase

    @property
    def still_lost(self) -> bool:
        if self.state is not None:
            return self.state in LOST_STATES
        return self.told is not None

    def delivery_horizon(self, end: float) -> float | None:
        """Everything the server accepted by then should have reached the application.

        A working session: the end of the trace. An ended one: its end (events
        accepted with a known time only). Any other (lost, failed, never
        ready): nothing can be asked of it.
        """
        if self.phase == READY:
            return end
        if self.phase == ENDED and self.ended_at is not None:
            return self.ended_at
        return None

    def apply(self, rec: TraceRecord) -> None:
        """Take one record of this client into the facts (after the rules judged it).

        Only the records routed by `FACT_KINDS` change anything: the judge passes no others.
        """
        kind = rec.kind
        if kind == "message":  # the commonest kind first (the branches are disjoint)
            if rec.data.get("direction") == "in" and self.told is None:
                self.lost_since = None  # as _works, without a call for each message
        elif kind == "loss":
            # A transport writes `loss` once per outage, so a second one while no
            # interruption is open means the previous outage ended unseen.
            if self.lost_since is None or self.told is None:
                self.lost_since = rec.t
        elif kind == "state":
            self._state(rec)
        elif kind == "interrupted":
            self.told, self.told_at, self.app_phase = rec.line, rec.t, INTERRUPTED
        elif kind == "continued":
            if self.told is not None:
                self.told, self.lost_since, self.app_phase = None, None, READY
        elif kind == "error":
            if rec.data.get("code") == ErrorCode.RESTORE_FAILED:
                self.finished_by_152, self.app_phase = True, FAILED
        elif kind == "ended":
            self.app_phase = ENDED
            if self.ended_at is None:
                self.ended_at = rec.t
        elif kind == "chat" and isinstance(rec.data.get("chatId"), str):
            self.chat_id = rec.data["chatId"]
        elif kind in ("ready", "restored"):
            self._works()
            if kind == "ready" and isinstance(rec.data.get("chatId"), str):
                self.chat_id = rec.data["chatId"]
            if self.app_phase not in (ENDED, FAILED):
                self.app_phase = READY if self.told is None else INTERRUPTED
                self.ever_ready = True

    def _state(self, rec: TraceRecord) -> None:
        try:
            after, fired = State(rec.data["to"]), Trigger(rec.data["trigger"])
        except ValueError:
            return
        self.state = after
        if fired == LOSS_TRIGGER and self.lost_since is None:
            self.lost_since = rec.t
        if fired in WORKS_AGAIN_TRIGGERS:
            self.ever_ready = True
        if fired in WORKS_AGAIN_TRIGGERS or after in TERMINAL:
            self._works()

    def _works(self) -> None:
        if self.told is None:
            self.lost_since = None


# How a rule judges one record of a client (its facts as they were before the record).
Feed = Callable[[TraceRecord, ClientFacts, Report], None]


def works_again(rec: TraceRecord) -> bool:
    """This record shows the session working again (or ending): only phase kinds do."""
    if rec.kind == "state":
        return rec.data.get("trigger") in WORKS_AGAIN_TRIGGERS
    return rec.kind in ("ready", "restored", "continued")


def ends_session(rec: TraceRecord) -> bool:
    if rec.kind in ("ended", "loss"):
        return True
    return rec.kind == "state" and rec.data.get("trigger") in ENDING_TRIGGERS
