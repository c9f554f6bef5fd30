"""The fault engine on its own: properties that hold for any schedule of frame-level faults."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.fault_engine import REORDER_HOLD, Delivery, FaultEngine, Link
from sim.faults import Blackhole, Corrupt, Direction, Duplicate, Fault, Latency, Loss, Reorder

LINKS = [Link("a", "i1", client="c1"), Link("b", "i2", client="c2")]
WAYS = [Direction.UP, Direction.DOWN]
directions = st.sampled_from(list(Direction))
windows = st.tuples(st.floats(0, 3), st.none() | st.floats(0.01, 3))


def _fault(kind: str, window: tuple[float, float | None], way: Direction, x: float) -> Fault:
    at, duration = window
    if kind == "latency":
        return Latency(at=at, duration=duration, direction=way, ms=x * 300, jitter=x * 200)
    if kind == "duplicate":
        return Duplicate(at=at, duration=duration, direction=way, p=x)
    if kind == "reorder":
        return Reorder(at=at, duration=duration, direction=way, p=x)
    return Blackhole(at=at, duration=1.0 if duration is None else duration, direction=way)


faults = st.lists(
    st.builds(
        _fault,
        st.sampled_from(["latency", "duplicate", "reorder", "blackhole"]),
        windows,
        directions,
        st.floats(0, 1),
    ),
    max_size=5,
)
frames = st.lists(
    st.tuples(st.floats(0, 5), st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=40
)


def run(
    schedule: list[Fault], sent: list[tuple[float, int, int]], seed: int
) -> dict[tuple[str, Direction], list[Delivery]]:
    engine = FaultEngine(random.Random(seed))
    for fault in schedule:
        engine.add(fault, 0.0)
    out: dict[tuple[str, Direction], list[Delivery]] = {}
    for i, (t, which, way) in enumerate(sorted(sent)):
        for released in engine.due(t):
            out.setdefault((released.link.conn, released.way), []).append(released.delivery)
        link, direction = LINKS[which], WAYS[way]
        out.setdefault((link.conn, direction), []).extend(engine.decide(str(i), direction, t, link))
    for fault_id in list(engine.faults()):
        engine.remove(fault_id)
    for released in engine.due(100.0):
        out.setdefault((released.link.conn, released.way), []).append(released.delivery)
    assert engine.next_deadline() is None
    return out


@settings(max_examples=150, deadline=None)
@given(faults, frames, st.integers(0, 9))
def test_arrivals_never_go_back_in_time_per_link_and_nothing_is_lost(
    schedule: list[Fault], sent: list[tuple[float, int, int]], seed: int
) -> None:
    out = run(schedule, sent, seed)
    for deliveries in out.values():
        times = [d.at for d in deliveries]
        assert times == sorted(times)
    delivered = {d.text for deliveries in out.values() for d in deliveries}
    assert delivered == {str(i) for i in range(len(sent))}  # held or reordered, never lost


@settings(max_examples=50, deadline=None)
@given(frames, st.integers(0, 9))
def test_a_reordered_frame_waits_at_most_the_bound(
    sent: list[tuple[float, int, int]], seed: int
) -> None:
    engine = FaultEngine(random.Random(seed))
    engine.add(Reorder(p=1.0), 0.0)
    sent_at: dict[str, float] = {}
    arrivals: dict[str, float] = {}
    for i, (t, which, way) in enumerate(sorted(sent)):
        for released in engine.due(t):
            arrivals.setdefault(released.delivery.text, released.delivery.at)
        sent_at[str(i)] = t
        for d in engine.decide(str(i), WAYS[way], t, LINKS[which]):
            arrivals.setdefault(d.text, d.at)
    for released in engine.due(100.0):
        arrivals.setdefault(released.delivery.text, released.delivery.at)
    assert all(arrivals[k] - sent_at[k] <= REORDER_HOLD + 1e-9 for k in sent_at)


def test_a_corrupt_count_belongs_to_the_fault_and_skips_lost_frames() -> None:
    engine = FaultEngine(random.Random(3))
    engine.add(Loss(p=0.5, direction=Direction.DOWN), 0.0)
    engine.add(Corrupt(count=5, direction=Direction.DOWN), 0.0)
    out = [
        engine.decide('[{"channel":"/x"}]', Direction.DOWN, 0.0, LINKS[i % 2]) for i in range(40)
    ]
    corrupted = [d for ds in out for d in ds if d.text != '[{"channel":"/x"}]']
    assert len(corrupted) == 5  # across both links, and none used by a lost frame
    assert engine.used_up() == [2]
