"""Unit tests of the client core against scripted server frames: outages and recovery.

Failures, backoff, interruption, failover, restore, reload and the end.
"""

from __future__ import annotations

import random

import pytest

from statecharts.chart import Timers
from statecharts.errors import BadInput, UsageError
from statecharts.events import (
    Acked,
    Continued,
    EventError,
    Loss,
    Restored,
    SendFailed,
)
from tests.transport.client_script import (
    Script,
    connect_reply,
    delivery,
    errors,
    ready_script,
    service_reply,
)
from transport import wire
from transport.core import ClientConfig, CloseConnection
from transport.state import SavedState


# -- outages ---------------------------------------------------------------------------------
def next_open(script: Script) -> float:
    """Tick through deadlines until the core opens a connection; return when."""
    before = len(script.opens())
    while True:
        when = script.core.next_deadline()
        assert when is not None
        script.core.tick(when)
        if len(script.opens()) > before:
            return when


def refuse_until(script: Script, loss_at: float, until: float) -> float:
    """The loss at `loss_at` retried at once; refuse attempts before `until`, return the next."""
    when = loss_at
    while when < until:
        script.core.connection_failed(when + 0.05, "outage")
        when = next_open(script)
    return when


def test_backoff_grows_by_the_increment_up_to_the_maximum() -> None:
    timers = Timers(backoff_increment=1.0, max_backoff=3.0)
    assert [timers.backoff(n) for n in range(6)] == [0, 1, 2, 3, 3, 3]
    script = Script.new(ClientConfig(timers=timers), servers=("i1",))
    script.open_chat(0.0)
    script.core.connection_closed(10.0, "outage")  # first retry at once
    opens = [10.0]
    for _ in range(5):
        script.core.connection_failed(opens[-1], "outage")
        opens.append(next_open(script))
    assert opens == [10.0, 11.0, 13.0, 16.0, 19.0, 22.0]


def test_jitter_draws_from_the_injected_rng() -> None:
    timers = Timers(jitter=True)
    a = [timers.backoff(5, random.Random(3)) for _ in range(3)]
    b = [timers.backoff(5, random.Random(3)) for _ in range(3)]
    assert a == b and all(0 <= x <= 5 for x in a)


def test_long_outage_interrupts_at_loss_plus_interrupt_after_and_continues() -> None:
    script = Script.new(servers=("i1",))
    script.open_chat(0.0)
    script.core.connection_closed(20.0, "outage")
    retry = refuse_until(script, 20.0, 25.0)
    interrupted = [t for t, _ in script.of("interrupted")]
    assert interrupted == [pytest.approx(23.0)]
    assert [t for t, code in errors(script) if code == 150] == [pytest.approx(23.0)]
    script.core.connection_made(retry + 0.05)
    connect = script.take_sent()[-1]
    assert connect["channel"] == wire.META_CONNECT and connect["advice"] == {"timeout": 0}
    script.feed([connect_reply(connect["id"])], retry + 0.1)
    continued = [e for _, e in script.of("continued") if isinstance(e, Continued)]
    assert continued and continued[0].duration == pytest.approx(retry + 0.1 - 20.0)
    assert script.states()[-3:] == ["reconnecting", "interrupted", "ready"]


def test_short_outage_is_silent() -> None:
    script = Script.new(servers=("i1",))
    script.open_chat(0.0)
    script.core.connection_closed(20.0, "outage")
    retry = refuse_until(script, 20.0, 20.5)
    script.core.connection_made(retry + 0.05)
    connect = script.take_sent()[-1]
    script.feed([connect_reply(connect["id"])], retry + 0.1)
    assert script.of("interrupted") == [] and script.of("continued") == []
    assert script.states()[-2:] == ["reconnecting", "ready"]


def test_interruption_error_can_be_switched_off() -> None:
    script = Script.new(ClientConfig(interruption_error=False), servers=("i1",))
    script.open_chat(0.0)
    script.core.connection_closed(20.0, "outage")
    refuse_until(script, 20.0, 24.0)
    assert len(script.of("interrupted")) == 1 and errors(script) == []


def test_a_request_past_its_deadline_is_a_failure() -> None:
    script = ready_script()
    script.core.tick(40.0)
    assert [e for _, e in script.of("loss")] == [Loss("request past its deadline")]
    assert any(isinstance(o, CloseConnection) for o in script.outputs)


def test_unsent_messages_are_resent_after_reconnect() -> None:
    script = Script.new(servers=("i1",))
    script.open_chat(0.0)
    script.core.send_message("one", 1.0)
    script.core.connection_closed(1.1, "outage")
    script.core.send_message("two", 1.2)
    script.take_sent()
    script.core.connection_made(1.3)
    connect = script.take_sent()[-1]
    script.feed([connect_reply(connect["id"])], 1.4)
    resent = [m["data"]["clientMessageId"] for m in script.take_sent() if "data" in m]
    assert resent == ["c1-m1", "c1-m2"]


