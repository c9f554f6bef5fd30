"""The live server's fault control: the `/faults` API and starting, ending and undoing faults.

`FaultControl` is a mixin of `LiveServer` (its methods take the server as
`self`); split out of `sim.live.server` so fault handling reads on its own.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, web

from sim.faults import CommandError, Crash, Expire, Fault, NotReady, Slow
from sim.live.faultboard import FaultBoard, FaultPath, Posted
from sim.live.guard import read_json
from sim.live.limits import Limits
from sim.live.ports import ClusterPort
from sim.live.server_base import (
    INSTANT_KINDS,
    SERVER_KINDS,
    Conn,
    LiveListener,
    _json,
    log,
)
from statecharts.errors import BadInput
from statecharts.faults import BEHAVIOUR_KINDS


class FaultControl:
    """The fault control of `LiveServer`: `/faults`, `add_fault`, `remove_fault`, `clear_faults`."""

    if TYPE_CHECKING:  # what the mixin uses of `LiveServer` (declarations only)
        cluster: ClusterPort
        faults: FaultBoard
        fault_path: FaultPath
        limits: Limits
        listeners: list[LiveListener]
        _conns: dict[str, Conn]
        _chats: dict[str, str]
        _timers: dict[int, list[asyncio.TimerHandle]]

        def now(self) -> float: ...
        def _pump(self) -> None: ...
        def _drop(self, conn: Conn, reason: str, code: int = WSCloseCode.GOING_AWAY) -> None: ...
        def authorised(self, request: web.Request) -> bool: ...

    async def _faults(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return _json({"error": "a bearer token is required"}, 401)
        now = self.now()
        if request.method == "GET":
            return _json({"now": now, "faults": self.faults.listing(now)})
        if request.method == "DELETE":
            self.clear_faults()
            return _json({"cleared": True})
        raw = await read_json(request, self.limits)
        if isinstance(raw, web.Response):
            return raw
        try:
            posted = self.add_fault(raw)
        except BadInput as exc:
            return _json({"error": str(exc)}, 400)
        return _json(posted.as_dict(self.now()), 201)

    async def _fault(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return _json({"error": "a bearer token is required"}, 401)
        try:
            fault_id = int(request.match_info["id"])
        except ValueError:
            return _json({"error": "fault ids are integers"}, 404)
        if request.method == "DELETE":
            posted = self.faults.remove(fault_id)
            if posted is not None:
                self._end_fault(posted, removed=True)
        else:
            posted = self.faults.get(fault_id)
        if posted is None:
            return _json({"error": f"no fault {fault_id}"}, 404)
        return _json(posted.as_dict(self.now()))

    def add_fault(self, raw: Any) -> Posted:
        """Validate (BadInput names the field) and schedule a fault; `at` is seconds from now."""
        posted = self.faults.add(
            raw,
            self.now(),
            instances=list(self.cluster.instances),
            clients=self._client_names(),
            rows=[row.key for row in self.cluster.dialect.rows],
        )
        loop = asyncio.get_running_loop()
        start = max(0.0, posted.fault.at - self.now())
        handles = [loop.call_later(start, self._start_fault, posted)]
        if posted.fault.end is not None:
            handles.append(loop.call_later(posted.fault.end - self.now(), self._expire, posted))
        self._timers[posted.id] = handles
        log.info("fault %d added: %s", posted.id, posted.fault.as_dict())
        return posted

    def _client_names(self) -> set[str]:
        """What a fault's `client` may name: clientIds and chatIds this server has seen."""
        names = set(self._chats) | set(self._chats.values())
        names.update(n for conn in self._conns.values() for n in conn.names)
        return names

    def remove_fault(self, fault_id: int) -> bool:
        posted = self.faults.remove(fault_id)
        if posted is not None:
            self._end_fault(posted, removed=True)
        return posted is not None

    def clear_faults(self) -> None:
        """Every fault off the board and its effect undone, even if one of them fails."""
        for posted in self.faults.clear():
            self._end_fault(posted, removed=True)

    def _start_fault(self, posted: Posted) -> None:
        fault, now = posted.fault, self.now()
        log.info("fault %d start: %s", posted.id, fault.kind)
        try:
            if fault.kind == "outage":
                for conn in list(self._conns.values()):
                    if self.faults.closes(now, conn.link):
                        self._drop(conn, "outage")
            elif fault.kind in SERVER_KINDS:
                self._cluster_fault(fault, now, start=True)
        except Exception as exc:  # reported and undone, never left half-applied
            log.warning("fault %d could not start: %s", posted.id, exc)
            self.faults.engine.remove(posted.id)
            self._undo(posted, removed=True)
            self.faults.failed(posted.id, f"could not start: {exc}")
            return
        for listener in self.listeners:
            listener.fault_started(posted.id, fault.as_dict(), now)
        if fault.kind in INSTANT_KINDS and fault.duration is None:
            self._expire(posted)  # done once handed to the cluster

    def _end_used_up(self) -> None:
        for posted in self.faults.ended(self.now()):
            self._end_fault(posted)

    def _expire(self, posted: Posted) -> None:
        if self.faults.remove(posted.id) is not None:
            self._end_fault(posted)

    def _end_fault(self, posted: Posted, *, removed: bool = False) -> None:
        """`removed`: taken off through the API (a pending command_error count is cancelled)."""
        for handle in self._timers.pop(posted.id, []):
            handle.cancel()
        log.info("fault %d end: %s", posted.id, posted.fault.kind)
        for listener in self.listeners:
            listener.fault_ended(posted.id, self.now())
        self._undo(posted, removed=removed)
        self.fault_path.flush(self.now())  # what a blackhole held goes on its way

    def _undo(self, posted: Posted, *, removed: bool) -> None:
        if posted.fault.kind not in SERVER_KINDS or posted.fault.at > self.now():
            return
        try:
            self._cluster_fault(posted.fault, self.now(), start=False, removed=removed)
        except Exception as exc:  # one failing undo must not stop the others
            log.warning("fault %d could not be undone: %s", posted.id, exc)

    def _cluster_fault(
        self,
        fault: Fault,
        now: float,
        *,
        start: bool,
        removed: bool = False,
    ) -> None:
        cluster = self.cluster
        names = [fault.instance] if fault.instance else list(cluster.instances)
        if isinstance(fault, Crash):
            for name in names:
                (cluster.crash if start else cluster.recover)(name, now)
            self._chats = {c: chat for c, chat in self._chats.items() if cluster.has_client(c)}
        elif isinstance(fault, Expire) and start:
            cluster.expire(fault.client, now)
        elif isinstance(fault, NotReady) and fault.end is not None:
            cluster.not_ready(fault.end if start else now)
        elif isinstance(fault, CommandError) and (start or removed):
            cluster.command_errors(fault.code, fault.count if start else 0)
        elif isinstance(fault, Slow):
            cluster.slow(fault.ms if start else 0.0)
        elif fault.kind in BEHAVIOUR_KINDS and (start or removed or fault.kind == "redirect"):
            cluster.seed_behaviour(fault, start=start)
        self._pump()
