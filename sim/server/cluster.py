"""A cluster of Chat Server instances sharing one session store.

The cluster routes deliveries between instances (a transcript event reaches
every Bayeux client bound to its chat, wherever it is connected), runs the
cluster-wide timers (session TTL, the simulated agent), holds the server
faults, and collects the trace events of all instances. Its routing (chat
bindings, subscriptions, answering held connects) is the `Routing` mixin in
`sim.server.routing`.

Drivers: after any call, drain the instances in `changes` (or call
`Cluster.take_outputs()`, which does), because a command on one instance can
answer a held connect on another: `changes` lists, once each, the instances
with outputs or a deadline that may have moved earlier since the driver last
looked (see `Outbox`). The cluster-wide timers ride on the first instance
(its `clock`): its `tick(now)` runs them and its `next_deadline()` includes
them, so they wake once however many instances there are.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from typing import Any

from sim.server.agent import AgentPolicy
from sim.server.bayeux import BayeuxClient
from sim.server.chat import ChatService, Decorator, LoginPolicy
from sim.server.instance import ServerInstance
from sim.server.outputs import Drop, Output, ServerEvent
from sim.server.routing import Routing
from sim.server.secrets import SecretSource, SeededSecrets
from sim.server.store import MemoryStore, SessionStore, StoredChat, TranscriptEvent
from statecharts.catalog import ErrorCode
from statecharts.dialects import DIALECTS, Dialect, session_end_event
from statecharts.errors import UsageError
from statecharts.faults import (
    ExpireCredential,
    Fault,
    NoReply,
    RateLimit,
    Redirect,
    Reject,
    ResetCursor,
    SessionEnd,
)

MAX_NONCES = 1024  # unanswered challenges kept (the oldest are forgotten)
_JOIN, _SAY, _CHATTER = "join", "say", "chatter"


class Cluster(Routing):
    def __init__(
        self,
        instances: Sequence[str],
        store: SessionStore | None = None,
        *,
        session_ttl: float = 60.0,
        hold: float = 30.0,
        max_interval: float = 10.0,
        rng: random.Random | None = None,
        agent: AgentPolicy | None = None,
        dialect: str = "genesys",
        secrets: SecretSource | None = None,
        truth_events: bool = False,
        max_message_bytes: int | None = None,
    ) -> None:
        """`secrets`: where secureKeys and Bayeux clientIds come from (default: the seeded
        `rng` and a counter, for the simulator; `SystemSecrets()` live).

        `truth_events`: also report each accepted transcript event (`transcript`) and
        each sendMessage acknowledgement (`acked`), for live per-session traces."""
        if not instances or len(set(instances)) != len(instances):
            raise UsageError("a cluster needs one or more distinct instance names")
        self.store: SessionStore = store if store is not None else MemoryStore()
        self.session_ttl = session_ttl
        if dialect not in DIALECTS:
            raise UsageError(f"unknown dialect '{dialect}': expected one of {', '.join(DIALECTS)}")
        self.dialect: Dialect = DIALECTS[dialect]
        # A message text over this many UTF-8 bytes is refused (LiveChat entity_too_large).
        self.max_message_bytes = max_message_bytes or self.dialect.max_message_bytes
        self.hold = hold
        self.max_interval = max_interval
        self.rng = rng if rng is not None else random.Random(0)
        self.secrets: SecretSource = secrets if secrets is not None else SeededSecrets(self.rng)
        self.agent = agent if agent is not None else AgentPolicy()
        self.not_ready_until = -math.inf
        self.truth_events = truth_events
        self.chat = ChatService(self)
        # Indexes of the instances changed since the driver last looked (see Outbox).
        self.changes: list[int] = []
        # The first instance carries the cluster-wide timers: they wake once, not once per instance.
        self.instances: dict[str, ServerInstance] = {
            n: ServerInstance(n, self, clock=i == 0, changes=self.changes, index=i)
            for i, n in enumerate(instances)
        }
        self._ordered = list(self.instances.values())
        self._sources = {n: f"server:{n}" for n in instances}  # trace sources, made once
        self._clock_outbox = self._ordered[0].outbox
        # Trace events not taken yet: a driver may look before it takes (no list per take).
        self.events: list[ServerEvent] = []
        Routing.__init__(self)
        self._ttl: list[tuple[float, str]] = []
        self._agent_jobs: list[tuple[float, int, str, str, str]] = []  # due, seq, kind, chat, text
        self._seq = 0
        self._client_counts: dict[str, int] = {}
        self._nonces: dict[str, None] = {}  # challenges issued, oldest first (bounded)

    # -- driver API -------------------------------------------------------------------
    def take_events(self) -> list[ServerEvent]:
        events, self.events = self.events, []
        return events

    def take_outputs(self) -> list[tuple[str, Output]]:
        """Outputs of every instance, as (instance, output), in instance order (only
        the changed instances can have some)."""
        changes = self.changes
        if not changes:
            return []
        changes.sort()
        taken: list[tuple[str, Output]] = []
        for index in changes:
            inst = self._ordered[index]
            inst.outbox.marked = inst.outbox.rearm = False
            taken.extend((inst.name, o) for o in inst.take_outputs())
        changes.clear()
        return taken

    def tick(self, now: float) -> None:
        for inst in self.instances.values():
            inst.tick(now)

    def next_deadline(self) -> float | None:
        deadlines = [d for i in self.instances.values() if (d := i.next_deadline()) is not None]
        return min(deadlines) if deadlines else None

    # -- faults ----------------------------------------------------------------------
    def crash(self, instance: str, now: float) -> list[Drop]:
        """Take an instance down. Its Drop outputs are also queued in its `take_outputs()`."""
        inst = self._instance(instance)
        if not inst.up:
            return []
        drops = inst.crash(now)
        self.emit(now, instance, "crash", {"dropped": len(drops)})
        return drops

    def recover(self, instance: str, now: float) -> None:
        inst = self._instance(instance)
        if not inst.up:
            inst.recover()
            self.emit(now, instance, "recover", {})

    def expire(self, chat_id: str | None, now: float) -> int:
        """Forget one chat session (None: all) and its Bayeux clients; returns how many."""
        if chat_id is None:
            sessions = list(self.store.iterate())
        else:
            found = self.store.get(chat_id)
            sessions = [] if found is None else [found]
        for session in sessions:
            self._expire_session(session, now, "fault")
        self.flush(now)
        return len(sessions)

    def not_ready(self, until: float) -> None:
        """requestChat answers 100 (with data.retryAfter) until virtual time `until`."""
        self.not_ready_until = until

    def command_errors(self, code: int, count: int) -> None:
        """The next `count` chat commands fail with `code`."""
        try:
            ErrorCode(code)
        except ValueError:
            raise UsageError(f"command_error code {code} is not in the catalog") from None
        self.chat.force_errors(code, count)

    def seed_behaviour(self, fault: Fault, *, start: bool) -> None:
        """Switch one of the other seeds' behaviours on (start) or off: the one place
        the simulator and the live server apply `rate_limit`, `expire_credential`,
        `redirect`, `no_reply`, `reset_cursor`, `reject` and `session_end` (a count left
        when it ends is cancelled)."""
        pending = self.chat.behaviours
        if isinstance(fault, RateLimit):
            pending.rate_limited = fault.count if start else 0
            pending.retry_after = fault.retry_after
        elif isinstance(fault, ExpireCredential):
            pending.expired_credentials = fault.count if start else 0
        elif isinstance(fault, NoReply):
            pending.unanswered = fault.count if start else 0
        elif isinstance(fault, ResetCursor):
            pending.cursor_resets = fault.count if start else 0
        elif isinstance(fault, Redirect):
            if start:
                self._instance(fault.to)
            pending.redirect_to = fault.to if start else None
        elif isinstance(fault, Reject):
            if start and all(r.key != fault.row for r in self.dialect.rows):
                raise UsageError(f"reject: no row '{fault.row}' in the {self.dialect.name} dialect")
            pending.rejections = fault.count if start else 0
            pending.reject_row = fault.row
        elif isinstance(fault, SessionEnd):
            pending.session_ends = fault.count if start else 0
            pending.session_end_code = fault.code

    def slow(self, ms: float, instance: str | None = None) -> None:
        """Every reply leaves `ms` later than it was made (0: back to normal)."""
        targets = self.instances.values() if instance is None else [self._instance(instance)]
        for inst in targets:
            inst.set_slow(ms)

    def register_decorator(self, fn: Decorator) -> None:
        self.chat.decorators.append(fn)

    def set_login_policy(self, fn: LoginPolicy | None) -> None:
        """fn(nickname, data) -> reason to refuse requestChat (error 101), or None."""
        self.chat.login_policy = fn

    def issue_nonce(self) -> str:
        """An authentication challenge (expire_credential) a handshake may answer once."""
        nonce = self.secrets.secure_key()  # seeded in the simulator, from the OS live
        self._nonces[nonce] = None
        while len(self._nonces) > MAX_NONCES:
            del self._nonces[next(iter(self._nonces))]
        return nonce

    def answer_nonce(self, nonce: object) -> bool:
        """Whether `nonce` is a challenge this cluster issued and nobody answered yet."""
        return isinstance(nonce, str) and self._nonces.pop(nonce, 0) is None

    def new_client_id(self, instance: str) -> str:
        """A Bayeux clientId: unguessable when live, a readable counter in the simulator."""
        count = self._client_counts[instance] = self._client_counts.get(instance, 0) + 1
        return self.secrets.client_id(instance, count)

    # -- the agent -------------------------------------------------------------------
    def agent_say(self, chat_id: str, text: str, now: float) -> int | None:
        """The agent writes `text` into the chat; returns its index (None: no such chat)."""
        session = self.store.get(chat_id)
        if session is None:
            return None
        if not session.agent_joined:
            self._agent_join(session, now)
        event = session.append("Message", "agent", text)
        self.store.put(session)
        self.deliver_chat(chat_id, event.as_data())
        if self.truth_events:
            self.accepted(session, event, now)
        self.emit(now, session.instance, "agent", {"chatId": chat_id, "index": event.index})
        if self.dirty:
            self.flush(now)
        return event.index

    def client_said(self, chat_id: str, text: str, now: float) -> None:
        if self.agent.reply_after is not None:
            self._agent_job(now + self.agent.reply_after, _SAY, chat_id, self.agent.answer(text))

    def _agent_join(self, session: StoredChat, now: float) -> None:
        if not session.agent_joined:
            session.agent_joined = True
            event = session.append("ParticipantJoined", "agent", self.agent.nickname)
            self.store.put(session)
            self.deliver_chat(session.chat_id, event.as_data())
            self.accepted(session, event, now)

    def _agent_job(self, due: float, kind: str, chat_id: str, text: str = "") -> None:
        self._seq += 1
        heapq.heappush(self._agent_jobs, (due, self._seq, kind, chat_id, text))
        self._clock_outbox.deadline_moved()

    # -- sessions (used by the chat service) -------------------------------------------
    def start_session(
        self, session: StoredChat, instance: str, client: BayeuxClient, now: float
    ) -> None:
        self.store.put(session)
        heapq.heappush(self._ttl, (now + self.session_ttl, session.chat_id))
        self._clock_outbox.deadline_moved()
        self.bind(session.chat_id, instance, client)
        event = session.append("ParticipantJoined", "client", session.nickname)
        self.store.put(session)
        self.deliver_chat(session.chat_id, event.as_data())
        self.emit(now, instance, "session.start", {"chatId": session.chat_id})
        self.accepted(session, event, now)
        join_after = self.agent.join_after
        if join_after == 0:
            self._agent_join(session, now)
        elif join_after is not None:
            self._agent_job(now + join_after, _JOIN, session.chat_id)
        if self.agent.say_every is not None:
            self._agent_job(now + self.agent.say_every, _CHATTER, session.chat_id, "1")

    def end_session(
        self, chat_id: str, instance: str, now: float, reason: str | None = None
    ) -> None:
        self.store.delete(chat_id)
        self.chat.forget(chat_id)
        for key in self._bound.pop(chat_id, {}):
            client = self._client(key)
            if client is not None:
                client.chats.discard(chat_id)
        fields = {"chatId": chat_id} if reason is None else {"chatId": chat_id, "reason": reason}
        self.emit(now, instance, "session.end", fields)

    def end_by_server(self, chat_id: str, instance: str, now: float) -> None:
        """The server ends a chat on its own (PolyAI `SESSION_END` after an error): its
        clients get the dialect's session-end event on the chat, then the chat is gone."""
        self.deliver_chat(chat_id, session_end_event(self.dialect, "error"))
        self.end_session(chat_id, instance, now, "server")
        # No flush here: the instance sends the command's error first, then flushes.

    def _expire_session(self, session: StoredChat, now: float, reason: str) -> None:
        self.store.delete(session.chat_id)
        self.chat.forget(session.chat_id)
        fields = {"chatId": session.chat_id, "reason": reason}
        self.emit(now, session.instance, "session.expire", fields)
        for instance, client_id in list(self._bound.pop(session.chat_id, {})):
            self.instances[instance].forget_client(client_id, now, "session expired")

    # -- timers ----------------------------------------------------------------------
    def run_timers(self, now: float) -> None:
        while self._ttl and self._ttl[0][0] <= now:
            _, chat_id = heapq.heappop(self._ttl)
            session = self.store.get(chat_id)
            if session is None:
                continue
            due = session.last_contact + self.session_ttl
            if due <= now and self._long_polled(chat_id):
                # A held connect is an open line to the client: that is contact.
                self.store.touch(chat_id, now)
                due = now + self.session_ttl
            if due <= now:
                self._expire_session(session, now, "ttl")
            else:
                heapq.heappush(self._ttl, (due, chat_id))
                self._clock_outbox.deadline_moved()
        while self._agent_jobs and self._agent_jobs[0][0] <= now:
            _, _, kind, chat_id, text = heapq.heappop(self._agent_jobs)
            session = self.store.get(chat_id)
            if session is None:
                continue
            if kind == _JOIN:
                self._agent_join(session, now)
            elif kind == _CHATTER and self.agent.say_every is not None:
                self.agent_say(chat_id, self.agent.chatter(int(text)), now)
                self._agent_job(now + self.agent.say_every, _CHATTER, chat_id, str(int(text) + 1))
            else:
                self.agent_say(chat_id, text, now)

    def own_deadline(self) -> float | None:
        """The next cluster-wide timer (session TTL or agent action)."""
        ttl, jobs = self._ttl, self._agent_jobs
        if ttl and jobs:
            return min(ttl[0][0], jobs[0][0])
        if ttl:
            return ttl[0][0]
        return jobs[0][0] if jobs else None

    # -- events ----------------------------------------------------------------------
    def accepted(self, session: StoredChat, event: TranscriptEvent, now: float) -> None:
        """Report a transcript event the chat accepted (with `truth_events` only)."""
        if self.truth_events:
            fields: dict[str, Any] = {
                "chatId": session.chat_id,
                "index": event.index,
                "party": event.party,
            }
            if event.client_message_id is not None:
                fields["id"] = event.client_message_id
            self.emit(now, session.instance, "transcript", fields)

    def acked(self, session: StoredChat, message_id: str, index: int, now: float) -> None:
        """Report a sendMessage result sent to the client (with `truth_events` only)."""
        if self.truth_events:
            fields = {"chatId": session.chat_id, "id": message_id, "index": index}
            self.emit(now, session.instance, "acked", fields)

    def emit(self, now: float, instance: str, kind: str, fields: dict[str, Any]) -> None:
        """Report an event; `fields` is handed over (callers pass a dict of their own)."""
        source = self._sources.get(instance)
        if source is None:
            source = f"server:{instance}"
        self.events.append((round(now, 6), source, kind, fields))

    def _instance(self, name: str) -> ServerInstance:
        try:
            return self.instances[name]
        except KeyError:
            known = ", ".join(self.instances)
            raise UsageError(f"no server instance '{name}' (instances: {known})") from None
