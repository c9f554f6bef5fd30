"""Every error row of every seed can be produced (`reject{row}`) and reaches the
application as its documented EventError code, with the native payload in `data`."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

import sim
from sim.runner import run_scenario
from sim.scenario import parse_scenario
from sim.server import Cluster, MemoryStore
from statecharts.dialects import DIALECTS, SESSION_END_TYPES, read_error
from statecharts.errors import BadInput
from tests.server.bayeux_script import ScriptClient, World
from transport.wire import Operation, is_uuid, login_id

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
    ended = [50] if row.ends_session else []  # then SESSION_END: the chat is over
    assert [e["code"] for e in errors] == [int(row.maps_to), *ended]
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


@pytest.mark.parametrize(
    ("dialect", "request_id", "refused"),
    [
        ("layer", "login-1", True),
        ("layer", "0f8fad5b-d9cb-469f-a165-70867728950e", False),
        ("genesys", "login-1", False),
    ],
)
def test_layer_refuses_a_request_id_that_is_not_a_uuid(
    dialect: str, request_id: str, refused: bool
) -> None:
    cluster = Cluster(["i1"], MemoryStore(), rng=random.Random(1), dialect=dialect)
    client = ScriptClient(World(cluster), "i1", conn="c")
    client.handshake(0.0)
    answer = client.chat(Operation.REQUEST_CHAT, 0.1, nickname="n", clientRequestId=request_id)
    if refused:
        assert (answer["error"]["id"], answer["error"]["code"]) == ("invalid_request_id", 3)
        assert read_error(answer["error"]) is not None
    else:
        assert "result" in answer


def test_our_client_logs_in_with_uuids() -> None:
    assert is_uuid(login_id("c1", 0)) and login_id("c1", 1) != login_id("c2", 1)
    assert not is_uuid("c1-00000000002a") and not is_uuid(None)


def test_the_demo_widget_knows_every_session_end_event() -> None:
    widget = Path(sim.__file__).parent / "assets" / "widget" / "demo.js"
    source = widget.read_text()
    assert all(f'"{kind}"' in source for kind in SESSION_END_TYPES)
