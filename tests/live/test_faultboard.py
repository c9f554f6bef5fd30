"""The live fault board and frame path: which frames a fault touches, and how (no sockets)."""

from __future__ import annotations

import json
import random

import pytest

from sim.fault_engine import Delivery, Link
from sim.faults import Direction
from sim.live.faultboard import MAX_POSTED, FaultBoard, FaultPath
from statecharts.errors import BadInput
from tests.live.fake_timers import FakeTimers

FRAME = '[{"channel":"/meta/connect","successful":true,"id":"1"}]'
UP, DOWN = Direction.UP, Direction.DOWN


def board() -> FaultBoard:
    return FaultBoard(random.Random(1))


def link(client: str = "c1", inst: str = "i1", conn: str = "k") -> Link:
    return Link(conn, inst, client=client, chat="chat-1")


def down(b: FaultBoard, now: float, client: str = "c1", inst: str = "i1") -> tuple[Delivery, ...]:
    return b.engine.decide(FRAME, DOWN, now, link(client, inst))


def test_a_fault_starts_at_and_ends_after_its_duration_from_now() -> None:
    b = board()
    posted = b.add({"kind": "outage", "at": 1, "duration": 2}, now=10.0)
    assert posted.fault.at == 11.0
    assert not b.refuses(10.5, link())
    assert b.refuses(11.0, link())
    assert b.ended(12.9) == []
    assert b.ended(13.0) == [posted]
    assert b.listing(13.0) == []


def test_outage_and_blackhole_act_on_their_instance_and_client_only() -> None:
    b = board()
    b.add({"kind": "blackhole", "duration": 5, "instance": "i2"}, now=0.0)
    b.add({"kind": "outage", "duration": 5, "client": "c9"}, now=0.0)
    assert down(b, 1.0) == (Delivery(1.0, FRAME),)
    assert down(b, 1.0, inst="i2") == ()  # held
    assert down(b, 1.0, client="c9") == ()  # dropped
    assert b.refuses(1.0, Link("k", "i1", client="c9"))
    assert b.closes(1.0, Link("k", "i1", client="c9"))
    assert not b.refuses(1.0, link())
    assert not b.refuses(1.0, Link("k2", "i1"))


def test_a_client_fault_names_the_bayeux_client_or_its_chat() -> None:
    b = board()
    b.add({"kind": "loss", "p": 1, "duration": 5, "client": "chat-1"}, now=0.0)
    assert down(b, 1.0, client="anyone") == ()
    other = Link("k2", "i1", client="c2", chat="chat-2")
    assert b.engine.decide(FRAME, UP, 1.0, other) == (Delivery(1.0, FRAME),)


