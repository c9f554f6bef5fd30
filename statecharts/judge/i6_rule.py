"""I6 (nothing lost, nothing duplicated) on plain values: indexes and message ids.

The one statement of the rule. The judge (`i6_delivery`) applies it to a
trace and turns what it finds into violations with their lines; the load
tally (`sim.load.tally`, which keeps no message records) applies it to a
session's counts and turns the same findings into sums.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Container, Iterable, Mapping, Sized
from enum import Enum


class Inbound(Enum):
    """What is wrong with one inbound index, given those before it."""

    TWICE = "twice"  # the index was delivered before
    LATE = "late"  # below the highest index so far: out of order
    GAP = "gap"  # above the next index: the ones between were missed


def inbound_fault(index: int, last: int | None, seen: Container[int]) -> Inbound | None:
    """Each index once, in order, with no gap (`last`: the highest so far)."""
    if index in seen:
        return Inbound.TWICE
    if last is not None and index < last:
        return Inbound.LATE
    if last is not None and index > last + 1:
        return Inbound.GAP
    return None


def delivered_twice(delivered: Iterable[int]) -> tuple[int, ...]:
    """Indexes delivered more than once, ascending."""
    return tuple(sorted(i for i, n in Counter(delivered).items() if n > 1))


def acked_twice(acks: Mapping[str, Sized]) -> tuple[str, ...]:
    """Messages acknowledged more than once (`acks`: id -> its acknowledgements)."""
    return tuple(m for m, got in acks.items() if len(got) > 1)


def unresolved(sent: Iterable[str], acked: Container[str], failed: Container[str]) -> list[str]:
    """Sent messages neither acknowledged nor reported failed, in the order sent."""
    return [m for m in sent if m not in acked and m not in failed]


def never_delivered(expected: Iterable[int], delivered: Container[int]) -> tuple[int, ...]:
    """Expected indexes that never arrived, ascending."""
    return tuple(sorted(i for i in expected if i not in delivered))


def numbered_up_to(delivered: Collection[int], acked: Iterable[int]) -> range:
    """Without the server's transcript: indexes grow by one per event and are never
    reused, so the highest delivered or acknowledged bounds what the server accepted."""
    return range(1, max([*delivered, *acked], default=0) + 1)


def not_accepted(delivered: Iterable[int], accepted: Container[int]) -> tuple[int, ...]:
    """Delivered indexes the server never had, ascending."""
    return tuple(sorted({i for i in delivered if i not in accepted}))


def accepted_twice(ids: Iterable[str | None]) -> tuple[str, ...]:
    """Client messages at two transcript indexes (`ids`: the transcript's, in order)."""
    counts = Counter(m for m in ids if m is not None)
    return tuple(m for m, n in counts.items() if n > 1)


def not_in_transcript(acked: Iterable[str], ids: Container[str | None]) -> tuple[str, ...]:
    """Acknowledged messages the server's transcript does not have."""
    return tuple(m for m in acked if m not in ids)


def other_events(arrived: Mapping[int, str], server: Mapping[int, str]) -> tuple[int, ...]:
    """Indexes where the client got another event than the server has there, or one the
    server does not have at all (each side: the client message id, else the party)."""
    return tuple(sorted(i for i, got in arrived.items() if server.get(i) != got))