# -- failover, rehandshake, restore ---------------------------------------------------
def test_failover_after_failed_attempts_on_one_instance() -> None:
    script = ready_script()
    script.core.connection_closed(10.0, "crash")
    script.core.connection_failed(10.05, "refused")
    assert next_open(script) == pytest.approx(11.05)
    script.core.connection_failed(11.1, "refused")
    script.pump()
    assert script.opens()[-1] == "i2"  # a fresh instance is tried at once
    notices = [e for _, e in script.of("error") if isinstance(e, EventError) and e.code == 100]
    assert notices == [EventError.of(100, {"from": "i1", "to": "i2"})]
    assert script.states()[-2:] == ["reconnecting", "restoring"]
    script.core.tick(13.0)
    assert script.states()[-1] == "interrupted"  # loss at 10 + 3 s
    now = 13.1
    script.core.connection_made(now)
    script.handshake_ok(now, client_id="b9")
    restore = script.last(wire.SERVICE_CHAT, "requestNotifications")
    assert restore["data"]["transcriptPosition"] == 0
    script.answer(restore, now, result={"instance": "i2", "position": 3, "replayed": 3})
    assert [e for _, e in script.of("restored")] == [Restored("i2", 3, 3)]
    durations = [e.duration for _, e in script.of("continued") if isinstance(e, Continued)]
    assert durations == [pytest.approx(3.1)]
    assert script.core.state == "ready" and script.core.saved_state().instance == "i2"  # type: ignore[union-attr]


def test_unknown_client_means_handshake_again_and_restore() -> None:
    script = ready_script()
    connect = script.last(wire.META_CONNECT)
    refused = {
        "channel": wire.META_CONNECT,
        "id": connect["id"],
        "successful": False,
        "error": "402::Unknown client",
        "advice": {"reconnect": "handshake"},
    }
    script.take_sent()
    script.feed([refused], 5.0)
    assert script.states()[-1] == "restoring"
    assert script.take_sent()[0]["channel"] == wire.META_HANDSHAKE
    assert script.of("loss") == []


def test_restore_from_saved_state() -> None:
    saved = SavedState("k7", "s7", "i2", 4, ("i1", "i2"))
    script = Script.new()
    script.core.restore(SavedState.from_json(saved.to_json()), 0.0)
    assert script.opens() == ["i2"]
    script.core.connection_made(0.0)
    script.handshake_ok(0.0)
    restore = script.last(wire.SERVICE_CHAT, "requestNotifications")
    assert restore["data"] == {
        "operation": "requestNotifications",
        "chatId": "k7",
        "secureKey": "s7",
        "transcriptPosition": 4,
    }
    script.feed([delivery("k7", 4), delivery("k7", 5)], 0.1)
    script.answer(restore, 0.1, result={"instance": "i2", "position": 5, "replayed": 1})
    assert script.states() == ["restoring", "ready"]
    assert [e.index for _, e in script.of("message")] == [5]  # type: ignore[attr-defined]


def test_restore_of_a_gone_session_gives_152_then_ends() -> None:
    script = Script.new()
    script.core.restore(SavedState("k7", "s7", "i1", 4, ("i1",)), 0.0)
    script.core.connection_made(0.0)
    script.handshake_ok(0.0)
    restore = script.last(wire.SERVICE_CHAT, "requestNotifications")
    error = {"code": 50, "description": "Chat session ID is unknown", "data": {}}
    script.answer(restore, 0.2, error=error)
    kinds = script.kinds()
    after = kinds[kinds.index("error") :]
    assert after == ["error", "state", "ended"]
    assert errors(script) == [(0.2, 152)]
    assert script.core.state == "failed" and script.core.saved_state() is None
    assert script.core.next_deadline() is None


def test_reload_restores_from_the_saved_position() -> None:
    script = ready_script()
    script.feed([delivery("k1", 1), delivery("k1", 2)], 0.5)
    script.core.reload(1.0)
    script.pump()
    assert isinstance(script.outputs[-2], CloseConnection)
    assert script.states()[-1] == "restoring"
    script.core.connection_made(1.1)
    script.handshake_ok(1.1, client_id="b2")
    restore = script.last(wire.SERVICE_CHAT, "requestNotifications")
    assert restore["data"]["transcriptPosition"] == 2
    script.answer(restore, 1.2, result={"instance": "i1", "position": 2, "replayed": 0})
    assert script.core.state == "ready" and len(script.of("restored")) == 1


def test_end_disconnects_and_reports_unacknowledged_messages() -> None:
    script = ready_script()
    script.core.send_message("bye?", 1.0)
    script.core.end(1.1)
    sent = script.take_sent()
    assert [m.get("data", {}).get("operation") for m in sent[-2:]] == ["disconnect", None]
    assert sent[-1]["channel"] == wire.META_DISCONNECT
    pub = next(m for m in sent if m.get("data", {}).get("operation") == "sendMessage")
    script.answer(pub, 1.2, result={"index": 3})
    farewell = next(m for m in sent if m.get("data", {}).get("operation") == "disconnect")
    script.answer(farewell, 1.2, result={})
    assert [e for _, e in script.of("ack")] == [Acked("c1-m1", 3)]
    assert script.core.state == "ended" and script.of("send_failed") == []
    assert script.core.next_deadline() is None


