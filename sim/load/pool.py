"""The sessions of one Locust worker process, seen from the gevent side.

`Pool` owns the process's bridge to the asyncio loop, the statistics sink it
empties into Locust's `events.request` every half second, and the sessions
of its users. When the test stops it settles and judges every session at once
(concurrently on the loop), so the final tally is ready before the worker
tells the master it stopped.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Mapping, Sequence
from typing import Any

import gevent
from locust.env import Environment

from sim.load.bridge import Bridge, bridge
from sim.load.netfaults import CLIENT_KINDS, faults_for
from sim.load.session import LoadSession, Shared, StatSink, Target
from sim.load.tally import Totals, judge_session, live_counts

FLUSH_EVERY = 0.5
MAX_PROBLEMS = 10  # findings per worker sent to the master


class Pool:
    def __init__(
        self,
        environment: Environment,
        target: Target,
        faults: Sequence[Mapping[str, Any]] = (),
        run_started: float | None = None,
        agent_every: float = 0.0,
    ) -> None:
        self.environment = environment
        self.bridge: Bridge = bridge()
        self.sink = StatSink()
        self.shared = Shared(target, self.sink)
        self.shared.agent_every = agent_every
        if run_started is not None:
            self.shared.run_started = run_started
        self.faults = [dict(f) for f in faults if f.get("kind") in CLIENT_KINDS]
        self.sessions: list[LoadSession] = []
        self.final: Totals | None = None
        self.problems: list[str] = []  # a few sessions' findings, for the report
        self.closing = False
        self._numbers = itertools.count()
        self._prefix = f"w{os.getpid()}"
        self._flusher = gevent.spawn(self._flush_forever)

    def reset(self, run_started: float) -> None:
        """A new test in the same process: the old sessions were judged and closed."""
        self.closing = False
        self.sessions = []
        self.final = None
        self.problems = []
        self.shared.run_started = run_started

    @property
    def target(self) -> Target:
        return self.shared.target

    def new_session(self) -> LoadSession:
        number = next(self._numbers)
        session = LoadSession(self.shared, f"{self._prefix}-u{number}", number)
        self.sessions.append(session)
        session.faults = faults_for(number, self.faults)
        return session

    def totals(self) -> Totals:
        """Judged sessions as judged, the others as they stand."""
        return Totals.sum(
            s.judged if s.judged is not None else live_counts(s.record) for s in self.sessions
        )

    # -- statistics --------------------------------------------------------------------
    def fire(self, request_type: str, name: str, ms: float, error: str | None = None) -> None:
        self.environment.events.request.fire(
            request_type=request_type,
            name=name,
            response_time=ms,
            response_length=0,
            exception=None if error is None else LoadFailure(error),
            context={},
        )

    def flush(self) -> None:
        for stat in self.sink.take():
            self.fire(stat.request_type, stat.name, stat.ms, stat.error)

    def _flush_forever(self) -> None:
        while True:
            gevent.sleep(FLUSH_EVERY)
            self.flush()

    # -- the end -----------------------------------------------------------------------
    def settle_all(self, timeout: float) -> Totals:
        """Settle, judge and close every session (concurrently); the final tally."""
        self.closing = True
        sessions = list(self.sessions)

        async def settle() -> list[Totals]:
            async def one(session: LoadSession) -> Totals:
                if session.judged is None:
                    try:
                        await session.settle(timeout)
                    except Exception:  # a broken session is judged as it stands
                        session.judged = judge_session(session.record, None)
                await session.close()
                assert session.judged is not None
                return session.judged

            results = await asyncio.gather(*(one(s) for s in sessions))
            await self.shared.close()
            return list(results)

        results = self.bridge.call(settle, timeout=timeout + 30.0)
        self.flush()
        self.final = Totals.sum(results)
        self.problems = [s.problem for s in sessions if s.problem is not None][:MAX_PROBLEMS]
        return self.final


class LoadFailure(Exception):
    """A failed sample in Locust's statistics (the message says what failed)."""
