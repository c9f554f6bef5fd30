"""Unit tests of the client core against scripted server frames: the protocol.

Outages, failover, restore, reload and end are in `test_client_recovery.py`.
"""

from __future__ import annotations

import pytest

from statecharts.errors import UsageError
from statecharts.events import (
    Acked,
    CommandDone,
    EventError,
    Loss,
    Message,
    SendFailed,
)
from tests.transport.client_script import (
    Script,
    connect_reply,
    delivery,
    errors,
    handshake_reply,
    ready_script,
)
from transport import wire
from transport.core import ClientConfig, ClientCore
from transport.state import SavedState


def test_start_reaches_ready_through_the_chart() -> None:
    script = ready_script()
    assert script.states() == ["connecting", "opening", "ready"]
    assert next(e for _, e in script.of("ready")).chat_id == "k1"  # type: ignore[attr-defined]
    assert script.core.saved_state() == SavedState("k1", "s1", "i1", 0, ("i1", "i2"))


@pytest.mark.parametrize("kind", list(wire.ConnectionType))
def test_handshake_offers_the_configured_connection_type(kind: wire.ConnectionType) -> None:
    script = Script.new(ClientConfig(transport=kind))
    script.core.start(0.0)
    assert script.opens() == ["i1"]
    script.core.connection_made(0.01)
    hs = script.take_sent()[0]
    assert hs["channel"] == wire.META_HANDSHAKE
    offered = hs["supportedConnectionTypes"]
    assert offered[0] == kind.value  # preferred first, then every other type we speak
    assert sorted(offered) == sorted(t.value for t in wire.ConnectionType)
    assert hs["ext"] == {"ack": True}


@pytest.mark.parametrize(
    ("server_types", "chosen"),
    [
        (["long-polling", "websocket"], "websocket"),  # our preference wins when both work
        (["long-polling", "callback-polling"], "long-polling"),
        (None, "websocket"),  # a reply without the list keeps ours
    ],
)
def test_negotiation_adopts_a_type_the_server_supports(
    server_types: list[str] | None, chosen: str
) -> None:
    from transport.bayeux import Advice, BayeuxLayer

    bayeux = BayeuxLayer(wire.ConnectionType.WEBSOCKET, 10.0, Advice())
    assert bayeux.negotiate(server_types)
    assert bayeux.connection_type.value == chosen
    assert not bayeux.negotiate(["callback-polling"])


def test_connect_loop_acknowledges_the_last_batch() -> None:
    script = Script.new()
    script.core.start(0.0)
    script.core.connection_made(0.0)
    script.handshake_ok(0.0)
    first = script.last(wire.META_CONNECT)
    assert first["ext"] == {"ack": -1} and first["advice"] == {"timeout": 0}
    # not held: its deadline is max_network_delay alone
    assert script.core.bayeux.pending[first["id"]].deadline == pytest.approx(10.0)
    script.take_sent()
    script.feed([connect_reply(first["id"], batch=4)], 0.1)
    nxt = [m for m in script.take_sent() if m["channel"] == wire.META_CONNECT]
    assert len(nxt) == 1 and nxt[0]["ext"] == {"ack": 4} and "advice" not in nxt[0]


def test_a_held_connect_may_take_hold_plus_max_network_delay() -> None:
    script = ready_script()
    connect = script.last(wire.META_CONNECT)
    assert "advice" not in connect
    assert script.core.bayeux.pending[connect["id"]].deadline == pytest.approx(40.0)


def test_advice_interval_delays_the_next_connect() -> None:
    script = ready_script()
    first = script.last(wire.META_CONNECT)
    script.take_sent()
    advice = {"reconnect": "retry", "interval": 2500, "timeout": 5000}
    script.feed([connect_reply(first["id"], advice=advice)], 1.0)
    assert script.take_sent() == []
    assert script.core.next_deadline() == pytest.approx(3.5)
    script.core.tick(3.5)
    nxt = script.take_sent()
    assert nxt[0]["channel"] == wire.META_CONNECT
    assert script.core.bayeux.pending[nxt[0]["id"]].deadline == pytest.approx(3.5 + 5 + 10)


# -- transcript order ------------------------------------------------------------------
def test_transcript_events_once_and_in_order() -> None:
    script = ready_script()
    for index in (2, 1, 1, 3, 2):
        script.feed([delivery("k1", index, text=f"t{index}")], 0.5)
    delivered = [e.index for _, e in script.of("message") if isinstance(e, Message)]
    assert delivered == [1, 2, 3]
    assert script.core.saved_state().position == 3  # type: ignore[union-attr]


def test_typing_notices_are_not_transcript_events() -> None:
    script = ready_script()
    script.feed([{"channel": "/chat/k1", "data": {"type": "Typing", "party": "agent"}}], 0.5)
    assert script.of("message") == []


def test_a_gap_left_by_a_frame_asks_for_a_replay() -> None:
    script = ready_script()
    script.take_sent()
    script.feed([delivery("k1", 2)], 0.5)
    replay = script.last(wire.SERVICE_CHAT, "requestNotifications")
    assert replay["data"]["transcriptPosition"] == 0


