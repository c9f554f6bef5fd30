"""The conformance checker accepts legal traces and rejects planted faults."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.cli import main
from statecharts.checker import check_trace
from statecharts.trace import Trace, TraceRecord, parse_trace
from tests.model.legal_traces import IA, legal_traces

APP_ONLY = """{"kind":"run","scenario":"widget","seed":null,"version":1}
{"t":0.4,"src":"client:w","kind":"ready"}
{"t":1.0,"src":"client:w","kind":"message","direction":"in","index":1}
{"t":2.0,"src":"client:w","kind":"message","direction":"out","id":"w-1"}
{"t":2.05,"src":"client:w","kind":"ack","id":"w-1","index":2}
{"t":2.1,"src":"client:w","kind":"message","direction":"in","index":2,"id":"w-1"}
{"t":13.0,"src":"client:w","kind":"interrupted"}
{"t":13.0,"src":"client:w","kind":"error","code":150,"description":"Network connection interrupted"}
{"t":14.5,"src":"client:w","kind":"continued","duration":4.5}
{"t":15.0,"src":"client:w","kind":"message","direction":"in","index":3}
{"t":20.0,"src":"client:w","kind":"ended"}
"""


def renumber(records: list[TraceRecord]) -> Trace:
    fixed = tuple(dataclasses.replace(r, line=i + 2) for i, r in enumerate(records))
    return Trace(None, fixed)


def rules(trace: Trace) -> set[str]:
    return {v.rule for v in check_trace(trace, interrupt_after=IA, tolerance=1e-6)}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(legal_traces())
def test_checker_accepts_every_legal_trace(trace: Trace) -> None:
    assert check_trace(trace) == []


@given(legal_traces(), st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_checker_rejects_single_mutations(trace: Trace, data: st.DataObject) -> None:
    records = list(trace.records)
    kinds = [r.kind for r in records]
    inbound = [i for i, r in enumerate(records) if r.kind == "message"]
    choices = []
    if "interrupted" in kinds:
        choices += ["drop_interrupted", "early_interrupted", "swap_interruption"]
    if "continued" in kinds:
        choices.append("duplicate_continued")
    if inbound:
        choices.append("repeat_index")
    if len(inbound) >= 2:
        choices.append("swap_messages")
    assume(choices)
    mutation = data.draw(st.sampled_from(choices))
    mutated = MUTATIONS[mutation](records, data)
    assert rules(renumber(mutated)), f"{mutation} was not caught"


def _drop_interrupted(records: list[TraceRecord], data: st.DataObject) -> list[TraceRecord]:
    spots = [i for i, r in enumerate(records) if r.kind == "interrupted"]
    victim = data.draw(st.sampled_from(spots))
    return records[:victim] + records[victim + 1 :]


def _early_interrupted(records: list[TraceRecord], data: st.DataObject) -> list[TraceRecord]:
    spots = [i for i, r in enumerate(records) if r.kind == "interrupted"]
    victim = data.draw(st.sampled_from(spots))
    early = records[victim].t - data.draw(st.sampled_from([0.25, 1.0, 2.0]))
    out = list(records)
    for i, r in enumerate(out):
        same_moment = r.t == records[victim].t and r.kind in ("interrupted", "error", "state")
        if same_moment and (r.kind != "state" or r.data.get("trigger") == "interrupt_timeout"):
            out[i] = dataclasses.replace(r, t=early)
    return sorted(out, key=lambda r: r.t)


def _swap_interruption(records: list[TraceRecord], data: st.DataObject) -> list[TraceRecord]:
    start = data.draw(
        st.sampled_from([i for i, r in enumerate(records) if r.kind == "interrupted"])
    )
    end = next(i for i in range(start, len(records)) if records[i].kind == "continued")
    out = list(records)
    out[start] = dataclasses.replace(records[end], t=records[start].t)
    out[end] = dataclasses.replace(records[start], t=records[end].t)
    return out


def _duplicate_continued(records: list[TraceRecord], data: st.DataObject) -> list[TraceRecord]:
    spot = data.draw(st.sampled_from([i for i, r in enumerate(records) if r.kind == "continued"]))
    return [*records[: spot + 1], records[spot], *records[spot + 1 :]]


def _repeat_index(records: list[TraceRecord], data: st.DataObject) -> list[TraceRecord]:
    spot = data.draw(st.sampled_from([i for i, r in enumerate(records) if r.kind == "message"]))
    return [*records[: spot + 1], records[spot], *records[spot + 1 :]]


def _swap_messages(records: list[TraceRecord], data: st.DataObject) -> list[TraceRecord]:
    spots = [i for i, r in enumerate(records) if r.kind == "message"]
    a = data.draw(st.sampled_from(spots[:-1]))
    b = data.draw(st.sampled_from([s for s in spots if s > a]))
    out = list(records)
    out[a] = dataclasses.replace(records[b], t=records[a].t)
    out[b] = dataclasses.replace(records[a], t=records[b].t)
    return out


MUTATIONS = {
    "drop_interrupted": _drop_interrupted,
    "early_interrupted": _early_interrupted,
    "swap_interruption": _swap_interruption,
    "duplicate_continued": _duplicate_continued,
    "repeat_index": _repeat_index,
    "swap_messages": _swap_messages,
}


@pytest.mark.parametrize("with_state", [True, False])
def test_early_interrupted_is_i2(with_state: bool) -> None:
    lines = [
        TraceRecord(1.0, "client:c", "loss", {"reason": "closed"}),
        TraceRecord(2.0, "client:c", "interrupted"),
        TraceRecord(6.0, "client:c", "continued", {"duration": 5.0}),
    ]
    assert "I2" in rules(renumber(lines if with_state else lines[1:]))


def test_missing_interrupted_after_long_loss_is_i2() -> None:
    lines = [
        TraceRecord(
            1.0, "client:c", "state", {"from": "idle", "to": "connecting", "trigger": "start"}
        ),
        TraceRecord(
            1.0,
            "client:c",
            "state",
            {"from": "connecting", "to": "reconnecting", "trigger": "connection_lost"},
        ),
        TraceRecord(
            9.0,
            "client:c",
            "state",
            {"from": "reconnecting", "to": "ready", "trigger": "reconnected"},
        ),
    ]
    assert rules(renumber(lines)) == {"I2"}


def test_150_twice_and_150_alone_are_i3() -> None:
    e150 = {"code": 150, "description": "Network connection interrupted"}
    twice = [
        TraceRecord(3.0, "client:c", "interrupted"),
        TraceRecord(3.0, "client:c", "error", e150),
        TraceRecord(3.0, "client:c", "error", e150),
        TraceRecord(4.0, "client:c", "continued", {"duration": 4.0}),
    ]
    assert rules(renumber(twice)) == {"I3"}
    assert rules(renumber([TraceRecord(3.0, "client:c", "error", e150)])) == {"I3"}


def test_anything_after_152_is_i5() -> None:
    lines = [
        TraceRecord(1.0, "client:c", "error", {"code": 152, "description": "x"}),
        TraceRecord(2.0, "client:c", "message", {"direction": "in", "index": 4}),
        TraceRecord(3.0, "client:c", "ended"),
    ]
    assert rules(renumber(lines)) == {"I5"}


def test_illegal_state_path_is_i7() -> None:
    lines = [
        TraceRecord(0.0, "client:c", "state", {"from": "idle", "to": "ready", "trigger": "start"}),
    ]
    assert rules(renumber(lines)) == {"I7"}


def test_clients_are_judged_apart() -> None:
    lines = [
        TraceRecord(1.0, "client:a", "message", {"direction": "in", "index": 1}),
        TraceRecord(1.0, "client:b", "message", {"direction": "in", "index": 1}),
        TraceRecord(1.0, "server:i1", "session.start", {"chatId": "x"}),
    ]
    assert rules(renumber(lines)) == set()


# -- the command line, as the acceptance cases ----------------------
def test_check_accepts_an_application_only_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "widget.jsonl"
    path.write_text(APP_ONLY)
    assert main(["check", str(path)]) == 0
    assert "OK" in capsys.readouterr().out


def test_check_names_line_3_for_an_orphan_continued(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.jsonl"
    lines = APP_ONLY.splitlines()
    lines.insert(2, '{"t":0.5,"src":"client:w","kind":"continued","duration":1.0}')
    path.write_text("\n".join(lines) + "\n")
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "line 3:" in out and "I1" in out and "expected an interrupted before it" in out


def test_check_non_json_line_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(APP_ONLY.replace('{"t":1.0,', "oops {", 1))
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "broken.jsonl:3" in err and "JSON" in err


def test_check_missing_file_and_bad_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    path = tmp_path / "field.jsonl"
    path.write_text('{"t":"soon","src":"client:w","kind":"ready"}\n')
    assert main(["check", str(path)]) == 2
    assert "field.jsonl:1: t: expected a non-negative number" in capsys.readouterr().err


def test_interrupt_after_option_changes_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w.jsonl"
    path.write_text(APP_ONLY)
    assert main(["check", str(path), "--interrupt-after", "1.0"]) == 1
    assert "I2" in capsys.readouterr().out


def test_trace_round_trip() -> None:
    trace = parse_trace(APP_ONLY.splitlines())
    assert trace.header is not None and trace.header.scenario == "widget"
    again = parse_trace([trace.header.to_json(), *(r.to_json() for r in trace.records)])
    assert [r.to_json() for r in again.records] == [r.to_json() for r in trace.records]
    assert trace.records[5].event().kind == "interrupted"


def test_diagnostics_after_152_are_not_i5() -> None:
    lines = [
        TraceRecord(1.0, "client:c", "error", {"code": 152, "description": "x"}),
        TraceRecord(1.0, "client:c", "send_failed", {"id": "c-m1", "code": 152}),
        TraceRecord(1.0, "client:c", "action.skipped", {"do": "send"}),
        TraceRecord(1.0, "client:c", "ended"),
    ]
    assert rules(renumber(lines)) == set()
