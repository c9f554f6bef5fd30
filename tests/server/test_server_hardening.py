"""The server core against hostile input: whole-frame checks, bounded maps, secrets, slow faults."""

from __future__ import annotations

import json
import random

import pytest

from sim.live.limits import Limits
from sim.server import Cluster, MemoryStore
from sim.server.bounds import MAX_SUBSCRIPTIONS
from sim.server.inbound import MAX_SAFE_INTEGER, parse_frame
from sim.server.secrets import SeededSecrets, SystemSecrets
from statecharts.errors import ProtocolViolation, UsageError
from tests.server.bayeux_script import ScriptClient, World
from transport.wire import Operation


def make_world() -> World:
    return World(Cluster(["i1", "i2"], MemoryStore(), rng=random.Random(7)))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[" * 3000 + "]" * 3000, "nested deeper than 32"),
        ('[{"channel":"/a","data":' + "[" * 40 + "]" * 40 + "}]", "nested deeper than 32"),
        ('[{"channel":"/a","data":1' + "0" * 400 + "}]", "within ±"),
        ('[{"channel":"/a","data":' + "9" * 5000 + "}]", "too many digits"),
        ('[{"channel":"/a","data":1e400}]', "finite"),
        ('[{"channel":"/a","data":NaN}]', "finite"),
        ('[{"channel":"/a","data":{"\\ud800":1}}]', "lone surrogate"),
        ('[{"channel":"/a","clientId":["x"]}]', "'clientId' must be a string"),
        ('[{"channel":"/a","clientId":{"a":1}}]', "'clientId' must be a string"),
        ('[{"channel":"/a","id":{"a":1}}]', "'id' must be"),
        ('[{"channel":"/a","advice":"soon"}]', "'advice' must be an object"),
        ('[{"channel":"/a","ext":[1]}]', "'ext' must be an object"),
    ],
)
def test_parse_frame_refuses_the_whole_frame(text: str, words: str) -> None:
    with pytest.raises(ProtocolViolation, match=words.replace("(", r"\(")):
        parse_frame(text, 32)


def test_parse_frame_accepts_ordinary_frames() -> None:
    text = f'[{{"channel":"/a","id":7,"data":{{"n":{MAX_SAFE_INTEGER},"t":"héllo"}}}}]'
    assert parse_frame(text, 32)[0]["data"]["n"] == MAX_SAFE_INTEGER


def test_the_core_answers_a_list_client_id_with_a_drop_not_an_exception() -> None:
    world = make_world()
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    client.send_raw('[{"channel":"/meta/connect","clientId":["x"]}]', 0.1)
    assert "clientId" in world.dropped[client.conn]


def test_a_huge_advice_timeout_holds_for_the_server_hold() -> None:
    world = make_world()
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    connect = {
        "channel": "/meta/connect",
        "clientId": client.client_id,
        "connectionType": "websocket",
        "advice": {"timeout": 7},
    }
    client.send_raw(json.dumps([connect]).replace("7}", "1" + "0" * 400 + "}"), 0.1)
    held = world.cluster.instances["i1"].clients[client.client_id].held
    assert held is not None and held.deadline == pytest.approx(0.1 + world.cluster.hold)


def test_simulated_secure_keys_are_seeded_and_live_ones_are_not() -> None:
    seeded = f"{random.Random(0).getrandbits(64):016x}"  # what simulated traces always held
    assert SeededSecrets(random.Random(0)).secure_key() == seeded
    assert SystemSecrets().secure_key() != SystemSecrets().secure_key()
    assert len(SystemSecrets().secure_key()) == 32


def test_logins_are_pruned_with_their_chat_and_bound_to_their_client() -> None:
    world = make_world()
    owner = ScriptClient(world, "i1", conn="a")
    owner.handshake(0.0)
    chat = owner.chat(Operation.REQUEST_CHAT, 0.1, nickname="n", clientRequestId="r1")["result"]
    other = ScriptClient(world, "i1", conn="b")
    other.handshake(0.2)
    theirs = other.chat(Operation.REQUEST_CHAT, 0.3, nickname="n", clientRequestId="r1")["result"]
    assert theirs["chatId"] != chat["chatId"] and theirs["secureKey"] != chat["secureKey"]
    again = owner.chat(Operation.REQUEST_CHAT, 0.4, nickname="n", clientRequestId="r1")["result"]
    assert again == chat
    owner.chat(Operation.DISCONNECT, 0.5, chatId=chat["chatId"], secureKey=chat["secureKey"])
    service = world.cluster.chat
    assert "r1" not in service._logins and chat["chatId"] not in service._login_of_chat
    world.cluster.expire(None, 0.6)
    assert service._logins == {} and service._login_of_chat == {}


