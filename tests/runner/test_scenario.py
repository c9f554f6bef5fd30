"""Scenario files: good ones load, bad ones name the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.faults import Outage
from sim.scenario import load_scenario, parse_scenario
from statecharts.errors import BadInput
from transport.wire import ConnectionType

GOOD = """\
name: demo
seed: 7
duration: 60
cluster: {instances: 2, session_ttl: 60}
client: {interrupt_after: 3.0, transport: long-polling}
traffic: {client_every: 1.0, agent_every: 2.0}
faults:
  - {at: 10, kind: outage, duration: 0.5}
expect:
  - {kind: interrupted, at: 23.0}
  - {kind: error, code: 150, between: [20, 30]}
  - {none: interrupted, between: [10, 15]}
  - {kind: message, direction: in, count: 3}
"""


def test_good_file_loads() -> None:
    sc = parse_scenario(GOOD, "good.yaml")
    assert sc.name == "demo" and sc.seed == 7 and sc.duration == 60.0
    assert sc.cluster.names == ["i1", "i2"]
    assert sc.client.transport is ConnectionType.LONG_POLLING
    assert sc.faults == (Outage(at=10.0, duration=0.5),)
    first, err, none, count = sc.expect
    assert first.at == 23.0 and first.line == 10
    assert err.fields == (("code", 150),) and (err.after, err.before) == (20.0, 30.0)
    assert none.none and none.kind == "interrupted"
    assert count.count == 3 and count.fields == (("direction", "in"),)


def test_several_clients() -> None:
    sc = parse_scenario("duration: 5\nclient: {interrupt_after: 5}\nclients: 3\n")
    assert [c.id for c in sc.clients] == ["c1", "c2", "c3"]
    assert all(c.interrupt_after == 5.0 for c in sc.clients)
    sc = parse_scenario("duration: 5\nclients:\n  - {id: a}\n  - {transport: long-polling}\n")
    assert [c.id for c in sc.clients] == ["a", "c2"]


def _bad(text: str) -> BadInput:
    with pytest.raises(BadInput) as info:
        parse_scenario(text, "bad.yaml")
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("duration: 5\nfaults:\n  - {at: 1, kind: meteor}\n", 3, "kind", "outage"),
        ("duration: 5\nfaults:\n  - {at: 1, kind: outage}\n", 3, "duration", "duration"),
        (
            "duration: 5\nfaults:\n  - at: 1\n    kind: outage\n    duration: long\n",
            5,
            "duration",
            "a number",
        ),
        ("duration: 5\nclient: {interrupt_after: soon}\n", 2, "client.interrupt_after", "number"),
        ("duration: 5\nwhatever: 1\n", 2, "whatever", "a key of scenario"),
        ("duration: 5\nclient: {colour: red}\n", 2, "colour", "a key of client"),
        ("duration: 5\ncluster: {instances: 0}\n", 2, "cluster.instances", "integer >= 1"),
        ("duration: 5\nfaults:\n  - {at: 1, kind: loss, q: 1}\n", 3, "q", "a key of a loss"),
        (
            "duration: 5\nfaults:\n  - {kind: crash, instance: i9, duration: 1}\n",
            3,
            "instance",
            "i1",
        ),
        ("duration: 5\nexpect:\n  - {at: 3}\n", 3, "expect", "kind"),
        ("duration: 5\nexpect:\n  - {kind: error, between: [3]}\n", 3, "between", "two times"),
        ("duration: 5\nexpect:\n  - {kind: error, at: 1, after: 2}\n", 3, "after", "one time"),
        ("seed: 1\n", 1, "duration", "virtual seconds"),
        ("duration: 5\nclient: {transport: pigeon}\n", 2, "client.transport", "websocket"),
    ],
)
def test_bad_files_name_line_and_key(text: str, line: int, field: str, words: str) -> None:
    err = _bad(text)
    assert err.line == line and err.field == field and words in err.expected
    assert str(err).startswith(f"bad.yaml:{line}:")


def test_yaml_syntax_error_has_a_line() -> None:
    err = _bad("duration: 5\nclient: {a: [\n")
    assert err.line is not None and "valid YAML" in err.expected


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")


def test_actions_load_and_name_bad_keys() -> None:
    sc = parse_scenario(
        "duration: 9\nactions:\n  - {at: 2, do: send, text: hi}\n  - {at: 3, do: agent}\n"
    )
    assert [(a.at, a.do, a.text, a.line) for a in sc.actions] == [
        (2.0, "send", "hi", 3),
        (3.0, "agent", None, 4),
    ]
    err = _bad("duration: 9\nactions:\n  - {at: 2, do: dance}\n")
    assert (err.line, err.field) == (3, "do") and "send" in err.expected
    err = _bad("duration: 9\nactions:\n  - {at: 2, do: send, client: zed}\n")
    assert (err.line, err.field) == (3, "client")
    err = _bad("duration: 9\nactions:\n  - {do: send}\n")
    assert err.field == "at"


def test_unknown_dialect_is_named() -> None:
    err = _bad("duration: 9\ncluster: {dialect: klingon}\n")
    assert (err.line, err.field) == (2, "cluster.dialect") and "genesys" in err.expected


def test_number_like_text_and_bounds() -> None:
    err = _bad("duration: 1e3\n")
    assert err.field == "duration" and "write it with a dot" in err.expected
    assert parse_scenario("duration: 1.0e+3\n").duration == 1000.0
    assert "a week" in _bad("duration: 9999999\n").expected
    assert "scenario mapping" in _bad("- 1\n").expected
    err = _bad("duration: 5\nfaults:\n  - {at: 1, kind: latency, ms: 1e3}\n")
    assert (err.line, err.field) == (3, "ms") and "with a dot" in err.expected
