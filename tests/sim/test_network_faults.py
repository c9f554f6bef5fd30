"""The simulated network under frame faults: latency, loss, duplicate, reorder, corrupt;
the same seed gives the same trace, and frames never overtake without `reorder`."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sim.faults import (
    Blackhole,
    Corrupt,
    CorruptMode,
    Direction,
    Duplicate,
    Fault,
    Latency,
    Loss,
    Outage,
    Reorder,
)
from sim.network import REORDER_MAX_HOLD
from tests.sim.network_harness import RTT, L, World, echo_run


# -- latency ------------------------------------------------------------------------------------
def test_latency_adds_to_each_direction() -> None:
    world = World([Latency(at=0.0, duration=None, ms=100.0, direction=Direction.UP)])
    world.open()
    world.send(1.0, "slow")
    world.run()
    assert world.client.log[0] == ("made", pytest.approx(RTT + 0.1))
    assert world.server.log[1][1] == pytest.approx(1.0 + L + 0.1)
    assert world.client.log[1][1] == pytest.approx(1.0 + RTT + 0.1)


def test_jitter_stays_in_bounds_and_never_reorders_a_connection() -> None:
    world = World([Latency(at=0.5, duration=None, ms=10.0, jitter=200.0)])
    world.open()
    for i in range(100):
        world.send(1.0 + i * 0.001, str(i))
    world.run()
    assert world.server.frames() == [str(i) for i in range(100)]
    assert world.client.frames() == [str(i) for i in range(100)]
    first = world.server.log[1][1]
    assert 1.0 + L + 0.010 <= first <= 1.0 + L + 0.210


# -- loss, duplicate, reorder -------------------------------------------------------------------
def test_loss_drops_about_p_of_the_frames() -> None:
    world = echo_run([Loss(at=0.0, p=0.5, direction=Direction.UP)], frames=200)
    received = len(world.server.frames())
    assert 60 < received < 140
    assert world.client.frames() == world.server.frames()  # down untouched
    assert world.net.connection_of("c1").is_open  # type: ignore[union-attr]


def test_loss_direction_down_only() -> None:
    world = echo_run([Loss(at=0.0, p=1.0, direction=Direction.DOWN)], frames=5)
    assert world.server.frames() == ["0", "1", "2", "3", "4"]
    assert world.client.frames() == []
    assert {(r["dir"], r["why"]) for r in world.net_records("drop")} == {("down", "loss")}


def test_duplicate_delivers_frames_twice_in_order() -> None:
    world = echo_run([Duplicate(at=0.0, p=1.0, direction=Direction.UP)], frames=3)
    assert world.server.frames() == ["0", "0", "1", "1", "2", "2"]
    assert world.client.frames() == ["0", "0", "1", "1", "2", "2"]


def test_reorder_lets_a_later_frame_overtake() -> None:
    world = World([Reorder(at=0.0, p=1.0, direction=Direction.UP)])
    world.open()
    for i, text in enumerate("abcd"):
        world.send(1.0 + i * 0.001, text)
    world.run()
    assert world.server.frames() == ["b", "a", "d", "c"]
    assert world.client.frames() == ["b", "a", "d", "c"]  # down keeps the server's order


def test_a_held_frame_is_released_when_nothing_overtakes() -> None:
    world = World([Reorder(at=0.0, p=1.0, direction=Direction.DOWN)])
    world.open()
    world.send(1.0, "alone")
    world.run()
    assert world.client.log[-1] == ("frame", pytest.approx(1.0 + RTT + REORDER_MAX_HOLD), "alone")


# -- corrupt --------------------------------------------------------------------------------------
FRAME = json.dumps([{"channel": "/meta/connect", "successful": True, "id": "7"}])
DELIVERY = json.dumps([{"channel": "/chat/x", "data": {"index": 1}}])


def corrupted(mode: CorruptMode, text: str = FRAME, count: int = 2) -> World:
    world = World([Corrupt(at=0.0, count=count, mode=mode)])
    world.open()
    for i in range(4):
        world.send(1.0 + i * 0.1, text)
    world.run()
    return world


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_corrupt_invalid_json_spoils_the_next_count_frames_down() -> None:
    world = corrupted(CorruptMode.INVALID_JSON)
    assert world.server.frames() == [FRAME] * 4  # default direction: down
    frames = world.client.frames()
    assert [is_json(f) for f in frames] == [False, False, True, True]
    assert frames[2:] == [FRAME, FRAME]
    assert [r["mode"] for r in world.net_records("corrupt")] == ["invalid_json"] * 2


@pytest.mark.parametrize("text", [FRAME, DELIVERY, "not json", "{}"])
def test_corrupt_schema_is_valid_json_of_the_wrong_shape(text: str) -> None:
    world = corrupted(CorruptMode.SCHEMA, text, count=1)
    bad = json.loads(world.client.frames()[0])
    if isinstance(bad, list):
        for message in bad:
            assert "channel" not in message or isinstance(message.get("successful"), str)
    else:
        assert "channel" not in bad
    assert world.client.frames()[1] == text


def test_corrupt_schema_keeps_the_channel_when_it_can_spoil_successful() -> None:
    bad = json.loads(corrupted(CorruptMode.SCHEMA).client.frames()[0])
    assert bad == [{"channel": "/meta/connect", "successful": "true", "id": "7"}]


def test_corrupt_truncated_cuts_the_text() -> None:
    frames = corrupted(CorruptMode.TRUNCATED).client.frames()
    assert frames[0] == FRAME[: len(FRAME) // 2]
    assert not is_json(frames[0])
    assert frames[2] == FRAME


def test_the_network_names_each_foreign_frame_it_delivers() -> None:
    # Corrupt frames are foreign (no server sent them); those the fault spared are not.
    foreign: list[tuple[str, float]] = []
    world = World([Corrupt(at=0.0, count=2, mode=CorruptMode.TRUNCATED)])
    world.net.on_foreign = lambda client, now: foreign.append((client, now))
    world.open()
    for i in range(4):
        world.send(1.0 + i * 0.1, FRAME)
    world.run()
    arrivals = [entry[1] for entry in world.client.log if entry[0] == "frame"]
    assert foreign == [("c1", arrivals[0]), ("c1", arrivals[1])]


def test_a_clean_network_delivers_nothing_foreign() -> None:
    foreign: list[tuple[str, float]] = []
    world = World([Duplicate(at=0.0, duration=10.0, p=1.0)])  # through the engine, unchanged
    world.net.on_foreign = lambda client, now: foreign.append((client, now))
    world.open()
    world.send(1.0, FRAME)
    world.send(20.0, FRAME)  # after the fault: the clean path
    world.run(30.0)
    assert len(world.client.frames()) >= 3 and foreign == []


def test_corrupt_up_reaches_the_server_spoiled() -> None:
    world = World([Corrupt(at=0.0, count=1, direction=Direction.UP)])
    world.open()
    world.send(1.0, FRAME)
    world.run()
    assert not is_json(world.server.frames()[0])


def test_corrupt_for_one_client_only() -> None:
    world = World([Corrupt(at=0.0, count=5, client="c2")], clients=2)
    world.open("c1")
    world.open("c2")
    world.send(1.0, FRAME, "c1")
    world.send(1.0, FRAME, "c2")
    world.run()
    assert world.clients["c1"].frames() == [FRAME]
    assert not is_json(world.clients["c2"].frames()[0])


def test_corrupt_waits_for_its_start_time() -> None:
    world = World([Corrupt(at=1.05, count=1)])  # echoes go down at 1.005, 1.105, 1.205
    world.open()
    for i in range(3):
        world.send(1.0 + i * 0.1, FRAME)
    world.run()
    assert [is_json(f) for f in world.client.frames()] == [True, False, True]


# -- determinism ----------------------------------------------------------------------------------
NOISY: tuple[Fault, ...] = (
    Loss(at=0.0, p=0.3),
    Duplicate(at=0.0, p=0.3),
    Reorder(at=0.0, p=0.2),
    Latency(at=0.0, ms=5.0, jitter=20.0),
    Outage(at=5.0, duration=0.5),
)


def noisy_trace(seed: int) -> str:
    world = World(NOISY, seed)
    world.open()
    world.open(t=6.0)
    for i in range(80):
        world.send(1.0 + i * 0.1, str(i))
    world.run(12.0)
    return world.sim.tracer.text()


def test_same_seed_gives_byte_identical_traces() -> None:
    assert noisy_trace(5) == noisy_trace(5)


def test_different_seeds_draw_different_losses_and_duplicates() -> None:
    one, two = noisy_trace(5), noisy_trace(6)
    assert one != two

    def draws(text: str) -> list[str]:
        return [line for line in text.splitlines() if '"kind":"drop"' in line or "dup" in line]

    assert draws(one) != draws(two)


# -- properties ----------------------------------------------------------------------------
def _fault_sets() -> st.SearchStrategy[list[Fault]]:
    window = st.tuples(st.floats(0.0, 3.0), st.floats(0.0, 2.0))
    way = st.sampled_from(list(Direction))
    one = st.one_of(
        st.builds(
            lambda w, d, ms, j: Latency(at=w[0], duration=w[1], direction=d, ms=ms, jitter=j),
            window,
            way,
            st.floats(0.0, 300.0),
            st.floats(0.0, 300.0),
        ),
        st.builds(
            lambda w, d, p: Loss(at=w[0], duration=w[1], direction=d, p=p),
            window,
            way,
            st.floats(0.0, 1.0),
        ),
        st.builds(
            lambda w, d, p: Duplicate(at=w[0], duration=w[1], direction=d, p=p),
            window,
            way,
            st.floats(0.0, 1.0),
        ),
        st.builds(lambda w, d: Blackhole(at=w[0], duration=w[1], direction=d), window, way),
    )
    return st.lists(one, max_size=4)


@settings(max_examples=40, deadline=None)
@given(
    faults=_fault_sets(),
    seed=st.integers(0, 2**32),
    gaps=st.lists(st.integers(0, 50), max_size=30),
)
@example(  # the slowest handshake: the first frame must still find the connection open
    faults=[Latency(at=0.0, duration=2.0, direction=Direction.BOTH, ms=300.0, jitter=300.0)],
    seed=0,
    gaps=[0],
)
def test_without_reorder_frames_never_overtake(
    faults: list[Fault], seed: int, gaps: list[int]
) -> None:
    world = World(faults, seed)
    world.open()
    t = 1.25  # after the handshake: latency + jitter are at most 0.6 s each way
    for i, gap in enumerate(gaps):
        t += gap / 1000
        world.send(t, str(i))
    world.run(t + 5.0)
    for got in (world.server.frames(), world.client.frames()):
        numbers = [int(text) for text in got]
        assert numbers == sorted(numbers)  # in order; duplicates stay adjacent
    if not any(isinstance(f, Loss | Blackhole) for f in faults):
        assert sorted(set(world.server.frames()), key=int) == [str(i) for i in range(len(gaps))]