def test_corrupt_edits_count_frames_downstream_then_leaves_the_board() -> None:
    b = board()
    b.add({"kind": "corrupt", "count": 2, "mode": "truncated"}, now=0.0)
    assert b.engine.decide(FRAME, UP, 0.0, link()) == (Delivery(0.0, FRAME),)
    first, second, third = (down(b, 0.1)[0].text for _ in range(3))
    assert first == second == FRAME[: len(FRAME) // 2]
    assert third == FRAME
    assert len(b.ended(0.2)) == 1


def test_a_frame_loss_drops_does_not_use_up_a_corrupt_count() -> None:
    b = board()
    b.add({"kind": "loss", "p": 1, "duration": 1}, now=0.0)
    b.add({"kind": "corrupt", "count": 1}, now=0.0)
    assert down(b, 0.5) == ()
    assert down(b, 1.5)[0].text != FRAME  # the count was still there after the loss


def test_schema_corruption_keeps_json_but_breaks_bayeux() -> None:
    b = board()
    b.add({"kind": "corrupt", "mode": "schema"}, now=0.0)
    edited = json.loads(down(b, 0.0)[0].text)
    assert edited[0]["successful"] == "true"


def test_latency_delays_frames_by_ms_plus_bounded_jitter_in_order() -> None:
    b = board()
    b.add({"kind": "latency", "ms": 200, "jitter": 50, "direction": "up"}, now=0.0)
    assert down(b, 0.0) == (Delivery(0.0, FRAME),)
    arrivals = [b.engine.decide(str(i), UP, i * 0.001, link())[0].at for i in range(50)]
    assert all(0.2 <= at - i * 0.001 <= 0.25 for i, at in enumerate(arrivals))
    assert arrivals == sorted(arrivals)  # jitter never reorders


def test_duplicate_with_certainty_doubles_and_loss_drops() -> None:
    b = board()
    dup = b.add({"kind": "duplicate", "p": 1.0}, now=0.0)
    assert down(b, 0.0) == (Delivery(0.0, FRAME),) * 2
    b.remove(dup.id)
    b.add({"kind": "loss", "p": 1.0}, now=0.0)
    assert down(b, 0.0) == ()


def test_reorder_holds_a_frame_back_behind_the_next_or_for_a_bounded_time() -> None:
    b = board()
    b.add({"kind": "reorder", "p": 1.0}, now=0.0)
    assert b.engine.decide("A", DOWN, 0.0, link()) == ()
    assert [d.text for d in b.engine.decide("B", DOWN, 0.0, link())] == ["B", "A"]
    assert b.engine.decide("C", DOWN, 1.0, link()) == ()
    assert b.engine.next_deadline() == pytest.approx(1.1)
    ((at, text),) = [(r.delivery.at, r.delivery.text) for r in b.engine.due(1.1)]
    assert text == "C"
    assert at == pytest.approx(1.1)


def path_with_log() -> tuple[FaultPath, FaultBoard, FakeTimers, list[tuple[float, str, str]]]:
    timers = FakeTimers()
    log: list[tuple[float, str, str]] = []
    b = board()
    path = FaultPath(
        b.engine,
        lambda conn, way, text: log.append((timers.now, way.value, text)),
        timers.call_later,
        lambda: timers.now,
    )
    return path, b, timers, log


def test_a_live_blackhole_holds_frames_and_delivers_them_when_it_ends() -> None:
    path, b, timers, log = path_with_log()
    b.add({"kind": "blackhole", "duration": 5}, now=0.0)
    for i in range(3):
        timers.run_until(1.0 + i)
        path.send(timers.now, DOWN, link(), f"f{i}")
    assert log == []
    timers.run_until(10.0)
    assert log == [(5.0, "down", "f0"), (5.0, "down", "f1"), (5.0, "down", "f2")]


def test_removing_a_blackhole_releases_what_it_held_at_once() -> None:
    path, b, timers, log = path_with_log()
    posted = b.add({"kind": "blackhole", "duration": 60}, now=0.0)
    path.send(0.5, UP, link(), "held")
    timers.run_until(2.0)
    b.remove(posted.id)
    path.flush(timers.now)
    assert log == [(2.0, "up", "held")]


def test_the_path_keeps_frames_in_order_under_latency() -> None:
    path, b, timers, log = path_with_log()
    b.add({"kind": "latency", "ms": 100, "jitter": 100, "duration": 1}, now=0.0)
    for i in range(20):
        timers.run_until(i * 0.01)
        path.send(timers.now, DOWN, link(), str(i))
    timers.run_until(5.0)
    assert [text for _, _, text in log] == [str(i) for i in range(20)]
    assert path.pending() == 0


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"kind": "meteor"}, "kind"),
        ({"kind": "outage"}, "duration"),
        ({"kind": "reload"}, "kind"),
        ({"kind": "latency", "ms": "x"}, "ms"),
    ],
)
def test_bad_faults_are_refused_naming_the_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(BadInput) as info:
        board().add(raw, now=0.0)
    assert info.value.field == field


def test_clear_empties_the_board() -> None:
    b = board()
    b.add({"kind": "slow", "ms": 10}, now=0.0)
    b.add({"kind": "expire"}, now=0.0)
    assert len(b.clear()) == 2
    assert b.listing(0.0) == []


def test_the_board_holds_a_bounded_number_of_faults() -> None:
    board = FaultBoard(random.Random(0))
    for _ in range(MAX_POSTED):
        board.add({"kind": "latency", "ms": 5}, 0.0)
    with pytest.raises(BadInput, match="at most 1000 faults"):
        board.add({"kind": "latency", "ms": 5}, 0.0)
    board.clear()
    board.add({"kind": "latency", "ms": 5}, 0.0)
