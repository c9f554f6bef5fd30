"""A foreign or hostile server cannot make the client core raise: any bad reply is 151.

Hypothesis feeds the core JSON-ish frames (arbitrary values, and the replies it
waits for with one field replaced by a hostile value: wrong types, NaN,
infinities, 10^400, deep nesting) and checks that the core never raises,
reports at most one EventError 151 per frame, and that a frame that is no
Bayeux frame at all gives exactly one.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statecharts.catalog import ErrorCode
from statecharts.chart import State
from statecharts.events import EventError
from tests.transport.client_script import Script, connect_reply, service_reply
from tests.transport.pair import Pair
from transport import wire
from transport.broadcast import BroadcastCore
from transport.core import ClientConfig

KEYS = (
    "channel",
    "id",
    "successful",
    "clientId",
    "advice",
    "timeout",
    "interval",
    "reconnect",
    "data",
    "result",
    "error",
    "code",
    "description",
    "retryAfter",
    "index",
    "type",
    "ext",
    "ack",
    "chatId",
    "secureKey",
    "position",
    "replayed",
    "supportedConnectionTypes",
    "operation",
)
HUGE = 10**400
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([HUGE, -HUGE, 2**63, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.sampled_from([*list(wire.ConnectionType), "/meta/connect", "/chat/k1", "retry", "none"]),
)
values = st.recursive(
    leaves,
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), kids, max_size=4)
    ),
    max_leaves=10,
)
DEEP = ["[" * 5000 + "]" * 5000, '{"a":' * 3000 + "1" + "}" * 3000, "[" + "1" * 5000 + "]"]


def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"d": value}
    return value


def _errors151(script: Script) -> int:
    return sum(
        1
        for _, e in script.of("error")
        if isinstance(e, EventError) and e.code == ErrorCode.INVALID_RESPONSE
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


def _mutate(template: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """`template` with the field at `path` (created as needed) set to `value`."""
    out: dict[str, Any] = json.loads(json.dumps(template))
    node = out
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return out


def _replies_waited_for(script: Script) -> list[dict[str, Any]]:
    """The replies the core waits for now: to its connect and its latest chat command."""
    out = []
    connect = script.last(wire.META_CONNECT)
    out.append(connect_reply(connect["id"], batch=1))
    for msg in reversed(script.sent):
        if msg["channel"] == wire.SERVICE_CHAT:
            out.append(service_reply(msg, result={"index": 1}))
            out.append(
                service_reply(
                    msg, error={"code": 100, "description": "not ready", "data": {"retryAfter": 1}}
                )
            )
            break
    out.append({"channel": "/chat/k1", "data": {"index": 1, "type": "Message", "text": "x"}})
    return out


PATHS = [
    ["advice", "timeout"],
    ["advice", "interval"],
    ["advice", "reconnect"],
    ["advice"],
    ["ext", "ack"],
    ["successful"],
    ["id"],
    ["data"],
    ["data", "result"],
    ["data", "result", "index"],
    ["data", "error"],
    ["data", "error", "code"],
    ["data", "error", "data", "retryAfter"],
    ["data", "index"],
    ["data", "type"],
    ["channel"],
]


def _opening_script() -> Script:
    """Handshake done, requestChat outstanding (a 'not ready' error would set retryAfter)."""
    script = Script.new(ClientConfig())
    script.core.start(0.0)
    script.core.connection_made(0.0)
    script.handshake_ok(0.0)
    return script


def _ready_script() -> Script:
    script = Script.new(ClientConfig())
    script.open_chat(0.0)
    return script


@settings(
    max_examples=int(os.environ.get("CHATSIM_HOSTILE_EXAMPLES", "200")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    ready=st.booleans(),
    frames=st.lists(
        st.one_of(
            values.map(_dumps),
            st.tuples(st.sampled_from(PATHS), values, st.integers(0, 3)),
            st.sampled_from(DEEP),
            st.integers(30, 60).map(lambda d: _dumps([{"channel": "/chat/k1", "data": deep(d)}])),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_any_reply_is_taken_or_reported_as_151_never_raised(ready: bool, frames: list[Any]) -> None:
    script = _ready_script() if ready else _opening_script()
    now = 0.0
    for frame in frames:
        now += 0.1
        if isinstance(frame, tuple):
            path, value, pick = frame
            templates = _replies_waited_for(script)
            text = _dumps([_mutate(templates[pick % len(templates)], path, value)])
        else:
            text = frame
        before = _errors151(script)
        script.core.frame_received(text, now)
        script.core.tick(now + 1.0)
        script.pump()
        told = _errors151(script) - before
        assert told <= 1
        if not _is_bayeux_frame(text):
            assert told == 1, text[:200]
        deadline = script.core.next_deadline()
        assert deadline is None or deadline < 1e12  # no timer armed by an absurd advice


def _is_bayeux_frame(text: str) -> bool:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    value = [value] if isinstance(value, dict) else value
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and isinstance(m.get("channel"), str) for m in value)
        and all(m["channel"].startswith("/") for m in value)
    )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["advice", "timeout"], HUGE),
        (["advice", "interval"], HUGE),
        (["advice", "timeout"], float("nan")),
        (["advice", "timeout"], float("inf")),
        (["advice", "timeout"], "30000"),
        (["advice"], deep(40)),
        (["ext", "ack"], 1.5),
    ],
    ids=[
        "timeout-1e400",
        "interval-1e400",
        "timeout-nan",
        "timeout-inf",
        "timeout-str",
        "deep",
        "ack",
    ],
)
def test_a_hostile_connect_reply_is_151_and_the_session_goes_on(
    path: list[str], value: Any
) -> None:
    script = _ready_script()
    connect = script.last(wire.META_CONNECT)
    script.feed(_dumps([_mutate(connect_reply(connect["id"]), path, value)]), 1.0)
    assert _errors151(script) == 1
    assert script.core.state is State.READY
    again = script.last(wire.META_CONNECT)
    assert again["id"] != connect["id"]  # asked again: nothing is lost
    assert script.core.next_deadline() == pytest.approx(1.0 + 10)  # asked again at once (not held)


@pytest.mark.parametrize(
    "retry_after",
    [HUGE, float("nan"), float("inf"), "soon", [1]],
    ids=["1e400", "nan", "inf", "str", "list"],
)
def test_a_hostile_retry_after_is_151_and_the_login_is_asked_again(retry_after: Any) -> None:
    script = _opening_script()
    login = script.last(wire.SERVICE_CHAT, "requestChat")
    error = {"code": 100, "description": "not ready", "data": {"retryAfter": retry_after}}
    script.feed(_dumps([service_reply(login, error=error)]), 1.0)
    assert _errors151(script) == 1
    assert script.core.state is State.OPENING
    again = script.last(wire.SERVICE_CHAT, "requestChat")
    assert again["id"] != login["id"]
    assert again["data"]["clientRequestId"] == login["data"]["clientRequestId"]


@pytest.mark.parametrize("text", DEEP, ids=["deep-list", "deep-object", "5000-digit-int"])
def test_unparseable_frames_are_one_151(text: str) -> None:
    script = _ready_script()
    script.feed(text, 1.0)
    assert _errors151(script) == 1
    assert script.core.state is State.READY


def test_a_publish_ack_without_data_waits_for_the_result() -> None:
    """CometD servers answer a publish twice: an ack (no data), then the result."""
    script = _ready_script()
    sent = script.core.send_message("hi", 1.0)
    publish = script.last(wire.SERVICE_CHAT, "sendMessage")
    ack = {"channel": wire.SERVICE_CHAT, "id": publish["id"], "successful": True}
    script.feed([ack], 1.1)
    assert script.of("ack") == [] and _errors151(script) == 0
    script.answer(publish, 1.2, result={"index": 3})
    assert [e.id for _, e in script.of("ack")] == [sent]  # type: ignore[attr-defined]


@settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(frames=st.lists(values.map(_dumps) | st.sampled_from(DEEP), min_size=1, max_size=5))
def test_the_broadcast_core_takes_any_frame_too(frames: list[str]) -> None:
    core = BroadcastCore("b1", ["/demo"])
    pair = Pair.new(core)
    pair.start()
    assert core.state is State.READY
    for text in frames:
        core.frame_received(text, pair.now)
        pair.pump()
        pair.run_until(pair.now + 1.0)
    invalid = [e for e in pair.of(core, "error") if isinstance(e, EventError)]
    expected = {ErrorCode.INVALID_RESPONSE, ErrorCode.NETWORK_INTERRUPTED}
    assert all(e.code in expected for e in invalid)