def test_a_login_retried_after_its_client_is_gone_finds_its_chat() -> None:
    world = make_world()
    first = ScriptClient(world, "i1", conn="a")
    first.handshake(0.0)
    chat = first.chat(Operation.REQUEST_CHAT, 0.1, nickname="n", clientRequestId="r1")["result"]
    world.cluster.instances["i1"].forget_client(first.client_id, 0.2, "timeout")
    later = ScriptClient(world, "i2", conn="b")
    later.handshake(0.3)
    again = later.chat(Operation.REQUEST_CHAT, 0.4, nickname="n", clientRequestId="r1")["result"]
    assert again["chatId"] == chat["chatId"]


def test_a_slow_fault_that_ends_releases_what_it_held_back() -> None:
    world = make_world()
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    world.cluster.slow(60_000.0)
    client.send([{"channel": "/meta/smoke", "id": "x", "clientId": client.client_id}], 1.0)
    assert client.frames() == []
    world.cluster.slow(0.0)
    world.drain()
    assert len(client.frames()) == 1
    client.send([{"channel": "/meta/smoke", "id": "y", "clientId": client.client_id}], 2.0)
    assert len(client.frames()) == 1  # at once, not behind a minute-long queue
    deadline = world.cluster.next_deadline()
    assert deadline is None or deadline < 60


@pytest.mark.parametrize("field", ["max_frame", "send_queue", "max_connections", "idle_timeout"])
@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf")])
def test_limits_must_be_positive_and_finite(field: str, value: float) -> None:
    with pytest.raises(UsageError, match=f"--{field.replace('_', '-')}"):
        Limits(**{field: value})  # type: ignore[arg-type]  # wrong on purpose


def test_max_connections_stays_below_the_open_file_limit() -> None:
    assert Limits(max_connections=10**9).within_fd_limit().max_connections < 10**9


def test_subscriptions_per_client_are_bounded() -> None:
    world = make_world()
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    many = [f"/news/{n}" for n in range(MAX_SUBSCRIPTIONS + 1)]
    reply = client.request({"channel": "/meta/subscribe", "subscription": many}, 0.1)
    assert reply["successful"] is False and "Too many subscriptions" in reply["error"]
    assert client.subscribe("/" + "a" * 300, 0.2)["successful"] is False
    assert client.subscribe("/news/1", 0.3)["successful"] is True


def test_handshakes_past_the_client_bound_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sim.server.instance.MAX_CLIENTS", 3)
    world = make_world()
    replies = [ScriptClient(world, "i1", conn=f"c{n}").handshake(0.0) for n in range(4)]
    assert [r["successful"] for r in replies] == [True, True, True, False]
    assert replies[-1]["advice"]["reconnect"] == "handshake"


def test_a_client_that_never_takes_its_deliveries_is_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sim.server.routing.MAX_PENDING", 5)
    world = make_world()
    reader = ScriptClient(world, "i1", conn="a")
    reader.handshake(0.0)
    reader.subscribe("/news", 0.0)
    writer = ScriptClient(world, "i1", conn="b")
    writer.handshake(0.0)
    for n in range(7):
        writer.request({"channel": "/news", "data": n}, 0.1 + n / 100)
    assert reader.client_id not in world.cluster.instances["i1"].clients
    assert writer.client_id in world.cluster.instances["i1"].clients


def test_a_full_transcript_refuses_more_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sim.server.chat.MAX_TRANSCRIPT_CHARS", 30)
    world = make_world()
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    chat = client.chat(Operation.REQUEST_CHAT, 0.1, nickname="n")["result"]
    keys = {"chatId": chat["chatId"], "secureKey": chat["secureKey"]}
    ok = client.chat(Operation.SEND_MESSAGE, 0.2, **keys, text="12345", clientMessageId="1")
    assert "result" in ok
    full = client.chat(Operation.SEND_MESSAGE, 0.3, **keys, text="x" * 30, clientMessageId="2")
    assert full["error"]["code"] == 52 and "transcript is full" in full["error"]["data"]["reason"]
