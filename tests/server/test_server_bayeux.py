"""Bayeux 1.0 behaviour of a server instance, driven frame by frame."""

from __future__ import annotations

import random

import pytest

from sim.server import Cluster, Drop, MemoryStore
from tests.server.bayeux_script import ScriptClient, World, transcript
from transport.wire import META_CONNECT, META_DISCONNECT, Operation


@pytest.fixture
def world() -> World:
    return World(Cluster(["i1", "i2"], MemoryStore(), rng=random.Random(1)))


def test_handshake_negotiates_and_advises(world: World) -> None:
    client = ScriptClient(world, "i1")
    reply = client.handshake(0.0, types=["long-polling", "callback-polling"])
    assert reply["successful"] is True
    assert reply["clientId"] and reply["version"] == "1.0"
    assert "long-polling" in reply["supportedConnectionTypes"]
    assert reply["advice"] == {"reconnect": "retry", "interval": 0, "timeout": 30000}
    assert reply["ext"] == {"ack": True}


def test_handshake_without_common_connection_type_is_refused(world: World) -> None:
    reply = ScriptClient(world, "i1").handshake(0.0, types=["flash"])
    assert reply["successful"] is False
    assert reply["error"].startswith("405:")
    assert reply["advice"]["reconnect"] == "none"


def test_handshake_without_version_is_a_bad_request(world: World) -> None:
    client = ScriptClient(world, "i1")
    reply = client.request({"channel": "/meta/handshake", "supportedConnectionTypes": []}, 0.0)
    assert reply["successful"] is False and reply["error"].startswith("400:")


@pytest.mark.parametrize("channel", ["/meta/connect", "/meta/subscribe", "/service/chat", "/x"])
def test_unknown_client_gets_402_and_handshake_advice(world: World, channel: str) -> None:
    client = ScriptClient(world, "i1")
    reply = client.request({"channel": channel, "clientId": "nobody", "data": {}}, 0.0)
    assert reply["successful"] is False
    assert reply["error"] == "402::Unknown client"
    assert reply["advice"]["reconnect"] == "handshake"


