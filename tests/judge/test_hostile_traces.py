"""Whatever a trace holds, judging it gives a verdict or a one-line BadInput, never a crash."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statecharts.errors import LocalError
from statecharts.judge import judge_trace
from statecharts.trace import parse_trace

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["in", "out", "chat-1", "m1", "ready", "outage", "crash", "i1"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
KINDS = st.sampled_from(
    [
        "ready", "interrupted", "continued", "error", "restored", "message", "ack", "send_failed",
        "ended", "state", "chat", "loss", "transcript", "acked", "session.start", "session.move",
        "fault.start", "fault.end", "wobble",
    ]
)  # fmt: skip
SRCS = st.sampled_from(["client:w", "client:v", "server:i1", "server:i2", "fault", "net"])
FIELDS = st.sampled_from(
    ["index", "id", "code", "duration", "direction", "from", "to", "trigger", "chatId", "fault",
     "party", "position", "replayed", "instance", "description"]
)  # fmt: skip


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly well-formed events in any order (so the rules run), sometimes junk."""
    body: dict[str, Any] = {"t": draw(st.floats(0, 100)), "src": draw(SRCS)}
    if draw(st.integers(0, 7)):
        body.update(draw(st.sampled_from(WELL_FORMED)))
        return body
    body["t"] = draw(st.floats(0, 100) | SCALARS)
    body["kind"] = draw(KINDS)
    body.update(draw(st.dictionaries(FIELDS, VALUES, max_size=4)))
    if body["kind"].startswith("fault."):
        keys = st.sampled_from(["kind", "duration", "instance", "client", "at"])
        body["fault"] = draw(st.dictionaries(keys, VALUES, max_size=4))
    return body


WELL_FORMED = [
    {"kind": "message", "direction": "in", "index": 2},
    {"kind": "message", "direction": "out", "id": "m1"},
    {"kind": "ack", "id": "m1", "index": 2},
    {"kind": "send_failed", "id": "m1", "code": 100},
    {"kind": "interrupted"},
    {"kind": "continued", "duration": 4.0},
    {"kind": "error", "code": 150},
    {"kind": "error", "code": 152},
    {"kind": "ready", "chatId": "chat-1"},
    {"kind": "state", "from": "ready", "to": "reconnecting", "trigger": "connection_lost"},
    {"kind": "transcript", "chatId": "chat-1", "index": 2, "id": "m1"},
    {"kind": "acked", "chatId": "chat-1", "id": "m1", "index": 3},
    {"kind": "session.start", "chatId": "chat-1"},
    {"kind": "session.move", "chatId": "chat-1", "from": "i1", "to": "i2"},
    {"kind": "restored", "instance": "i2", "position": 1, "replayed": 1},
    {"kind": "ended"},
    {"kind": "chat", "chatId": "chat-1"},
    {"kind": "fault.end", "fault": {"kind": "outage", "duration": 10**400}},
    {"kind": "fault.start", "fault": {"kind": "outage", "duration": 4, "client": "chat-1"}},
    {"kind": "fault.start", "fault": {"kind": "blackhole"}},
    {"kind": "fault.start", "fault": {"kind": "outage", "duration": 10**400}},
    {"kind": "fault.start", "fault": {"kind": "crash", "instance": "i1", "duration": 5}},
]
HEADERS = st.fixed_dictionaries(
    {"kind": st.just("run"), "scenario": st.just("x"), "seed": st.just(0)},
    optional={
        "clock": st.sampled_from(["wall", "wall", "virtual", "sundial"]),
        "interrupt_after": st.sampled_from([3.0, 0.5, 3.0, -1]),
        "tolerance": st.sampled_from([0.25, 1.0, 0.25, 0]),
        "interruption_error": st.sampled_from([True, False, True, "yes"]),
    },
)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(HEADERS, st.lists(lines(), min_size=0, max_size=12))
def test_any_trace_gets_a_verdict_or_bad_input(
    header: dict[str, Any], body: list[dict[str, Any]]
) -> None:
    text = [json.dumps(header)] + [json.dumps(line) for line in body]
    try:
        verdict = judge_trace(parse_trace(text))
    except LocalError as exc:
        assert "\n" not in str(exc)
    else:
        for violation in verdict.violations:
            assert violation.describe()
