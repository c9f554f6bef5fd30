"""One emulated browser on the asyncio side: a chat (or pure-Bayeux) session that
records what it sees, reports its statistics and is judged when it settles.

Everything here runs on the worker's asyncio loop (`sim.load.bridge`); the
Locust user only calls `open`, `send`, `settle` and `close` through the
bridge. Statistics go into a `StatSink`, a thread-safe queue the worker's
gevent side empties into Locust's `events.request`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

from sim.load.netfaults import split
from sim.load.tally import ServerTranscript, SessionRecord, Totals, find, judge_session
from statecharts.chart import Timers
from statecharts.checker import check_trace
from statecharts.errors import ServerError, UsageError
from statecharts.events import (
    Acked,
    AppEvent,
    CommandDone,
    Continued,
    EventError,
    Interrupted,
    Message,
    Restored,
    SendFailed,
    StateChanged,
)
from statecharts.trace import RunHeader, Trace, TraceRecord
from transport.aio.faulty import ClientFaults
from transport.aio.session import BayeuxSession, ChatSession
from transport.wire import ConnectionType

Mode = Literal["chat", "bayeux"]
# Wall-clock judging under load: a loop serving thousands of sessions runs timers late.
CHECK_TOLERANCE = 2.0
# What the trace checker judges per session (I1-I3, I5, I7): the outage and state
# records, a few per outage. Deliveries and acks are counted against the server's
# truth by `sim.load.tally` instead, so a long run does not keep every message.
JUDGED_KINDS = frozenset(
    {"state", "ready", "interrupted", "continued", "error", "restored", "ended", "loss"}
)
SETTLE_POLL = 0.25


@dataclass(frozen=True)
class Stat:
    """One sample for Locust: a request (`ms`, `error`) or a named event."""

    request_type: str
    name: str
    ms: float = 0.0
    error: str | None = None


class StatSink:
    """Samples from the loop's thread, taken by the hub's thread (deque ops are atomic)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._queue: collections.deque[Stat] = collections.deque(maxlen=limit)

    def put(self, stat: Stat) -> None:
        self._queue.append(stat)

    def take(self) -> list[Stat]:
        out = []
        while self._queue:
            out.append(self._queue.popleft())
        return out


@dataclass(frozen=True)
class Target:
    """Where the browsers go and how they behave."""

    endpoints: Mapping[str, str]  # instance -> Bayeux endpoint URL
    mode: Mode = "chat"
    truth_url: str | None = None  # base URL of the server's /transcripts (chatsim serve)
    token: str | None = None
    transport: ConnectionType = ConnectionType.WEBSOCKET
    timers: Timers = field(default_factory=lambda: Timers(jitter=True))

    def rotated(self, n: int) -> dict[str, str]:
        """The server list of user `n`: users start on different instances."""
        names = list(self.endpoints)
        k = n % len(names)
        return {name: self.endpoints[name] for name in names[k:] + names[:k]}


