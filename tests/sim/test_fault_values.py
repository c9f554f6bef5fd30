"""Fault values: a round trip through their mapping form, and the one validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.faults import (
    FAULT_TYPES,
    MAX_COUNT,
    MAX_MS,
    MAX_SECONDS,
    CommandError,
    Corrupt,
    Direction,
    Slow,
    parse_fault,
)
from statecharts.errors import BadInput


@pytest.mark.parametrize("kind", sorted(FAULT_TYPES))
@pytest.mark.parametrize("direction", list(Direction))
def test_as_dict_round_trips(kind: str, direction: Direction) -> None:
    required = {"redirect": {"to": "i2"}, "reject": {"row": "conflict"}}
    own = required.get(kind, {})
    fault = FAULT_TYPES[kind](at=1.0, duration=2.0, direction=direction, **own)
    assert parse_fault(fault.as_dict()) == fault


def test_corrupt_defaults_to_the_down_direction() -> None:
    assert Corrupt().as_dict() == {"kind": "corrupt", "at": 0.0, "count": 1, "mode": "invalid_json"}
    assert Corrupt(direction=Direction.BOTH).as_dict()["direction"] == "both"


# -- the one validation (scenario loader and live fault API alike) -------------------
@pytest.mark.parametrize(
    ("raw", "field", "expected"),
    [
        ({"kind": "latency", "ms": float("nan")}, "ms", "a finite number"),
        ({"kind": "latency", "ms": float("inf")}, "ms", "a finite number"),
        ({"kind": "outage", "duration": 10**400}, "duration", "from 0 to 604800 s"),
        ({"kind": "outage", "duration": 5, "at": -1}, "at", "from 0 to 604800 s"),
        ({"kind": "slow", "ms": 60_001}, "ms", "from 0 to 60000 ms"),
        ({"kind": "latency", "jitter": 1e9}, "jitter", "from 0 to 60000 ms"),
        ({"kind": "loss", "p": 1.5}, "p", "a probability between 0 and 1"),
        ({"kind": "corrupt", "count": 10**7}, "count", "a whole number from 0 to 1000000"),
        ({"kind": "corrupt", "count": 1.5}, "count", "a whole number"),
        ({"kind": "command_error", "code": 999}, "code", "an error code of the catalog"),
        ({"kind": "command_error", "code": True}, "code", "an error code of the catalog"),
        ({"kind": "crash", "duration": 1, "instance": "i9"}, "instance", "one of i1, i2"),
        ({"kind": "expire", "client": "nobody"}, "client", "one of c1"),
        ({"kind": "rate_limit", "retry_after": -1}, "retry_after", "from 0 to 604800 s"),
        ({"kind": "rate_limit", "retry_after": "soon"}, "retry_after", "a number"),
        ({"kind": "rate_limit", "count": -1}, "count", "a whole number from 0"),
        ({"kind": "expire_credential", "count": 2.5}, "count", "a whole number"),
        ({"kind": "no_reply", "count": 10**7}, "count", "a whole number from 0 to 1000000"),
        ({"kind": "redirect"}, "to", "a value"),
        ({"kind": "redirect", "to": "i9"}, "to", "one of i1, i2"),
        ({"kind": "redirect", "to": ["i1"]}, "to", "a name"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    raw: dict[str, object], field: str, expected: str
) -> None:
    with pytest.raises(BadInput) as info:
        parse_fault(raw, "f.yaml", 3, instances=["i1", "i2"], clients=["c1"])
    assert info.value.field == field
    assert expected in str(info.value)
    assert str(info.value).startswith(f"f.yaml:3: {field}: expected ")


def test_values_at_the_bounds_are_accepted() -> None:
    assert parse_fault({"kind": "slow", "ms": MAX_MS}) == Slow(ms=MAX_MS)
    assert parse_fault({"kind": "outage", "duration": MAX_SECONDS}).duration == MAX_SECONDS
    worst = parse_fault({"kind": "command_error", "code": 100, "count": MAX_COUNT})
    assert isinstance(worst, CommandError) and worst.count == MAX_COUNT


def test_a_scenario_with_a_non_finite_value_exits_2_with_file_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration: 5\nfaults:\n  - {at: 1, kind: slow, ms: .inf}\n")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{bad}:4: ms: expected a finite number, got inf")
    assert "Traceback" not in err
