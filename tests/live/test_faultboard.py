"""The live fault board: which frames a fault touches, and how (no sockets)."""

from __future__ import annotations

import json
import random

import pytest

from sim.faults import Direction
from sim.live.faultboard import Delivery, FaultBoard
from statecharts.errors import BadInput

FRAME = '[{"channel":"/meta/connect","successful":true,"id":"1"}]'


def board() -> FaultBoard:
    return FaultBoard(random.Random(1))


def down(b: FaultBoard, now: float, client: str = "c1", inst: str = "i1") -> list[Delivery]:
    return b.frame(now, Direction.DOWN, (inst, (client, "chat-1"), "k"), FRAME)


def test_a_fault_starts_at_and_ends_after_its_duration_from_now() -> None:
    b = board()
    posted = b.add({"kind": "outage", "at": 1, "duration": 2}, now=10.0)
    assert posted.fault.at == 11.0
    assert not b.refuses(10.5, "i1")
    assert b.refuses(11.0, "i1")
    assert b.ended(12.9) == []
    assert b.ended(13.0) == [posted]
    assert b.listing(13.0) == []


def test_outage_and_blackhole_drop_frames_of_their_instance_and_client_only() -> None:
    b = board()
    b.add({"kind": "blackhole", "duration": 5, "instance": "i2"}, now=0.0)
    b.add({"kind": "outage", "duration": 5, "client": "c9"}, now=0.0)
    assert down(b, 1.0) == [Delivery(FRAME)]
    assert down(b, 1.0, inst="i2") == []
    assert down(b, 1.0, client="c9") == []
    assert b.refuses(1.0, "i1", ("c9",))
    assert not b.refuses(1.0, "i1", ("c1",))
    assert not b.refuses(1.0, "i1")


def test_a_client_fault_names_the_bayeux_client_or_its_chat() -> None:
    b = board()
    b.add({"kind": "blackhole", "duration": 5, "client": "chat-1"}, now=0.0)
    assert down(b, 1.0, client="anyone") == []
    assert b.frame(1.0, Direction.UP, ("i1", ("c2", "chat-2"), "k"), FRAME) == [Delivery(FRAME)]


def test_corrupt_edits_count_frames_downstream_then_leaves_the_board() -> None:
    b = board()
    b.add({"kind": "corrupt", "count": 2, "mode": "truncated"}, now=0.0)
    assert b.frame(0.0, Direction.UP, ("i1", ("c1",), "k"), FRAME) == [Delivery(FRAME)]
    first, second, third = (down(b, 0.1)[0].text for _ in range(3))
    assert first == second == FRAME[: len(FRAME) // 2]
    assert third == FRAME
    assert len(b.ended(0.2)) == 1


def test_schema_corruption_keeps_json_but_breaks_bayeux() -> None:
    b = board()
    b.add({"kind": "corrupt", "mode": "schema"}, now=0.0)
    edited = json.loads(down(b, 0.0)[0].text)
    assert edited[0]["successful"] == "true"


def test_latency_delays_frames_by_ms_plus_bounded_jitter() -> None:
    b = board()
    b.add({"kind": "latency", "ms": 200, "jitter": 50, "direction": "up"}, now=0.0)
    assert down(b, 0.0) == [Delivery(FRAME)]
    (delayed,) = b.frame(0.0, Direction.UP, ("i1", (), "k"), FRAME)
    assert 0.2 <= delayed.delay <= 0.25


def test_duplicate_with_certainty_doubles_and_loss_drops() -> None:
    b = board()
    dup = b.add({"kind": "duplicate", "p": 1.0}, now=0.0)
    assert down(b, 0.0) == [Delivery(FRAME)] * 2
    b.remove(dup.id)
    b.add({"kind": "loss", "p": 1.0}, now=0.0)
    assert down(b, 0.0) == []


def test_reorder_holds_a_frame_back_behind_the_next() -> None:
    b = board()
    b.add({"kind": "reorder", "p": 1.0}, now=0.0)
    assert b.frame(0.0, Direction.DOWN, ("i1", (), "k"), "A") == []
    assert [d.text for d in b.frame(0.0, Direction.DOWN, ("i1", (), "k"), "B")] == ["B", "A"]


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
