"""The client's reactions to the other seeds' refusals: a pure decision on code and data."""

from __future__ import annotations

import pytest

from statecharts.dialects import DIALECTS, read_error
from transport.reactions import (
    MAX_RETRY_AFTER,
    AnswerChallenge,
    MoveTo,
    WaitThenRetry,
    reaction_to,
)

SERVERS = ("i1", "i2")


def test_retry_after_is_waited_exactly_and_bounded() -> None:
    assert reaction_to(100, {"retryAfter": 2.5}, SERVERS, "i1") == WaitThenRetry(2.5)
    assert reaction_to(100, {"retryAfter": 1e9}, SERVERS, "i1") == WaitThenRetry(MAX_RETRY_AFTER)
    for bad in (-1, True, "3", float("nan"), float("inf"), None):
        assert reaction_to(100, {"retryAfter": bad}, SERVERS, "i1") is None
    assert reaction_to(52, {"retryAfter": 2}, SERVERS, "i1") is None


def test_a_redirect_moves_only_to_a_known_other_instance() -> None:
    assert reaction_to(100, {"region": "i2"}, SERVERS, "i1") == MoveTo("i2")
    assert reaction_to(100, {"instance": "i2"}, SERVERS, "i1") == MoveTo("i2")
    assert reaction_to(100, {"region": "i2"}, SERVERS, "i2") is None
    assert reaction_to(100, {"region": "dal"}, SERVERS, "i1") is None


def test_a_nonce_is_answered() -> None:
    assert reaction_to(101, {"nonce": "abc"}, SERVERS, "i1") == AnswerChallenge("abc")
    assert reaction_to(101, {"nonce": ""}, SERVERS, "i1") is None
    assert reaction_to(101, {"nonce": "x" * 257}, SERVERS, "i1") is None


@pytest.mark.parametrize(
    ("dialect", "behaviour", "data", "expected"),
    [
        ("layer", "rate_limit", {"retryAfter": 3}, WaitThenRetry(3)),
        ("polyai", "rate_limit", {"retryAfter": 3}, WaitThenRetry(3)),
        ("livechat", "redirect", {"region": "i2"}, MoveTo("i2")),
        ("layer", "expire_credential", {"nonce": "n1"}, AnswerChallenge("n1")),
        ("livechat", "expire_credential", {"nonce": "n1"}, AnswerChallenge("n1")),
    ],
)
def test_native_payloads_lead_to_the_same_reaction(
    dialect: str, behaviour: str, data: dict[str, object], expected: object
) -> None:
    d = DIALECTS[dialect]
    found = read_error(d.render(d.behaviour_code(behaviour), data, behaviour))
    assert found is not None
    code, _, seen = found
    assert code == int(d.behaviour_code(behaviour))
    assert seen["dialect"] == dialect and "native" in seen
    assert reaction_to(code, seen, SERVERS, "i1") == expected


def test_polyai_transient_errors_are_retried_after_the_seeds_advice() -> None:
    polyai = DIALECTS["polyai"]
    found = read_error(polyai.render(100))
    assert found is not None and found[2]["retryAfter"] == 2.0
    assert reaction_to(found[0], found[2], SERVERS, "i1") == WaitThenRetry(2.0)
    permanent = read_error(polyai.render(52))
    assert permanent is not None and "retryAfter" not in permanent[2]
