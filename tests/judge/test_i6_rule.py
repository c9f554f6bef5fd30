"""I6 on plain values: the one statement the judge and the load tally share."""

from __future__ import annotations

from statecharts.judge import i6_rule
from statecharts.judge.i6_rule import Inbound, inbound_fault


def test_each_inbound_index_once_in_order_without_gap() -> None:
    assert inbound_fault(1, None, set()) is None
    assert inbound_fault(2, 1, {1}) is None
    assert inbound_fault(1, 2, {1, 2}) is Inbound.TWICE
    assert inbound_fault(2, 3, {1, 3}) is Inbound.LATE
    assert inbound_fault(5, 2, {1, 2}) is Inbound.GAP


def test_findings_over_indexes_and_ids() -> None:
    assert i6_rule.delivered_twice([3, 1, 3, 2, 1]) == (1, 3)
    assert i6_rule.acked_twice({"a": [1], "b": [2, 2]}) == ("b",)
    assert i6_rule.unresolved(["a", "b", "c"], {"a": [1]}, {"c"}) == ["b"]
    assert i6_rule.never_delivered({4, 1, 2}, {2}) == (1, 4)
    assert i6_rule.numbered_up_to({1, 3}, [5]) == range(1, 6)
    assert i6_rule.not_accepted([1, 9, 9, 7], {1}) == (7, 9)
    assert i6_rule.accepted_twice(["b", None, "a", "b", "a", "c"]) == ("b", "a")
    assert i6_rule.not_in_transcript(["a", "b"], {"b", None}) == ("a",)
    assert i6_rule.other_events({3: "x", 1: "agent", 2: "y"}, {1: "agent", 2: "z"}) == (2, 3)
