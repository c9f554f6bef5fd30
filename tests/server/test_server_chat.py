"""The chat service on /service/chat: operations, errors, sessions, failover, faults."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sim.server import AgentPolicy, Cluster, MemoryStore
from statecharts.catalog import CATALOG, ErrorCode
from tests.server.bayeux_script import ScriptClient, World, transcript
from transport.wire import Operation


def make_world(**kwargs: Any) -> World:
    return World(Cluster(["i1", "i2"], MemoryStore(), rng=random.Random(7), **kwargs))


@pytest.fixture
def world() -> World:
    return make_world()


def open_chat(
    world: World, instance: str = "i1", now: float = 0.0
) -> tuple[ScriptClient, dict[str, Any]]:
    client = ScriptClient(world, instance, conn=f"{instance}-conn")
    client.handshake(now)
    result = client.chat(Operation.REQUEST_CHAT, now, nickname="ann")["result"]
    assert client.subscribe(f"/chat/{result['chatId']}", now)["successful"] is True
    return client, result


def keys(chat: dict[str, Any]) -> dict[str, Any]:
    return {"chatId": chat["chatId"], "secureKey": chat["secureKey"]}


def assert_error(data: dict[str, Any], code: ErrorCode) -> dict[str, Any]:
    assert "result" not in data, data
    error: dict[str, Any] = data["error"]
    assert error["code"] == int(code)
    assert error["description"] == CATALOG[code].description
    return error


def test_request_chat_starts_a_transcript(world: World) -> None:
    client, chat = open_chat(world)
    assert chat["instance"] == "i1" and chat["position"] == 0
    assert chat["secureKey"]
    client.connect(0.1)
    deliveries, _ = client.connect_reply(f"{client.conn}")
    assert transcript(deliveries) == [
        (1, "ParticipantJoined", "client"),
        (2, "ParticipantJoined", "agent"),
    ]
    session = world.cluster.store.get(chat["chatId"])
    assert session is not None and session.instance == "i1"


def test_send_message_is_indexed_and_deduplicated(world: World) -> None:
    client, chat = open_chat(world)
    first = client.chat(Operation.SEND_MESSAGE, 1.0, **keys(chat), text="hi", clientMessageId="m1")
    assert first["result"] == {"index": 3}
    again = client.chat(Operation.SEND_MESSAGE, 2.0, **keys(chat), text="hi", clientMessageId="m1")
    assert again["result"] == {"index": 3}
    other = client.chat(Operation.SEND_MESSAGE, 3.0, **keys(chat), text="yo", clientMessageId="m2")
    assert other["result"] == {"index": 4}
    client.connect(3.1)
    deliveries, _ = client.connect_reply()
    messages = [m["data"] for m in deliveries if m["data"]["type"] == "Message"]
    assert messages == [
        {"index": 3, "type": "Message", "party": "client", "text": "hi", "clientMessageId": "m1"},
        {"index": 4, "type": "Message", "party": "client", "text": "yo", "clientMessageId": "m2"},
    ]


def test_typing_is_delivered_without_index(world: World) -> None:
    client, chat = open_chat(world)
    assert client.chat(Operation.SEND_TYPING, 1.0, **keys(chat))["result"] == {}
    client.connect(1.1)
    deliveries, _ = client.connect_reply()
    assert deliveries[-1]["data"] == {"type": "Typing", "party": "client"}


def test_agent_answers_after_a_delay() -> None:
    world = make_world(agent=AgentPolicy(join_after=1.0, reply_after=2.0))
    client, chat = open_chat(world)
    world.run_until(5.0)
    client.chat(Operation.SEND_MESSAGE, 5.0, **keys(chat), text="help", clientMessageId="m1")
    world.run_until(10.0)
    client.connect(10.0)
    deliveries, _ = client.connect_reply()
    assert [m["data"] for m in deliveries][1:] == [
        {"index": 2, "type": "ParticipantJoined", "party": "agent", "text": "Agent"},
        {"index": 3, "type": "Message", "party": "client", "text": "help", "clientMessageId": "m1"},
        {"index": 4, "type": "Message", "party": "agent", "text": "re: help"},
    ]


def test_disconnect_ends_the_session(world: World) -> None:
    client, chat = open_chat(world)
    assert client.chat(Operation.DISCONNECT, 1.0, **keys(chat))["result"] == {}
    client.connect(1.1)
    deliveries, _ = client.connect_reply()
    assert transcript(deliveries)[-1] == (3, "ParticipantLeft", "client")
    assert world.cluster.store.get(chat["chatId"]) is None
    data = client.chat(Operation.SEND_TYPING, 2.0, **keys(chat))
    assert_error(data, ErrorCode.UNKNOWN_SESSION)


# -- every server error code, with its catalog description ---------------------------
def test_error_1_unknown_operation(world: World) -> None:
    client, _ = open_chat(world)
    assert_error(client.chat("dance", 1.0), ErrorCode.UNKNOWN_COMMAND)


@pytest.mark.parametrize(
    ("operation", "params", "missing"),
    [
        (Operation.REQUEST_CHAT, {}, "nickname"),
        (Operation.SEND_MESSAGE, {"text": "x", "clientMessageId": "m"}, "chatId"),
        (Operation.REQUEST_NOTIFICATIONS, {"secureKey": "k", "chatId": "c"}, "transcriptPosition"),
    ],
)
def test_error_2_missing_parameter(
    world: World, operation: str, params: dict[str, Any], missing: str
) -> None:
    client, _ = open_chat(world)
    error = assert_error(client.chat(operation, 1.0, **params), ErrorCode.MISSING_PARAMETER)
    assert error["data"] == {"parameter": missing}


def test_error_2_missing_operation(world: World) -> None:
    client, _ = open_chat(world)
    reply = client.request({"channel": "/service/chat", "data": {}}, 1.0)
    assert_error(reply["data"], ErrorCode.MISSING_PARAMETER)


@pytest.mark.parametrize(
    ("params", "wrong"),
    [
        ({"text": 5, "clientMessageId": "m"}, "text"),
        ({"text": "x", "clientMessageId": ""}, "clientMessageId"),
        ({"text": "x", "clientMessageId": True}, "clientMessageId"),
    ],
)
def test_error_3_wrong_parameter(world: World, params: dict[str, Any], wrong: str) -> None:
    client, chat = open_chat(world)
    data = client.chat(Operation.SEND_MESSAGE, 1.0, **keys(chat), **params)
    assert assert_error(data, ErrorCode.INCORRECT_PARAMETER)["data"] == {"parameter": wrong}


def test_error_3_position_beyond_the_transcript(world: World) -> None:
    client, chat = open_chat(world)
    data = client.chat(Operation.REQUEST_NOTIFICATIONS, 1.0, **keys(chat), transcriptPosition=9)
    assert_error(data, ErrorCode.INCORRECT_PARAMETER)


def test_error_50_unknown_chat_or_wrong_key(world: World) -> None:
    client, chat = open_chat(world)
    data = client.chat(Operation.SEND_TYPING, 1.0, chatId=chat["chatId"], secureKey="wrong")
    assert_error(data, ErrorCode.UNKNOWN_SESSION)
    data = client.chat(Operation.SEND_TYPING, 1.0, chatId="nope", secureKey=chat["secureKey"])
    assert_error(data, ErrorCode.UNKNOWN_SESSION)


def test_error_51_decorator_veto(world: World) -> None:
    client, chat = open_chat(world)

    def no_shouting(op: Operation, data: dict[str, Any]) -> str | None:
        shouting = op is Operation.SEND_MESSAGE and str(data.get("text")).isupper()
        return "no shouting" if shouting else None

    world.cluster.register_decorator(no_shouting)
    data = client.chat(Operation.SEND_MESSAGE, 1.0, **keys(chat), text="HEY", clientMessageId="1")
    assert assert_error(data, ErrorCode.STOPPED_BY_DECORATOR)["data"] == {"reason": "no shouting"}
    data = client.chat(Operation.SEND_MESSAGE, 1.0, **keys(chat), text="hey", clientMessageId="2")
    assert data["result"] == {"index": 3}


def test_error_52_failing_decorator(world: World) -> None:
    client, chat = open_chat(world)

    def broken(op: Operation, data: dict[str, Any]) -> str | None:
        raise RuntimeError("database down")

    world.cluster.register_decorator(broken)
    data = client.chat(Operation.SEND_TYPING, 1.0, **keys(chat))
    assert assert_error(data, ErrorCode.EXECUTION_ERROR)["data"] == {"reason": "database down"}


@pytest.mark.parametrize("code", [ErrorCode.EXECUTION_ERROR, ErrorCode.UNKNOWN_SESSION])
def test_command_errors_fault_fails_the_next_commands(world: World, code: ErrorCode) -> None:
    client, chat = open_chat(world)
    world.cluster.command_errors(int(code), 2)
    for n in range(2):
        data = client.chat(Operation.SEND_TYPING, 1.0 + n, **keys(chat))
        assert_error(data, code)
    assert client.chat(Operation.SEND_TYPING, 3.0, **keys(chat))["result"] == {}


def test_error_100_while_not_ready(world: World) -> None:
    world.cluster.not_ready(until=5.0)
    client = ScriptClient(world, "i1")
    assert client.handshake(1.0)["successful"] is True  # the channel opens
    data = client.chat(Operation.REQUEST_CHAT, 1.5, nickname="ann")
    error = assert_error(data, ErrorCode.SERVER_UNAVAILABLE)
    assert error["data"] == {"retryAfter": 3.5}
    assert "result" in client.chat(Operation.REQUEST_CHAT, 5.0, nickname="ann")


def test_error_101_login_refused(world: World) -> None:
    world.cluster.set_login_policy(lambda nick, data: "banned" if nick == "troll" else None)
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    data = client.chat(Operation.REQUEST_CHAT, 0.1, nickname="troll")
    assert assert_error(data, ErrorCode.LOGIN_FAILED)["data"] == {"reason": "banned"}
    assert "result" in client.chat(Operation.REQUEST_CHAT, 0.2, nickname="ann")


def test_command_events_are_traced(world: World) -> None:
    client, chat = open_chat(world)
    client.chat("dance", 1.0)
    events = world.cluster.take_events()
    commands = [(t, src, fields) for t, src, kind, fields in events if kind == "command"]
    assert commands[0] == (
        0.0,
        "server:i1",
        {"operation": "requestChat", "client": client.client_id, "chatId": chat["chatId"]},
    )
    assert commands[1][2]["error"] == 1
    assert "session.start" in [e[2] for e in events]


# -- sessions: TTL, expiry, failover --------------------------------------------------
def test_session_lives_past_its_bayeux_client_until_the_ttl(world: World) -> None:
    client, chat = open_chat(world)
    world.run_until(59.9)
    assert client.client_id not in world.cluster.instances["i1"].clients  # Bayeux client gone
    assert world.cluster.store.get(chat["chatId"]) is not None  # the chat lives on
    world.run_until(60.0)
    assert world.cluster.store.get(chat["chatId"]) is None
    expired = [f for _, _, k, f in world.cluster.take_events() if k == "session.expire"]
    assert expired == [{"chatId": chat["chatId"], "reason": "ttl"}]


def test_contact_extends_the_ttl(world: World) -> None:
    client, chat = open_chat(world)
    client.chat(Operation.SEND_TYPING, 50.0, **keys(chat))
    world.run_until(100.0)
    assert world.cluster.store.get(chat["chatId"]) is not None
    world.run_until(110.0)
    assert world.cluster.store.get(chat["chatId"]) is None


def test_long_polling_client_keeps_its_session(world: World) -> None:
    client, chat = open_chat(world)
    client.connect(0.0)
    client.connect_reply()  # the pending deliveries
    now = 0.0
    for _ in range(5):  # 150 s of empty long-polls, nothing else
        client.connect(now)
        client.frames()
        now += 30.0
        world.run_until(now)
    assert world.cluster.store.get(chat["chatId"]) is not None
    assert client.client_id in world.cluster.instances["i1"].clients


def test_expire_gives_402_then_50(world: World) -> None:
    client, chat = open_chat(world)
    client.connect(0.1)
    client.connect_reply()
    client.connect(0.2)  # held
    assert world.cluster.expire(chat["chatId"], 1.0) == 1
    world.drain()
    _, reply = client.connect_reply()  # the held connect learns at once
    assert reply["error"] == "402::Unknown client"
    assert reply["advice"]["reconnect"] == "handshake"
    client.handshake(2.0)
    data = client.chat(Operation.REQUEST_NOTIFICATIONS, 2.1, **keys(chat), transcriptPosition=2)
    assert_error(data, ErrorCode.UNKNOWN_SESSION)


def test_expire_all(world: World) -> None:
    open_chat(world)
    open_chat(world, "i2")
    assert world.cluster.expire(None, 1.0) == 2
    assert len(world.cluster.store) == 0


def test_crash_and_failover_replays_from_the_position(world: World) -> None:
    client, chat = open_chat(world)
    client.connect(0.1)
    client.connect_reply()  # got 1, 2
    client.chat(Operation.SEND_MESSAGE, 0.5, **keys(chat), text="hi", clientMessageId="m1")
    world.cluster.crash("i1", 1.0)
    world.drain()
    assert world.cluster.instances["i1"].open("x", 1.1) is False
    world.cluster.agent_say(chat["chatId"], "still here", 1.5)
    # the client moves to i2 and restores from its position (2)
    moved = ScriptClient(world, "i2", conn="c2")
    moved.handshake(2.0)
    data = moved.chat(Operation.REQUEST_NOTIFICATIONS, 2.1, **keys(chat), transcriptPosition=2)
    assert data["result"] == {"instance": "i2", "position": 4, "replayed": 2}
    assert moved.subscribe(f"/chat/{chat['chatId']}", 2.2)["successful"] is True
    moved.connect(2.3)
    deliveries, _ = moved.connect_reply()
    assert transcript(deliveries) == [(3, "Message", "client"), (4, "Message", "agent")]
    # the session goes on there
    moved.chat(Operation.SEND_MESSAGE, 3.0, **keys(chat), text="ok", clientMessageId="m2")
    moved.connect(3.1)
    deliveries, _ = moved.connect_reply()
    assert transcript(deliveries) == [(5, "Message", "client")]
    events = world.cluster.take_events()
    assert (
        2.1,
        "server:i2",
        "session.move",
        {"chatId": chat["chatId"], "from": "i1", "to": "i2"},
    ) in events


def test_failover_dedups_a_message_sent_again(world: World) -> None:
    client, chat = open_chat(world)
    first = client.chat(Operation.SEND_MESSAGE, 0.5, **keys(chat), text="hi", clientMessageId="m1")
    world.cluster.crash("i1", 1.0)
    moved = ScriptClient(world, "i2", conn="c2")
    moved.handshake(2.0)
    again = moved.chat(Operation.SEND_MESSAGE, 2.1, **keys(chat), text="hi", clientMessageId="m1")
    assert again["result"] == first["result"]


def test_same_seed_same_secure_keys() -> None:
    keys_of = []
    for _ in range(2):
        _, chat = open_chat(make_world())
        keys_of.append(chat["secureKey"])
    assert keys_of[0] == keys_of[1]
