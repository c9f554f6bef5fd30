"""Frames cross a clean simulated network as values, never encoded; a fault gets their
text (a `corrupt` fault breaks real bytes); the values are exactly a JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sim.faults import Corrupt, CorruptMode
from sim.network import Network
from sim.network_parts import Frame
from sim.runner import run_scenario
from sim.scenario import parse_scenario
from sim.server import Reply
from tests.sim.network_harness import World
from transport import wire
from transport.core import SendFrame

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CONNECT: wire.Message = {"channel": "/meta/connect", "successful": True, "id": "7"}


def test_a_clean_network_carries_the_values_and_never_encodes_them() -> None:
    world = World()
    world.open()
    frame = SendFrame((CONNECT,))
    world.at(1.0, world.net.client_send, "c1", frame)
    world.run()
    assert world.server.frames() == [frame] and world.client.frames() == [frame]
    assert frame._text is None  # nobody asked for the bytes


def test_a_corrupt_fault_gets_the_text_of_values_and_breaks_its_bytes() -> None:
    world = World([Corrupt(at=0.0, count=1, mode=CorruptMode.INVALID_JSON)])
    world.open()
    for i in range(2):
        world.at(1.0 + i * 0.1, world.net.server_send, "c1/1", Reply("c1/1", [CONNECT]))
    world.run()
    broken, whole = world.client.frames()
    assert isinstance(broken, str) and broken != whole
    with pytest.raises(ValueError):
        json.loads(broken)
    assert whole == wire.encode([CONNECT])  # text: the fault engine saw the frame


def _exactly(a: Any, b: Any) -> bool:
    """Equal with the very same types throughout (a tuple is not a list, 1.0 not 1)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_exactly(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_exactly, a, b))
    return bool(a == b)


@pytest.mark.parametrize("example", ["mixed_clients.yaml", "seed_rate_limit_retry_after.yaml"])
def test_values_carried_are_their_json_round_trip_and_never_change(
    example: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[Any, str]] = []
    send = Network.send

    def checked_send(net: Network, conn: Any, way: Any, frame: Frame) -> None:
        if not isinstance(frame, str):
            messages = list(frame.messages)
            text = wire.encode(messages)
            assert _exactly(messages, wire.decode(text)), text
            sent.append((frame, text))
        send(net, conn, way, frame)

    monkeypatch.setattr(Network, "send", checked_send)
    scenario = parse_scenario((EXAMPLES / example).read_text())
    assert run_scenario(scenario).ok
    assert len(sent) > 50
    # Neither end changed a message after it was sent (the other end holds it).
    assert [text for _, text in sent] == [wire.encode(list(f.messages)) for f, _ in sent]
