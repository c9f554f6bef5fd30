"""Locust users that are emulated browsers: `ChatUser` (chat over Bayeux) and
`BayeuxUser` (pure Bayeux, e.g. against Faye).

Subclass them in your own locustfile (they are abstract, like Locust's
HttpUser, so importing one does not run it)::

    from sim.load import ChatUser

    class Visitor(ChatUser):
        think_time = 5.0      # mean seconds between a visitor's messages

and run `locust -f locustfile.py --host http://127.0.0.1:8080` (or `chatsim
load`). Each user opens one session (statistics: `handshake`, `login`, later
`restore`), then sends a message every `think_time` seconds (± 50%) and
waits for its acknowledgement (`send→ack`). Transport events become named
events (`interrupted`, `continued`, `restored`, `EventError <code> ...`).
When the test stops, every session settles and is judged (`sim.load.tally`);
lost, duplicated or never-acknowledged messages and broken invariants are
failures (`judge` entries).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, ClassVar

import gevent.lock
from locust import User, constant_throughput, task
from locust.env import Environment

from sim.load import plugin
from sim.load.bridge import bridge
from sim.load.pool import Pool
from sim.load.session import LoadSession, Mode, describe_send_error
from sim.load.target import discover
from statecharts.chart import Timers
from transport.wire import ConnectionType

_pool_lock = gevent.lock.Semaphore()


def pool_for(environment: Environment, mode: Mode, host: str) -> Pool:
    """The process's pool, created by the first user (discovery runs once)."""
    with _pool_lock:
        existing: Pool | None = getattr(environment, "chatsim_pool", None)
        if existing is not None:
            return existing
        options = plugin.options(environment)
        timers = Timers(interrupt_after=options.interrupt_after, jitter=True)
        transport = ConnectionType(options.transport)
        target = bridge().call(
            lambda: discover(host, mode, token=options.token, transport=transport, timers=timers),
            timeout=30.0,
        )
        pool = Pool(environment, target, options.faults, plugin.run_started(), options.agent_every)
        environment.chatsim_pool = pool  # type: ignore[attr-defined]
        plugin.pool_created(environment, pool)
        return pool


class ChatUser(User):
    """An emulated browser running a chat against `host` (subclass it, as Locust's
    HttpUser: an imported base class is not run by itself)."""

    abstract = True
    mode: ClassVar[Mode] = "chat"
    think_time: float = 2.0  # mean seconds between messages (`--chatsim-think` overrides)
    # Messages per second per browser, paced whatever the acknowledgements take
    # (`--chatsim-rate` overrides); None: think time after each acknowledgement.
    message_rate: float | None = None
    open_timeout: float = 30.0
    ack_timeout: float = 60.0

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.pool: Pool | None = None
        self.session: LoadSession | None = None
        self._pacing: Callable[[User], float] | None = None

    def wait_time(self) -> float:
        options = plugin.options(self.environment)
        rate = options.rate if options.rate is not None else self.message_rate
        if rate:
            if self._pacing is None:
                self._pacing = constant_throughput(rate)
            return self._pacing(self)
        mean = self.think_time if options.think is None else options.think
        return random.uniform(0.5 * mean, 1.5 * mean)

    def on_start(self) -> None:
        if not self.host:
            raise ValueError("give the server with --host (e.g. http://127.0.0.1:8080)")
        self.pool = pool_for(self.environment, self.mode, self.host)
        session = self.session = self.pool.new_session()
        try:
            self.pool.bridge.call(
                lambda: session.open(self.open_timeout), timeout=self.open_timeout + 5.0
            )
        except Exception as exc:
            name = "login" if self.mode == "chat" else "subscribe"
            self.pool.fire(self.mode, name, 0.0, describe_send_error(exc))

    @task
    def send(self) -> None:
        pool, session = self.pool, self.session
        if pool is None or session is None or pool.closing or session.session is None:
            return
        try:
            ms = pool.bridge.call(
                lambda: session.send(self.ack_timeout), timeout=self.ack_timeout + 5.0
            )
        except Exception as exc:
            pool.fire(self.mode, "send→ack", 0.0, describe_send_error(exc))
        else:
            pool.fire(self.mode, "send→ack", ms)

    def on_stop(self) -> None:
        # A user stopped while the test goes on (ramp-down) is judged alone; at the end of
        # the test the pool has already judged everyone at once.
        pool, session = self.pool, self.session
        if pool is None or session is None or session.judged is not None or pool.closing:
            return
        settle = plugin.options(self.environment).settle

        async def finish() -> Any:
            await session.settle(settle)
            await session.close()

        pool.bridge.call(finish, timeout=settle + 10.0)
        pool.flush()


class BayeuxUser(ChatUser):
    """Pure Bayeux: subscribes to its own channel and publishes numbered messages on it."""

    abstract = True
    mode: ClassVar[Mode] = "bayeux"
