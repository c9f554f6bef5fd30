"""Fault values survive a round trip through their mapping form."""

from __future__ import annotations

import pytest

from sim.faults import FAULT_TYPES, Corrupt, Direction, parse_fault


@pytest.mark.parametrize("kind", sorted(FAULT_TYPES))
@pytest.mark.parametrize("direction", list(Direction))
def test_as_dict_round_trips(kind: str, direction: Direction) -> None:
    fault = FAULT_TYPES[kind](at=1.0, duration=2.0, direction=direction)
    assert parse_fault(fault.as_dict()) == fault


def test_corrupt_defaults_to_the_down_direction() -> None:
    assert Corrupt().as_dict() == {"kind": "corrupt", "at": 0.0, "count": 1, "mode": "invalid_json"}
    assert Corrupt(direction=Direction.BOTH).as_dict()["direction"] == "both"
