"""The connection layer of the sans-I/O client: link, Bayeux channel, outage, timers.

A `ClientConnection` drives one statechart (`statecharts.chart`) over one link at
a time to a list of server instances. Inputs are network happenings
(`connection_made`, `frame_received`, ...) and `tick`; every input takes
`now`; the driver drains `take_outputs()` (open/close a link, send a frame) and
`take_events()` (state changes, events, diagnostics). It never reads a clock.
It owns the Bayeux handshake and connect loop, parses every frame at the
boundary (`transport.replies`: an invalid reply is EventError 151, dropped, its
request asked again), and runs the outage rules: the first failure starts a
`Loss`, `interrupted` fires `interrupt_after` later in the states that arm it,
retries and failover follow `transport.recovery`, a 402 gets a new handshake.
The session on top (chat or pure Bayeux), a `transport.service.Service`, is
called at fixed points. Property tests plant bugs by overriding its public hooks
(`emit`, `emit_*`, `backoff_delay`, `interrupt_deadline`), compiled or not.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from mypy_extensions import mypyc_attr

from statecharts.catalog import ErrorCode
from statecharts.chart import LIVE, TERMINAL, Chart, State, Trigger
from statecharts.errors import UsageError
from statecharts.events import (
    AppEvent,
    Continued,
    Ended,
    EventError,
    Interrupted,
    Loss,
    StateChanged,
)
from transport import recovery, wire
from transport.bayeux import Advice, BayeuxLayer
from transport.frames import FrameReader
from transport.meta import MetaReplies
from transport.outputs import (
    ClientConfig,
    CloseConnection,
    LinkState,
    OpenConnection,
    Output,
    SendFrame,
)
from transport.service import Service
from transport.timers import TimerTable
from transport.wire import ConnectionType


@mypyc_attr(allow_interpreted_subclasses=True)  # see ClientCore
class ClientConnection(TimerTable, FrameReader, MetaReplies):
    """One client's connection; `service` gives the session its meaning."""

    def __init__(
        self,
        client_id: str,
        service: Service,
        config: ClientConfig | None = None,
        servers: Sequence[str] = ("i1",),
        rng: random.Random | None = None,
    ) -> None:
        if not servers:
            raise UsageError("a client needs at least one server instance")
        self.client_id = client_id
        self.service = service
        self.config = config or ClientConfig()
        self.timers = self.config.timers
        self.servers = list(servers)
        self.server_index = 0
        self.rng = rng if rng is not None else random.Random(0)
        self.chart = Chart()
        self._state = self.chart.current  # a cache: read on every input
        self.bayeux = BayeuxLayer(
            self.config.transport,
            self.timers.max_network_delay,
            Advice(hold=self.timers.long_poll_hold),
        )
        self.link = LinkState.NONE
        self.attempting = False  # the current link has not worked yet
        self.draining = False
        self.outage = recovery.NO_OUTAGE
        hooked = type(self).interrupt_deadline is not ClientConnection.interrupt_deadline
        self.init_timers(interrupt_hooked=hooked)
        self._outputs: list[Output] = []
        self._events: list[tuple[float, AppEvent]] = []
        self.messages_received = 0  # Bayeux messages in the frames taken (a statistic)

    # == public API =================================================================
    @property
    def state(self) -> State:
        return self._state

    @property
    def instance(self) -> str:
        return self.servers[self.server_index]

    @property
    def channel_up(self) -> bool:
        """The link is open and the server knows this client (requests can go out)."""
        return self.link is LinkState.OPEN and self.bayeux.client_id is not None

    def take_outputs(self) -> list[Output]:
        out, self._outputs = self._outputs, []
        return out

    def take_events(self) -> list[tuple[float, AppEvent]]:
        out, self._events = self._events, []
        return out

    def set_transport(self, kind: ConnectionType) -> None:
        """Use another connection type from the next handshake on (an adapter's fallback)."""
        self.bayeux.connection_type = kind

    # -- application commands ------------------------------------------------------
    def start(self, now: float) -> None:
        self.require(State.IDLE, "start")
        self.begin(Trigger.START, now)

    def begin(self, trigger: Trigger, now: float) -> None:
        """Leave idle by `trigger` (start, restore) and make the first attempt."""
        self.fire(trigger, now)
        self.retry_at = now
        self.advance(now)

    def reload(self, now: float) -> None:
        """Page reload: drop the connection, keep the saved state, restore from it."""
        self.advance(now)
        if self.state not in LIVE:
            raise UsageError(f"reload needs a live session, the transport is {self.state}")
        if self.link is not LinkState.NONE:
            self._output(CloseConnection("reload"))
        self._connection_gone(now)
        self.bayeux.forget()
        self.service.reload(now)
        self.outage = recovery.worked(self.outage)
        self.begin(Trigger.RELOAD, now)

    def end(self, now: float) -> None:
        """End the session: say farewell, then report client requests never answered."""
        self.advance(now)
        if self.state is State.IDLE:
            raise UsageError("end: there is no chat to end")
        if self.state in TERMINAL:
            return
        self.service.settle_unsent(now, ErrorCode.SERVER_UNAVAILABLE)
        self.fire(Trigger.END, now)
        self.emit(now, Ended("client"))
        farewell = self.service.farewell(now) if self.channel_up else []
        if farewell:
            self.send([*farewell, self.bayeux.disconnect(now)])
            self.draining = True
            self.drain_until = now + self.timers.max_network_delay
        else:
            self.finish_drain(now)

    # -- network inputs ------------------------------------------------------------
    def connection_made(self, now: float) -> None:
        self.advance(now)
        if self.link is not LinkState.OPENING:
            return
        self.link = LinkState.OPEN
        self.open_deadline = None
        if self.bayeux.client_id is None:
            self.send([self.bayeux.handshake(now)])
        else:
            self.send([self.bayeux.connect(now, immediate=True)])
        self.settle(now)

    def connection_failed(self, now: float, reason: str = "refused", wait: float = 0.0) -> None:
        self.advance(now)
        if self.link is not LinkState.NONE:
            self.failure(now, f"connection refused: {reason}", close=False)
            if self.retry_at is not None:  # a 429's Retry-After (`wait`) outweighs the backoff
                self.retry_at = max(self.retry_at, now + wait)
        self.settle(now)

    def connection_closed(self, now: float, reason: str = "closed") -> None:
        self.advance(now)
        if self.draining:
            self.finish_drain(now, close=False)
        elif self.link is not LinkState.NONE:
            self.failure(now, f"connection closed: {reason}", close=False)
        self.settle(now)

    def frame_received(self, text: str, now: float) -> None:
        self._frame_in(text, now)

    def frame_values_received(self, messages: list[wire.Message], now: float) -> None:
        """A frame as values (`decode_frame`): from a peer in this process that built it."""
        self._frame_in(messages, now)

    def _frame_in(self, frame: str | list[wire.Message], now: float) -> None:
        self.advance(now)
        if self.listening():
            self.take_frame(frame, now)
            self.service.after_frame(now)
        elif self.state in LIVE:
            self.judge_late_frame(frame, now)
        self.settle(now)

    def tick(self, now: float) -> None:
        self.settle(now)

    # == hooks (override in subclasses to plant bugs) ==================================
    def emit(self, now: float, event: AppEvent) -> None:
        self._events.append((now, event))

    def emit_interrupted(self, now: float) -> None:
        self.emit(now, Interrupted())
        if self.config.interruption_error:
            self.emit(now, EventError.of(ErrorCode.NETWORK_INTERRUPTED))

    def emit_continued(self, now: float, duration: float) -> None:
        self.emit(now, Continued(duration))

    def emit_invalid_reply(self, now: float, reason: str) -> None:
        self.emit(now, EventError.of(ErrorCode.INVALID_RESPONSE, {"reason": reason}))

    def backoff_delay(self, failures: int) -> float:
        """Delay before the next attempt after `failures` consecutive failures."""
        return self.timers.backoff(failures - 1, self.rng)

    def interrupt_deadline(self) -> float | None:
        return recovery.interrupt_deadline(self.outage, self.state, self.timers.interrupt_after)

    # == timers' actions ============================================================
    def open_timed_out(self, now: float) -> None:
        self.open_deadline = None
        self.failure(now, "connection attempt timed out", close=True)

    def request_timed_out(self, now: float) -> None:
        if self.draining:
            self.finish_drain(now)
        else:
            self.failure(now, "request past its deadline", close=True)

    def interrupt_due(self, now: float) -> None:
        since = self.outage.since
        assert since is not None
        self.outage = replace(self.outage, told=True)
        lost_for = now - since
        self.fire(
            Trigger.INTERRUPT_TIMEOUT,
            now,
            lost_for=lost_for,
            interrupt_after=self.timers.interrupt_after,
        )
        self.emit_interrupted(now)

    def attempt(self, now: float) -> None:
        self.retry_at = None
        if self.state in TERMINAL or self.state is State.IDLE:
            return
        self.link = LinkState.OPENING
        self.open_deadline = now + self.timers.max_network_delay
        self.attempting = True
        self._output(OpenConnection(self.instance))

    def connect_due(self, now: float) -> None:
        self.connect_at = None
        if self.channel_up:
            self.send([self.bayeux.connect(now, immediate=False)])

    def service_retry_due(self, now: float) -> None:
        self.service.retry_at = None
        if self.channel_up:
            self.service.retry_due(now)

    # == failures and recovery ======================================================
    def failure(self, now: float, reason: str, *, close: bool) -> None:
        """A failure observed: starts the loss (once), then schedules the next attempt."""
        if self.state in TERMINAL:
            self.shutdown(now, "")
            return
        if close and self.link is not LinkState.NONE:
            self._output(CloseConnection(reason))
        self._connection_gone(now)
        counted = recovery.after_failure(
            self.outage,
            now,
            attempting=self.attempting,
            failover_after=self.config.failover_after,
            instances=len(self.servers),
        )
        self.outage = counted.outage
        if counted.starts:
            self.emit(now, Loss(reason))
        self.fire(Trigger.CONNECTION_LOST, now)
        self.attempting = False
        if counted.failover:
            self._failover(now)
            self.retry_at = now  # a fresh instance: no reason to wait
        else:
            self.retry_at = now + self.backoff_delay(self.outage.failures)

    def _failover(self, now: float) -> None:
        """Move to the next instance; the service decides whether a session moves along."""
        old = self.instance
        self.server_index = (self.server_index + 1) % len(self.servers)
        self.bayeux.forget()
        self.service.failover(now, old, self.instance)

    def move_to(self, instance: str, now: float) -> None:
        """Redirected by the server: the session goes to `instance` (handshake, restore)."""
        self.server_index = self.servers.index(instance)
        self.outage = recovery.worked(self.outage)  # a fresh instance: no failed attempts
        if self.link is not LinkState.NONE:
            self._output(CloseConnection(f"redirected to {instance}"))
            self._connection_gone(now)
        self.rehandshake(now)

    def rehandshake(self, now: float) -> None:
        """The server no longer knows this client: handshake again."""
        self.bayeux.forget()
        self.connect_at = None
        self.service.rehandshake(now)
        if self.link is LinkState.OPEN:
            self.send([self.bayeux.handshake(now)])
        elif self.link is LinkState.NONE:
            self.retry_at = now

    def _connection_gone(self, now: float) -> None:
        self.link = LinkState.NONE
        self.open_deadline = None
        self.connect_at = None
        self.bayeux.connection_gone()
        self.service.connection_gone(now)

    def session_works(self, now: float, trigger: Trigger | None, event: AppEvent | None) -> None:
        """The session works (again): leave the lost states, tell the app, flush."""
        if trigger is not None:
            self.fire(trigger, now)
        outage = self.outage
        if outage.told and outage.since is not None:
            self.emit_continued(now, now - outage.since)
        self.outage = recovery.NO_OUTAGE
        self.attempting = False
        if event is not None:
            self.emit(now, event)
        self.service.flush(now)

    def fail(
        self, now: float, reason: str, *, trigger: Trigger = Trigger.FAIL, code: int = 100
    ) -> None:
        """End for good: a refused login (FAIL), or the server ended the chat (END, 50)."""
        self.service.settle_all(now, code)
        self.fire(trigger, now)
        self.emit(now, Ended(reason))
        self.shutdown(now, reason)

    def finish_drain(self, now: float, *, close: bool = True) -> None:
        self.service.settle_all(now, ErrorCode.SERVER_UNAVAILABLE)
        self.shutdown(now, "end" if close else "")

    def shutdown(self, now: float, reason: str) -> None:
        if reason and self.link is not LinkState.NONE:
            self._output(CloseConnection(reason))
        self._connection_gone(now)
        self.bayeux.forget()
        self.draining = False
        self.drain_until = None
        self.retry_at = None
        self.service.shutdown(now)

    # == plumbing ===================================================================
    def listening(self) -> bool:
        return self.link is LinkState.OPEN and (self._state not in TERMINAL or self.draining)

    def fire(self, trigger: Trigger, now: float, **context: float) -> None:
        """Take `trigger`; a tolerated no-op of the chart changes nothing and says nothing."""
        taken = self.chart.step(trigger, **context)
        if taken is None:
            return
        before, after = taken
        self._state = after
        self.emit(now, StateChanged(before.value, after.value, trigger.value))

    def _output(self, output: Output) -> None:
        self._outputs.append(output)

    def send(self, messages: list[wire.Message]) -> None:
        if messages:
            self._outputs.append(SendFrame(tuple(messages)))

    def require(self, state: State, command: str) -> None:
        if self.state is not state:
            raise UsageError(f"{command} needs state '{state}', the transport is '{self.state}'")

    def require_session(self, command: str) -> None:
        if self._state is State.IDLE or self._state in TERMINAL:  # no property call
            raise UsageError(f"{command}: no live chat (the transport is '{self._state}')")

    def adopt_instance(self, alias: str | None) -> None:
        if alias is not None and alias in self.servers:
            self.server_index = self.servers.index(alias)
