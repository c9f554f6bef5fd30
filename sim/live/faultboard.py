"""The live server's faults: the board behind the control API, and the frame path.

The same fault values and the same fault engine (`statecharts.fault_engine`)
as the simulator, applied to real connections. A fault added through the
control API starts `at` seconds from now (default at once) and ends
`duration` seconds later (None: until removed). A fault's `client` matches
the Bayeux clientId seen on the connection or the chatId of the chat that
client runs; the server-side kinds are handed to the cluster by
`sim.live.server`. Times are the live server's clock in seconds; nothing here
reads it, so both classes can be driven with plain numbers and a fake timer.

The server carries frames through the engine with
`statecharts.fault_path.FaultPath` (re-exported here), as the aio client's
own faulty links do.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sim.fault_engine import FaultEngine, Link
from sim.faults import Fault, Reload, parse_fault
from statecharts.errors import BadInput
from statecharts.fault_path import FaultPath

__all__ = ["SOURCE", "FaultBoard", "FaultPath", "Posted"]

SOURCE = "fault API"
# Faults are posted by hand or by a test: a board this full is a runaway script.
MAX_POSTED = 1000


@dataclass(frozen=True)
class Posted:
    """A fault on the board: its id and the value with an absolute start time."""

    id: int
    fault: Fault

    def as_dict(self, now: float, error: str | None = None) -> dict[str, Any]:
        out = {"id": self.id, "active": self.fault.active(now), "fault": self.fault.as_dict()}
        if error is not None:
            out["error"] = error
        return out


class FaultBoard:
    """The faults posted through the control API, judged by one `FaultEngine`."""

    def __init__(self, rng: random.Random) -> None:
        self.engine = FaultEngine(rng)
        self._posted: dict[int, Posted] = {}
        self._errors: dict[int, str] = {}

    # -- the control API ---------------------------------------------------
    def add(
        self,
        raw: Mapping[str, Any],
        now: float,
        *,
        instances: Collection[str] | None = None,
        clients: Collection[str] | None = None,
        rows: Collection[str] | None = None,
    ) -> Posted:
        """Validate and post a fault (`at` is seconds from now); BadInput names the field."""
        if len(self._posted) >= MAX_POSTED:
            raise BadInput(
                SOURCE,
                f"room on the board (at most {MAX_POSTED} faults at once: DELETE /faults)",
                field="kind",
                got=raw.get("kind") if isinstance(raw, Mapping) else None,
            )
        fault = parse_fault(raw, SOURCE, instances=instances, clients=clients, rows=rows)
        if isinstance(fault, Reload):
            raise BadInput(
                SOURCE,
                "a server or network fault (reload happens in the browser)",
                field="kind",
                got="reload",
            )
        fault = replace(fault, at=now + fault.at)
        posted = Posted(self.engine.add(fault, now), fault)
        self._posted[posted.id] = posted
        return posted

    def remove(self, fault_id: int) -> Posted | None:
        """Take a fault off; what its blackhole held is due at once."""
        self.engine.remove(fault_id)
        self._errors.pop(fault_id, None)
        return self._posted.pop(fault_id, None)

    def clear(self) -> list[Posted]:
        return [p for p in (self.remove(i) for i in list(self._posted)) if p is not None]

    def failed(self, fault_id: int, reason: str) -> None:
        """Its start raised: listed with the reason until removed."""
        if fault_id in self._posted:
            self._errors[fault_id] = reason

    def listing(self, now: float) -> list[dict[str, Any]]:
        return [p.as_dict(now, self._errors.get(p.id)) for p in self._posted.values()]

    def get(self, fault_id: int) -> Posted | None:
        return self._posted.get(fault_id)

    def ended(self, now: float) -> list[Posted]:
        """Take the faults whose time is over (or whose corrupt count is used up) off the board."""
        spent = set(self.engine.used_up())
        gone = [
            p
            for p in self._posted.values()
            if (p.fault.end is not None and now >= p.fault.end) or p.id in spent
        ]
        for p in gone:
            self.remove(p.id)
        return gone

    # -- judging connections --------------------------------------------------
    def refuses(self, now: float, link: Link) -> bool:
        """A new connection is refused (an outage covers it)."""
        return self.engine.refuses(now, link)

    def closes(self, now: float, link: Link) -> bool:
        """An open connection must close (an outage covers it)."""
        return self.engine.closes(now, link)
