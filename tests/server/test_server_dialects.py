"""A cluster speaking another seed's error dialect still maps back to our codes."""

from __future__ import annotations

import random

import pytest

from sim.server import Cluster, MemoryStore
from statecharts.dialects import read_error
from statecharts.errors import UsageError
from tests.server.bayeux_script import ScriptClient, World
from transport.wire import Operation


@pytest.mark.parametrize(
    ("dialect", "native"),
    [
        (
            "livechat",
            {
                "error": {
                    "type": "authentication",
                    "message": "Authentication error",
                    "data": {"chatId": "nope"},
                }
            },
        ),
        (
            "polyai",
            {
                "type": "EVENT_TYPE_SYSTEM_MESSAGE",
                "level": "SYSTEM_MESSAGE_LEVEL_ERROR",
                "message": "Error: Session not found",
            },
        ),
    ],
)
def test_unknown_chat_in_a_dialect(dialect: str, native: dict[str, object]) -> None:
    world = World(Cluster(["i1"], MemoryStore(), rng=random.Random(1), dialect=dialect))
    client = ScriptClient(world, "i1", conn="c")
    client.handshake(0.0)
    reply = client.chat(Operation.SEND_TYPING, 0.0, chatId="nope", secureKey="k")
    assert reply["error"] == native
    found = read_error(reply["error"])
    assert found is not None and found[0] == 50


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(UsageError, match="unknown dialect 'aol'"):
        Cluster(["i1"], dialect="aol")
