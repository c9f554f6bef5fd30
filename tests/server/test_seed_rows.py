"""Every error row of every seed can be produced (`reject{row}`) and reaches the
application as its documented EventError code, with the native payload in `data`."""

from __future__ import annotations

import pytest
import yaml

from sim.runner import run_scenario
from sim.scenario import parse_scenario
from statecharts.dialects import DIALECTS, read_error
from statecharts.errors import BadInput

ROWS = [(d.name, r.key) for d in DIALECTS.values() if d.name != "genesys" for r in d.rows]


def _run(dialect: str, fault: dict[str, object]) -> list[dict[str, object]]:
    doc = {
        "name": "one row",
        "seed": 5,
        "duration": 6,
        "cluster": {"instances": 1, "dialect": dialect},
        "traffic": {"client_every": 1.0},
        "faults": [fault],
    }
    result = run_scenario(parse_scenario(yaml.safe_dump(doc), "<row>"))
    assert result.ok, [f.describe() for f in result.failures]
    return [r.data for r in result.records if r.kind == "error"]


@pytest.mark.parametrize(("dialect", "key"), ROWS, ids=[f"{d}:{k[:30]}" for d, k in ROWS])
def test_each_row_reaches_the_application_as_its_mapped_code(dialect: str, key: str) -> None:
    row = DIALECTS[dialect].row(key)
    errors = _run(dialect, {"at": 2.5, "kind": "reject", "row": key})
    assert [e["code"] for e in errors] == [int(row.maps_to)]
    data = errors[0]["data"]
    assert isinstance(data, dict) and data["dialect"] == dialect
    found = read_error(data["native"])
    assert found is not None and found[0] == int(row.maps_to)


def test_a_row_of_another_dialect_is_refused_with_the_field() -> None:
    doc = (
        "duration: 5\ncluster: {dialect: layer}\n"
        "faults:\n  - {kind: reject, row: license_expired}\n"
    )
    with pytest.raises(BadInput) as bad:
        parse_scenario(doc, "x.yaml")
    assert bad.value.field == "row" and bad.value.line == 4


def test_a_session_end_after_a_login_error_ends_nothing_but_the_login() -> None:
    errors = _run("polyai", {"at": 0, "kind": "session_end", "code": 52})
    assert [e["code"] for e in errors] == [52]  # no chat yet: the login is retried
