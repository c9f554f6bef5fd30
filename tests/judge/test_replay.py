"""I8's one comparison: where a replay parts from the first run."""

from __future__ import annotations

from sim.hypo.oracles import replay_difference
from statecharts.judge.i8_replay import Parting, Replay, parting


def test_equal_streams_do_not_part() -> None:
    assert parting(["a", "b"], iter(["a", "b"])) is None


def test_the_first_difference_is_named_with_its_line() -> None:
    assert parting(["a", "b", "c"], ["a", "x", "y"], first_line=2) == Parting(3, "b", "x")


def test_a_shorter_replay_parts_where_it_ends() -> None:
    replay: Replay[str] = Replay(["a", "b"])
    replay.see("a")
    assert replay.parting() == Parting(2, "b", None)


def test_a_longer_replay_parts_where_the_first_run_ended() -> None:
    assert parting(["a"], ["a", "b"]) == Parting(2, None, "b")


def test_texts_part_by_line_or_by_length() -> None:
    assert replay_difference("h\na\n", "h\na\n") is None
    assert replay_difference("h\na\n", "h\nb\n") == (
        "a replay with the same seed differs at trace line 2: 'a' vs 'b'"
    )
    assert replay_difference("h\na\n", "h\na\nb\n") == (
        "a replay with the same seed differs in length (4 vs 6 bytes)"
    )