def test_connect_without_connection_type_is_a_bad_request(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    reply = client.request({"channel": META_CONNECT}, 0.1)
    assert reply["successful"] is False and reply["error"].startswith("400:")


def test_unknown_meta_channel_is_a_bad_request(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    reply = client.request({"channel": "/meta/bogus"}, 0.1)
    assert reply["error"].startswith("400:")


def test_connect_is_held_for_the_advised_timeout(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    client.connect(1.0)
    world.run_until(30.9)
    assert client.frames() == []
    assert world.run_until(31.0) == pytest.approx(31.0)
    deliveries, reply = client.connect_reply()
    assert deliveries == [] and reply["successful"] is True
    assert reply["ext"] == {"ack": -1}
    assert reply["advice"]["timeout"] == 30000


def test_delivery_answers_a_held_connect_at_once(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    client.connect(0.1)  # held
    other = ScriptClient(world, "i1", conn="c2")
    other.handshake(0.2)
    result = client.chat(Operation.REQUEST_CHAT, 0.3, nickname="ann")["result"]
    assert result["position"] == 0
    deliveries, reply = client.connect_reply()
    assert transcript(deliveries) == [
        (1, "ParticipantJoined", "client"),
        (2, "ParticipantJoined", "agent"),
    ]
    assert deliveries[0]["channel"] == f"/chat/{result['chatId']}"
    assert reply["ext"] == {"ack": 0}


def test_lost_connect_reply_is_sent_again_until_acknowledged(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    client.chat(Operation.REQUEST_CHAT, 0.1, nickname="ann")
    client.connect(0.2)
    first, reply = client.connect_reply()
    assert reply["ext"] == {"ack": 0} and len(first) == 2
    # the reply was lost on the way: the client connects again with its old ack
    client.connect(0.3, ack=-1)
    again, reply = client.connect_reply()
    assert again == first and reply["ext"] == {"ack": 0}
    # acknowledged now: the next connect is held, nothing is re-sent
    client.connect(0.4, ack=0)
    assert client.frames() == []


def test_new_deliveries_join_the_unacknowledged_ones(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    chat = client.chat(Operation.REQUEST_CHAT, 0.1, nickname="ann")["result"]
    client.connect(0.2)
    client.connect_reply()  # batch 0 lost later on
    world.cluster.agent_say(chat["chatId"], "hello", 0.3)
    client.connect(0.4, ack=-1)
    deliveries, reply = client.connect_reply()
    assert [i for i, _, _ in transcript(deliveries)] == [1, 2, 3]
    assert reply["ext"] == {"ack": 1}


def test_dropped_long_poll_loses_nothing(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    chat = client.chat(Operation.REQUEST_CHAT, 0.1, nickname="ann")["result"]
    client.connect(0.2)
    client.connect_reply()
    client.connect(0.3)  # held on c1
    world.cluster.instances["i1"].closed("c1", 0.4)  # the long-poll dies
    world.cluster.agent_say(chat["chatId"], "while away", 0.5)
    assert client.frames() == []
    world.cluster.instances["i1"].open("c9", 0.6)
    client.connect(0.7, conn="c9")
    deliveries, _ = client.connect_reply(conn="c9")
    assert transcript(deliveries) == [(3, "Message", "agent")]


def test_superseded_held_connect_is_answered_empty(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    client.connect(0.1)
    world.cluster.instances["i1"].open("c2", 0.2)
    client.connect(0.3, conn="c2")
    deliveries, reply = client.connect_reply()
    assert deliveries == [] and reply["successful"] is True
    assert client.frames("c2") == []


def test_client_without_connect_expires_after_max_interval(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    client.connect(0.0)
    world.tick(30.0)
    client.connect_reply()
    world.tick(39.9)
    assert client.client_id in world.cluster.instances["i1"].clients
    world.tick(40.0)
    assert client.client_id not in world.cluster.instances["i1"].clients
    client.connect(41.0)
    _, reply = client.connect_reply()
    assert reply["error"] == "402::Unknown client"
    assert reply["advice"]["reconnect"] == "handshake"


def test_broadcast_publish_reaches_subscribers_on_every_instance(world: World) -> None:
    one = ScriptClient(world, "i1")
    two = ScriptClient(world, "i2", conn="c2")
    one.handshake(0.0)
    two.handshake(0.0)
    assert one.subscribe("/chat/demo", 0.1)["successful"] is True
    assert two.subscribe("/test/*", 0.1)["successful"] is True
    two.connect(0.2)
    reply = one.request({"channel": "/test/a", "data": {"n": 1}}, 0.3)
    assert reply["successful"] is True
    deliveries, _ = two.connect_reply("c2")
    assert deliveries == [{"channel": "/test/a", "data": {"n": 1}}]
    two.request({"channel": "/chat/demo", "data": "hi"}, 0.4)
    one.connect(0.5)
    deliveries, _ = one.connect_reply()
    assert deliveries == [{"channel": "/chat/demo", "data": "hi"}]


def test_subscribing_to_another_clients_chat_is_forbidden(world: World) -> None:
    owner = ScriptClient(world, "i1")
    owner.handshake(0.0)
    chat_id = owner.chat(Operation.REQUEST_CHAT, 0.1, nickname="ann")["result"]["chatId"]
    assert owner.subscribe(f"/chat/{chat_id}", 0.2)["successful"] is True
    stranger = ScriptClient(world, "i2", conn="c2")
    stranger.handshake(0.3)
    reply = stranger.subscribe(f"/chat/{chat_id}", 0.4)
    assert reply["successful"] is False and reply["error"].startswith("403:")
    assert stranger.subscribe("/meta/connect", 0.5)["error"].startswith("403:")
    reply = stranger.request({"channel": f"/chat/{chat_id}", "data": "spoof"}, 0.6)
    assert reply["error"].startswith("403:")


def test_bad_frame_drops_the_connection(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.send_raw("{not json", 0.0)
    assert "bad frame" in world.dropped["c1"]


def test_slow_delays_every_reply_in_order(world: World) -> None:
    world.cluster.slow(250)
    client = ScriptClient(world, "i1")
    client.send(
        [
            {
                "channel": "/meta/handshake",
                "version": "1.0",
                "supportedConnectionTypes": ["websocket"],
            }
        ],
        1.0,
    )
    assert client.frames() == []
    assert world.cluster.next_deadline() == pytest.approx(1.25)
    world.tick(1.25)
    assert client.one()[0]["successful"] is True


def test_meta_disconnect_forgets_the_client(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    assert client.request({"channel": META_DISCONNECT}, 0.1)["successful"] is True
    assert world.cluster.instances["i1"].clients == {}


def test_crash_drops_connections_and_refuses_new_ones(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    drops = world.cluster.crash("i1", 1.0)
    assert drops == [Drop("c1", "crash")]
    world.drain()
    assert world.dropped == {"c1": "crash"}
    assert world.cluster.instances["i1"].open("c5", 1.1) is False
    world.cluster.recover("i1", 2.0)
    assert world.cluster.instances["i1"].open("c5", 2.1) is True
    client.connect(2.2, conn="c5")
    _, reply = client.connect_reply("c5")
    assert reply["error"] == "402::Unknown client"
    kinds = [e[2] for e in world.cluster.take_events()]
    assert "crash" in kinds and "recover" in kinds


def test_owner_may_not_publish_into_its_chat_but_elsewhere(world: World) -> None:
    owner = ScriptClient(world, "i1")
    owner.handshake(0.0)
    chat_id = owner.chat(Operation.REQUEST_CHAT, 0.1, nickname="ann")["result"]["chatId"]
    assert owner.request({"channel": f"/chat/{chat_id}", "data": 1}, 0.2)["successful"] is False
    assert owner.request({"channel": f"/test/{chat_id}", "data": 1}, 0.3)["successful"] is True


def test_client_whose_long_poll_dies_expires_max_interval_later(world: World) -> None:
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    client.connect(5.0)  # held until 35
    world.cluster.instances["i1"].closed("c1", 8.0)
    world.run_until(17.9)
    assert client.client_id in world.cluster.instances["i1"].clients
    world.run_until(18.0)
    assert client.client_id not in world.cluster.instances["i1"].clients
    ends = [f for _, _, k, f in world.cluster.take_events() if k == "client.end"]
    assert ends == [{"client": client.client_id, "reason": "timeout"}]
