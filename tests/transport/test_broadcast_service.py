"""The broadcast service (pure Bayeux) against the sans-I/O server core, without Node."""

from __future__ import annotations

import pytest

from statecharts.chart import State, Timers
from statecharts.errors import UsageError
from statecharts.events import CommandDone, Continued, StateChanged
from tests.transport.pair import Pair
from transport.broadcast import Broadcast, BroadcastCore
from transport.core import ClientCore
from transport.outputs import ClientConfig

CONFIG = ClientConfig(timers=Timers(backoff_increment=0.5, max_backoff=2.0))


def test_subscribers_get_what_is_published_and_the_publisher_its_outcome() -> None:
    alice = BroadcastCore("a", ["/demo"], CONFIG)
    bob = BroadcastCore("b", ["/demo", "/other"], CONFIG)
    pair = Pair.new(alice, bob)
    pair.start()
    assert alice.state is State.READY and bob.state is State.READY
    assert [e.kind for e in pair.of(alice, "ready")] == ["ready"]
    command = alice.publish("/demo", {"text": "hi"}, pair.now)
    pair.pump()
    got = [(b.channel, b.data) for b in pair.of(bob, "broadcast") if isinstance(b, Broadcast)]
    assert got == [("/demo", {"text": "hi"})]
    done = pair.of(alice, "command")
    assert done == [CommandDone(command, "publish", True, None, None)]


def test_a_publish_before_ready_waits_for_the_subscriptions() -> None:
    alice = BroadcastCore("a", ["/demo"], CONFIG)
    bob = BroadcastCore("b", ["/demo"], CONFIG)
    pair = Pair.new(alice, bob)
    for client in (alice, bob):
        client.start(0.0)
    alice.publish("/demo", 1, 0.0)  # connecting: queued
    pair.pump()
    assert [b.data for b in pair.of(bob, "broadcast") if isinstance(b, Broadcast)] == [1]


def test_a_long_outage_is_interrupted_then_continued_and_subscriptions_come_back() -> None:
    alice = BroadcastCore("a", ["/demo"], CONFIG)
    bob = BroadcastCore("b", ["/demo"], CONFIG)
    pair = Pair.new(alice, bob)
    pair.start()
    pair.run_until(1.0)
    pair.outage(until=16.0)  # past max_interval: the server forgets both clients (402)
    pair.run_until(20.0)
    states = [e.to for e in pair.of(alice, "state") if isinstance(e, StateChanged)]
    assert states == ["connecting", "opening", "ready", "reconnecting", "interrupted", "ready"]
    (continued,) = pair.of(alice, "continued")
    assert isinstance(continued, Continued) and continued.duration >= 15.0
    alice.publish("/demo", "again", pair.now)
    pair.pump()
    assert [b.data for b in pair.of(bob, "broadcast") if isinstance(b, Broadcast)] == ["again"]


def test_end_needs_no_farewell() -> None:
    alice = BroadcastCore("a", ["/demo"], CONFIG)
    pair = Pair.new(alice)
    pair.start()
    alice.end(pair.now)
    pair.pump()
    assert alice.state is State.ENDED and alice.next_deadline() is None


@pytest.mark.parametrize("channel", ["/meta/connect", "/service/chat", "demo"])
def test_only_broadcast_channels(channel: str) -> None:
    with pytest.raises(UsageError):
        BroadcastCore("a", [channel])


def test_the_chat_core_against_the_server_core() -> None:
    chat = ClientCore("c1", CONFIG)
    pair = Pair.new(chat)
    pair.start()
    assert chat.state is State.READY
    sent = chat.send_message("hello", pair.now)
    pair.pump()
    assert [e.id for e in pair.of(chat, "ack")] == [sent]  # type: ignore[attr-defined]
    pair.outage(until=5.0)
    pair.run_until(8.0)
    assert chat.state is State.READY
    assert [e.kind for e in pair.of(chat, "interrupted")] == ["interrupted"]


def test_a_short_outage_resumes_on_the_same_client_id_without_subscribing_again() -> None:
    alice = BroadcastCore("a", ["/demo"], CONFIG)
    pair = Pair.new(alice)
    pair.start()
    pair.run_until(1.0)
    pair.outage(until=1.5)  # shorter than interrupt_after and the server's max_interval
    pair.run_until(4.0)
    states = [e.to for e in pair.of(alice, "state") if isinstance(e, StateChanged)]
    assert states == ["connecting", "opening", "ready", "reconnecting", "ready"]
    assert [e.trigger for e in pair.of(alice, "state")][-1] == "reconnected"  # type: ignore[attr-defined]
    assert not pair.of(alice, "interrupted")


def test_chat_channels_other_than_a_live_session_carry_broadcasts() -> None:
    alice = BroadcastCore("a", ["/demo"], CONFIG)
    bob = BroadcastCore("b", ["/chat/demo"], CONFIG)
    pair = Pair.new(alice, bob)
    pair.start()
    notice = {"type": "Notice", "index": 1, "text": "hi"}
    alice.publish("/chat/demo", notice, pair.now)
    pair.pump()
    got = [(b.channel, b.data) for b in pair.of(bob, "broadcast") if isinstance(b, Broadcast)]
    assert got == [("/chat/demo", notice)]


def test_a_refused_subscription_is_a_failure_and_retried() -> None:
    chat = ClientCore("c1", CONFIG)
    bob = BroadcastCore("b", ["/chat/chat-1"], CONFIG)  # the live chat's channel: not bob's
    pair = Pair.new(chat, bob)
    chat.start(pair.now)
    pair.pump()
    assert chat.state is State.READY
    bob.start(pair.now)
    pair.pump()
    pair.run_until(2.0)
    losses = [e.reason for e in pair.of(bob, "loss")]  # type: ignore[attr-defined]
    assert losses and all(r.startswith("subscribe refused: 403") for r in losses)
    assert bob.state in (State.RECONNECTING, State.INTERRUPTED)


def test_no_channels_is_ready_at_once_and_meta_channels_are_not_published_on() -> None:
    alice = BroadcastCore("a", [], CONFIG)
    pair = Pair.new(alice)
    pair.start()
    assert alice.state is State.READY and alice.channels == []
    with pytest.raises(UsageError):
        alice.publish("/meta/connect", {}, pair.now)


def test_a_reload_handshakes_and_subscribes_again() -> None:
    alice = BroadcastCore("a", ["/demo"], CONFIG)
    bob = BroadcastCore("b", ["/demo"], CONFIG)
    pair = Pair.new(alice, bob)
    pair.start()
    alice.reload(pair.now)
    pair.pump()
    states = [e.to for e in pair.of(alice, "state") if isinstance(e, StateChanged)]
    assert states[-2:] == ["restoring", "ready"]
    bob.publish("/demo", "after the reload", pair.now)
    pair.pump()
    assert [b.data for b in pair.of(alice, "broadcast") if isinstance(b, Broadcast)] == [
        "after the reload"
    ]


def test_a_lost_instance_fails_over_to_the_next_and_subscribes_there() -> None:
    alice = BroadcastCore("a", ["/demo"], CONFIG, servers=("i1", "i2"))
    pair = Pair.new(alice, instances=("i1", "i2"))
    pair.start()
    assert alice.instance == "i1"
    pair.cluster.crash("i1", pair.now)
    pair.pump()
    pair.run_until(5.0)
    assert alice.state is State.READY and alice.instance == "i2"