# -- sending -----------------------------------------------------------------------------
def test_send_message_is_acked_once() -> None:
    script = ready_script()
    mid = script.core.send_message("hello", 1.0)
    assert mid == "c1-m1"
    pub = script.last(wire.SERVICE_CHAT, "sendMessage")
    assert pub["data"]["clientMessageId"] == "c1-m1" and pub["data"]["text"] == "hello"
    script.answer(pub, 1.1, result={"index": 2})
    script.answer(pub, 1.2, result={"index": 2})  # a duplicated frame
    assert [e for _, e in script.of("ack")] == [Acked("c1-m1", 2)]


def test_server_command_errors_are_delivered_as_they_are() -> None:
    script = ready_script()
    script.core.send_message("hello", 1.0)
    pub = script.last(wire.SERVICE_CHAT, "sendMessage")
    error = {"code": 51, "description": "Chat command is stopped by decorator", "data": {"x": 1}}
    script.answer(pub, 1.1, error=error)
    done = [e for _, e in script.of("command") if isinstance(e, CommandDone)]
    assert done[-1].ok is False and done[-1].code == 51
    assert [e for _, e in script.of("error")] == [
        EventError(51, "Chat command is stopped by decorator", {"x": 1})
    ]
    assert [e for _, e in script.of("send_failed")] == [SendFailed("c1-m1", 51)]
    assert script.core.state == "ready"


def test_commands_wait_while_opening_and_login_retries_after_retry_after() -> None:
    script = Script.new()
    script.core.start(0.0)
    script.core.connection_made(0.0)
    script.handshake_ok(0.0)
    login = script.last(wire.SERVICE_CHAT, "requestChat")
    error = {"code": 100, "description": "Chat Server is not available", "data": {"retryAfter": 2}}
    script.answer(login, 0.1, error=error)
    script.core.send_message("early", 0.5)
    script.core.send_typing(0.6)
    script.take_sent()
    assert script.core.state == "opening" and script.core.next_deadline() == pytest.approx(2.1)
    script.core.tick(2.1)
    again = script.take_sent()
    assert [m["data"]["operation"] for m in again] == ["requestChat"]
    result = {"chatId": "k1", "secureKey": "s1", "instance": "i1", "position": 0}
    script.answer(again[0], 2.2, result=result)
    ops = [m.get("data", {}).get("operation") for m in script.take_sent()]
    assert ops[-2:] == ["sendMessage", "sendTyping"]
    assert script.core.state == "ready"


def test_send_without_a_chat_is_a_usage_error() -> None:
    core = ClientCore("c1")
    with pytest.raises(UsageError):
        core.send_message("x", 0.0)


# -- validation -> 151 ---------------------------------------------------------------
@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        '[{"successful": true}]',
        '[{"channel": "/meta/connect", "successful": "yes", "id": "99"}]',
        '[{"channel": "/chat/k1", "data": {"type": "Message", "party": "agent"}}]',
        '[{"channel": "/service/chat", "id": "99", "successful": true, "data": {}}]',
    ],
)
def test_invalid_replies_give_151_and_the_session_goes_on(frame: str) -> None:
    script = ready_script()
    script.feed(frame, 1.0)
    assert errors(script) == [(1.0, 151)]
    assert script.core.state == "ready"


def test_a_dropped_connect_reply_is_followed_by_a_fresh_connect() -> None:
    script = ready_script()
    first = script.last(wire.META_CONNECT)
    script.take_sent()
    bad = connect_reply(first["id"], batch=3)
    bad["successful"] = "true"
    script.feed([delivery("k1", 1), bad], 1.0)
    assert errors(script) == [(1.0, 151)]
    fresh = [m for m in script.take_sent() if m["channel"] == wire.META_CONNECT]
    assert len(fresh) == 1 and fresh[0]["ext"] == {"ack": -1}  # the batch is re-sent


def test_an_invalid_delivery_keeps_its_batch_unacknowledged() -> None:
    script = ready_script()
    first = script.last(wire.META_CONNECT)
    script.take_sent()
    broken = {"channel": "/chat/k1", "data": {"type": "Message", "index": "1"}}
    script.feed([broken, delivery("k1", 2), connect_reply(first["id"], batch=5)], 1.0)
    nxt = [m for m in script.take_sent() if m["channel"] == wire.META_CONNECT]
    assert nxt[-1]["ext"] == {"ack": -1}
    script.feed([delivery("k1", 1), delivery("k1", 2), connect_reply(nxt[-1]["id"], batch=6)], 1.1)
    assert [e.index for _, e in script.of("message")] == [1, 2]  # type: ignore[attr-defined]


def test_an_invalid_handshake_reply_is_a_failure() -> None:
    script = Script.new()
    script.core.start(0.0)
    script.core.connection_made(0.0)
    hs = script.last(wire.META_HANDSHAKE)
    reply = handshake_reply(hs["id"])
    del reply["clientId"]
    script.feed([reply], 0.2)
    assert errors(script) == [(0.2, 151)]
    assert [e for _, e in script.of("loss")] == [Loss("invalid handshake reply")]
    assert script.core.state == "reconnecting"
