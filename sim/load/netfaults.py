"""Which emulated browsers a load run's browser-side faults hit, and when.

The network kinds (outage, blackhole, latency, loss, duplicate, reorder,
corrupt) are applied by the transport's own client-side seam
(`transport.aio.faulty.ClientFaults`: the one fault engine on the browser's
links), on the run's clock: a fault's `at` counts from the start of the run.
`reload` is not a network fault: the session schedules a page reload. A
`share` picks browser `n` when `(n·φ) mod 1 < share`, so any share of any
number of browsers is spread evenly over the workers' numbering.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sim.faults import NETWORK_KINDS, parse_fault

GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
SOURCE = "--fault"
CLIENT_KINDS = NETWORK_KINDS | {"reload"}


def chosen(number: int, share: float | None) -> bool:
    """Whether browser `number` is in a `share` of the browsers (evenly spread)."""
    return share is None or (number * GOLDEN) % 1.0 < share


def faults_for(number: int, faults: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The browser-side faults (without `share`) that hit browser `number`."""
    out = []
    for raw in faults:
        fault = {k: v for k, v in raw.items() if k != "share"}
        kind = parse_fault(fault, SOURCE).kind
        if kind in CLIENT_KINDS and chosen(number, raw.get("share")):
            out.append(fault)
    return out


def split(faults: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[float]]:
    """(network faults for `ClientFaults`, times of page reloads)."""
    network, reloads = [], []
    for raw in faults:
        if raw.get("kind") == "reload":
            reloads.append(float(raw.get("at", 0.0)))
        else:
            network.append(dict(raw))
    return network, reloads