# -- saved state ------------------------------------------------------------------------------
def test_saved_state_round_trip() -> None:
    saved = SavedState("k1", "s1", "i2", 12, ("i1", "i2"))
    text = saved.to_json()
    assert '"chatId":"k1"' in text and SavedState.from_json(text) == saved


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"chatId": "k", "secureKey": "s", "instance": "i1", "servers": []}', "position"),
        (
            '{"chatId": 1, "secureKey": "s", "instance": "i", "position": 0, "servers": []}',
            "chatId",
        ),
        (
            '{"chatId": "k", "secureKey": "s", "instance": "i", "position": -1, "servers": []}',
            "position",
        ),
    ],
)
def test_saved_state_rejects_bad_cookies(text: str, field: str) -> None:
    with pytest.raises(BadInput) as info:
        SavedState.from_json(text)
    assert info.value.field == field


def test_replies_echo_ids_so_service_reply_helper_is_consistent() -> None:
    script = ready_script()
    pub = script.last(wire.SERVICE_CHAT, "requestChat")
    assert service_reply(pub, result={})["id"] == pub["id"]


def test_an_invalid_frame_on_a_connection_just_given_up_is_still_told() -> None:
    script = Script.new(servers=("i1",))
    script.open_chat(0.0)
    script.core.connection_closed(5.0, "outage")
    script.feed("not json", 5.0)
    assert errors(script) == [(5.0, 151)]
    assert script.core.state == "reconnecting"


# -- more edges ---------------------------------------------------------------------------
def test_advice_none_on_a_refused_handshake_fails_the_session() -> None:
    script = Script.new()
    script.core.start(0.0)
    script.core.connection_made(0.0)
    hs = script.last(wire.META_HANDSHAKE)
    refusal = {
        "channel": wire.META_HANDSHAKE,
        "id": hs["id"],
        "successful": False,
        "error": "405::Unsupported connection types",
        "advice": {"reconnect": "none"},
    }
    script.feed([refusal], 0.1)
    assert script.states()[-1] == "failed" and script.kinds()[-1] == "ended"
    assert script.core.next_deadline() is None


def test_login_refused_with_101_fails_after_telling_the_app() -> None:
    script = Script.new()
    script.core.start(0.0)
    script.core.connection_made(0.0)
    script.handshake_ok(0.0)
    login = script.last(wire.SERVICE_CHAT, "requestChat")
    error = {"code": 101, "description": "Login to Chat Server was failed", "data": {}}
    script.answer(login, 0.1, error=error)
    assert errors(script) == [(0.1, 101)]
    assert script.states()[-1] == "failed"


def test_error_payloads_of_other_dialects_are_read_into_catalog_codes() -> None:
    script = ready_script()
    script.core.send_message("hi", 1.0)
    pub = script.last(wire.SERVICE_CHAT, "sendMessage")
    native = {"error": {"type": "internal", "message": "Internal server error"}}
    script.answer(pub, 1.1, error=native)
    assert errors(script) == [(1.1, 52)]
    assert [e for _, e in script.of("send_failed")] == [SendFailed("c1-m1", 52)]


def test_a_50_while_ready_checks_the_session_by_restoring() -> None:
    script = ready_script()
    script.core.send_message("hi", 1.0)
    pub = script.last(wire.SERVICE_CHAT, "sendMessage")
    script.answer(pub, 1.1, error={"code": 50, "description": "Chat session ID is unknown"})
    assert script.states()[-1] == "restoring"
    script.handshake_ok(1.2, client_id="b3")
    restore = script.last(wire.SERVICE_CHAT, "requestNotifications")
    script.answer(restore, 1.3, error={"code": 50, "description": "Chat session ID is unknown"})
    assert [code for _, code in errors(script)] == [50, 152]
    assert script.states()[-1] == "failed"


def test_reload_while_interrupted_continues_once_restored() -> None:
    script = Script.new(servers=("i1",))
    script.open_chat(0.0)
    script.core.connection_closed(10.0, "outage")
    refuse_until(script, 10.0, 13.5)
    assert script.states()[-1] == "interrupted"
    script.core.reload(14.0)
    script.core.connection_made(14.1)
    script.handshake_ok(14.1, client_id="b4")
    restore = script.last(wire.SERVICE_CHAT, "requestNotifications")
    script.answer(restore, 14.2, result={"instance": "i1", "position": 0, "replayed": 0})
    assert script.states()[-3:] == ["interrupted", "restoring", "ready"]
    durations = [e.duration for _, e in script.of("continued") if isinstance(e, Continued)]
    assert durations == [pytest.approx(4.2)]


def test_end_while_lost_reports_queued_messages_failed() -> None:
    script = Script.new(servers=("i1",))
    script.open_chat(0.0)
    script.core.connection_closed(10.0, "outage")
    script.core.send_message("lost?", 10.5)
    script.core.end(11.0)
    assert [e for _, e in script.of("send_failed")] == [SendFailed("c1-m1", 100)]
    assert script.states()[-1] == "ended" and script.core.next_deadline() is None
    with pytest.raises(UsageError):
        script.core.send_message("after the end", 12.0)