class Shared:
    """What all sessions of one loop share: an HTTP client for the truth, the sink."""

    def __init__(self, target: Target, sink: StatSink) -> None:
        self.target = target
        self.sink = sink
        self.truth_missing = target.truth_url is None
        self.run_started = time.monotonic()  # the loop's clock: faults' `at` counts from here
        self._http: aiohttp.ClientSession | None = None
        self.agent_every = 0.0  # mean seconds between agent messages per chat (0: none)
        self.agent_missing = False

    async def agent_say(self, chat_id: str, text: str) -> bool:
        """The server's agent speaks in the chat (`POST /agent/{chatId}/say`, chatsim serve)."""
        if self.agent_missing or self.target.truth_url is None:
            return False
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10.0))
        headers = {"Authorization": f"Bearer {self.target.token}"} if self.target.token else {}
        url = f"{self.target.truth_url}/agent/{chat_id}/say"
        try:
            async with self._http.post(url, json={"text": text}, headers=headers) as response:
                if response.status in (404, 405) and response.content_type != "application/json":
                    self.agent_missing = True  # no agent API here: browsers talk alone
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    def run_clock(self) -> float:
        """Seconds since the run started (browser-side faults' `at` counts from then)."""
        return time.monotonic() - self.run_started

    async def truth(self, chat_id: str) -> ServerTranscript | None:
        if self.truth_missing or self.target.truth_url is None:
            return None
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10.0))
        headers = {"Authorization": f"Bearer {self.target.token}"} if self.target.token else {}
        url = f"{self.target.truth_url}/transcripts/{chat_id}"
        try:
            async with self._http.get(url, headers=headers) as response:
                if response.status == 404 and response.content_type != "application/json":
                    self.truth_missing = True  # not a chatsim server: judge client-side
                    return None
                if response.status != 200:
                    return None
                return ServerTranscript.from_json(await response.json())
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
            return None

    async def close(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            await http.close()


class LoadSession:
    """One browser: its transport session, record, judged records and timings."""

    def __init__(self, shared: Shared, name: str, number: int) -> None:
        self.shared = shared
        self.name = name
        self.number = number
        self.record = SessionRecord(name, bayeux=shared.target.mode == "bayeux")
        self.session: ChatSession | BayeuxSession | None = None
        self.channel = f"/chatsim/load/{name}"
        self.trace: list[TraceRecord] = []  # the JUDGED_KINDS records, for the checker
        self._seq = 0
        self.faults: list[dict[str, Any]] = []  # this browser's network faults
        self._since: dict[str, float] = {}  # state entered -> time, for latencies
        self.judged: Totals | None = None
        self.problem: str | None = None  # one line on what went wrong, once judged
        self._agent: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------
    async def open(self, timeout: float) -> None:
        """Connect and wait until ready; handshake and login latencies go to the sink."""
        target = self.shared.target
        urls = target.rotated(self.number)
        loop = asyncio.get_running_loop()
        network, reloads = split(self.faults)
        faults = (
            ClientFaults(network, name=self.name, clock=self.shared.run_clock) if network else None
        )
        if target.mode == "chat":
            self.session = await ChatSession.connect(
                urls,
                transport=target.transport,
                timers=target.timers,
                client_id=self.name,
                nickname=self.name,
                faults=faults,
            )
        else:
            self.session = await BayeuxSession.connect(
                urls,
                [self.channel],
                transport=target.transport,
                timers=target.timers,
                client_id=self.name,
                faults=faults,
            )
        for at in reloads:
            loop.call_later(max(0.0, at - self.shared.run_clock()), self._reload)
        self._since["start"] = self.session.now()
        for timed in list(self.session.history):
            self._on_event(*timed)
        self.session.on(None, self._on_event)
        await self.session.ready(timeout=timeout)
        if self.shared.agent_every > 0 and target.mode == "chat":
            self._agent = asyncio.create_task(self._agent_speaks(self.shared.agent_every))

    async def _agent_speaks(self, every: float) -> None:
        """Server-side traffic: the agent answers now and then, also while we are away."""
        said = 0
        while not self.shared.agent_missing:
            await asyncio.sleep(random.uniform(0.5 * every, 1.5 * every))
            chat_id = self.record.chat_id
            if chat_id is not None and self.record.alive:
                said += 1
                if await self.shared.agent_say(chat_id, f"agent line {said} for {self.name}"):
                    self.record.agent_said += 1

    def _stop_agent(self) -> None:
        if self._agent is not None:
            self._agent.cancel()
            self._agent = None

    def _check(self) -> list[str]:
        """The trace checker's verdict on this session's outage and state records."""
        timers = self.shared.target.timers
        header = RunHeader(
            f"load:{self.name}",
            None,
            extra={"interrupt_after": timers.interrupt_after, "interruption_error": True},
        )
        trace = Trace(header, tuple(self.trace), source=self.name)
        found = check_trace(trace, timers.interrupt_after, CHECK_TOLERANCE)
        return [v.describe() for v in found]

    def _reload(self) -> None:
        session = self.session
        if session is not None and self.record.alive:
            with contextlib.suppress(UsageError):  # not live at that moment: no page to reload
                session.driver.call(session.driver.core.reload)

    async def send(self, timeout: float) -> float:
        """One message; returns the send->ack latency in ms (ServerError/TimeoutError)."""
        session = self.session
        if session is None:
            raise UsageError("the session was never opened")
        began = session.now()
        if isinstance(session, ChatSession):
            await session.send_message(f"hello from {self.name}", timeout=timeout)
        else:
            self._seq += 1
            # The core names publishes `<client>-p<n>`: the record knows it before the reply.
            self.record.sent.append(f"{self.name}-p{self._seq}")
            await session.publish(self.channel, {"seq": self._seq, "from": self.name}, timeout)
        return (session.now() - began) * 1000.0

    async def settle(self, timeout: float) -> Totals:
        """Wait until every message is resolved and the transcript caught up; judge."""
        self._stop_agent()
        truth: ServerTranscript | None = None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline and self.record.alive and self.record.ever_ready:
            if self.record.state == "ready" and not self.record.unresolved():
                if self.record.chat_id is None:
                    break
                truth = await self.shared.truth(self.record.chat_id)
                if truth is None or {e.index for e in truth.events} <= set(self.record.delivered):
                    break
            await asyncio.sleep(SETTLE_POLL)
        if self.record.chat_id is None and isinstance(self.session, ChatSession):
            saved = self.session.driver.core.saved_state()
            self.record.chat_id = saved.chat_id if saved is not None else None
        if truth is None and self.record.chat_id is not None:
            truth = await self.shared.truth(self.record.chat_id)
        self.record.violations = self._check()
        self.judged = judge_session(self.record, truth)
        self.problem = find(self.record, truth).describe(self.name)
        if self.problem is None and self.record.violations:
            self.problem = f"{self.name}: {self.record.violations[0]}"
        if self.problem is None and not self.record.ever_ready:
            self.problem = f"{self.name}: never ready (state {self.record.state})"
        for kind, count in (
            ("lost", self.judged.lost),
            ("duplicated", self.judged.duplicated),
            ("unacked", self.judged.unacked),
        ):
            if count:
                self._stat("judge", kind, error=f"{count} message(s) {kind}")
        for violation in self.record.violations:
            self._stat("judge", "invariant", error=violation)
        return self.judged

    async def close(self, end: bool = True) -> None:
        self._stop_agent()
        session = self.session
        if session is None:
            return
        with contextlib.suppress(Exception):
            if end and isinstance(session, ChatSession) and self.record.state == "ready":
                await session.end(timeout=2.0)
        await session.close()

    # -- events ------------------------------------------------------------------------
    def _stat(
        self, request_type: str, name: str, ms: float = 0.0, error: str | None = None
    ) -> None:
        self.shared.sink.put(Stat(request_type, name, ms, error))

    def _on_event(self, t: float, event: AppEvent) -> None:
        if event.kind in JUDGED_KINDS:
            self.trace.append(TraceRecord(t, f"client:{self.name}", event.kind, event.fields()))
        record = self.record
        if isinstance(event, StateChanged):
            self._on_state(t, event)
        elif isinstance(event, Message):
            if event.direction == "out" and event.id is not None:
                record.sent.append(event.id)
            elif event.direction == "in" and event.index is not None:
                record.delivered.append(event.index)
                record.arrived.setdefault(event.index, event.id or event.party or "")
        elif isinstance(event, Acked):
            record.acked.setdefault(event.id, []).append(event.index)
        elif isinstance(event, SendFailed):
            record.failed[event.id] = event.code
        elif isinstance(event, CommandDone) and event.operation == "publish":
            self._on_publish(event)
        elif event.kind == "broadcast":  # pure Bayeux: a delivery on a subscribed channel
            data = event.fields().get("data")
            if isinstance(data, dict) and data.get("from") == self.name:
                seq = data.get("seq")
                if isinstance(seq, int):
                    record.delivered.append(seq)
        elif isinstance(event, Interrupted):
            record.interrupted += 1
            self._stat("event", "interrupted")
        elif isinstance(event, Continued):
            record.continued += 1
            self._stat("event", "continued", event.duration * 1000.0)
        elif isinstance(event, Restored):
            record.restored += 1
            self._stat("event", "restored")
        elif isinstance(event, EventError):
            record.errors[event.code] += 1
            self._stat("EventError", f"{event.code} {event.description}")
        if record.chat_id is None and event.kind == "ready":
            record.chat_id = event.fields().get("chatId")

    def _on_publish(self, event: CommandDone) -> None:
        # Bayeux: sent when published (out), acked when confirmed; seq from the id's count.
        tail = event.id.rsplit("p", 1)[-1]
        seq = int(tail) if tail.isdigit() else 0
        if event.ok:
            self.record.acked.setdefault(event.id, []).append(seq)
        else:
            self.record.failed[event.id] = event.code or 52

    def _on_state(self, t: float, event: StateChanged) -> None:
        record = self.record
        record.state = event.to
        if event.to == "opening":
            start = self._since.get("start", t)
            name = "handshake"
            self._stat("bayeux", name, (t - start) * 1000.0)
            self._since["opening"] = t
        elif event.to == "ready" and event.from_ == "opening":
            record.ever_ready = True
            opening = self._since.pop("opening", t)
            name = "login" if self.shared.target.mode == "chat" else "subscribe"
            self._stat("chat" if name == "login" else "bayeux", name, (t - opening) * 1000.0)
        elif event.to == "restoring":
            self._since.setdefault("restoring", t)
        elif event.to == "ready":
            record.ever_ready = True
            restoring = self._since.pop("restoring", None)
            if restoring is not None and event.from_ == "restoring":
                self._stat("chat", "restore", (t - restoring) * 1000.0)


def describe_send_error(exc: BaseException) -> str:
    if isinstance(exc, ServerError):
        return f"EventError {exc.code}"
    if isinstance(exc, TimeoutError):
        return "no acknowledgement in time"
    return f"{type(exc).__name__}: {exc}"
