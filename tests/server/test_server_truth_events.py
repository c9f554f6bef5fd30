"""With `truth_events`, the cluster reports what a live trace judges deliveries against."""

from __future__ import annotations

import random

from sim.server import Cluster, MemoryStore
from tests.server.bayeux_script import ScriptClient, World
from transport.wire import Operation


def kinds(world: World, *wanted: str) -> list[tuple[str, dict[str, object]]]:
    return [(kind, fields) for _, _, kind, fields in world.cluster.take_events() if kind in wanted]


def test_transcript_and_acks_are_reported() -> None:
    world = World(Cluster(["i1"], MemoryStore(), rng=random.Random(1), truth_events=True))
    client = ScriptClient(world, "i1", conn="c")
    client.handshake(0.0)
    chat = client.chat(Operation.REQUEST_CHAT, 0.0, nickname="ann")["result"]
    keys = {"chatId": chat["chatId"], "secureKey": chat["secureKey"]}
    for now in (1.0, 2.0):  # the second send is a retry: acked again, appended once
        client.chat(Operation.SEND_MESSAGE, now, **keys, text="hi", clientMessageId="m1")
    world.cluster.agent_say(chat["chatId"], "hello", 3.0)
    client.chat(Operation.DISCONNECT, 4.0, **keys)
    chat_id = chat["chatId"]
    assert kinds(world, "transcript", "acked") == [
        ("transcript", {"chatId": chat_id, "index": 1, "party": "client"}),
        ("transcript", {"chatId": chat_id, "index": 2, "party": "agent"}),
        ("transcript", {"chatId": chat_id, "index": 3, "party": "client", "id": "m1"}),
        ("acked", {"chatId": chat_id, "id": "m1", "index": 3}),
        ("acked", {"chatId": chat_id, "id": "m1", "index": 3}),
        ("transcript", {"chatId": chat_id, "index": 4, "party": "agent"}),
        ("transcript", {"chatId": chat_id, "index": 5, "party": "client"}),
    ]


def test_off_by_default() -> None:
    world = World(Cluster(["i1"], MemoryStore(), rng=random.Random(1)))
    client = ScriptClient(world, "i1", conn="c")
    client.handshake(0.0)
    client.chat(Operation.REQUEST_CHAT, 0.0, nickname="ann")
    assert kinds(world, "transcript", "acked") == []
