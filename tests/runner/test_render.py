"""Timeline text, HTML report and expectation matching, on hand-written traces."""

from __future__ import annotations

import re

import pytest

from sim import expect, report, timeline
from sim.scenario import parse_scenario
from statecharts.errors import BadInput
from statecharts.trace import TraceRecord, parse_trace

TRACE = """\
{"kind":"run","scenario":"demo","seed":7,"version":1,"clock":"virtual"}
{"t":0.01,"src":"client:c1","kind":"state","from":"idle","to":"connecting","trigger":"start"}
{"t":0.03,"src":"client:c1","kind":"state","from":"connecting","to":"opening","trigger":"handshake_ok"}
{"t":0.05,"src":"client:c1","kind":"state","from":"opening","to":"ready","trigger":"server_ready"}
{"t":1.0,"src":"client:c1","kind":"message","direction":"out","id":"c1-1"}
{"t":1.02,"src":"client:c1","kind":"message","direction":"in","index":2}
{"t":2.02,"src":"client:c1","kind":"message","direction":"in","index":3}
{"t":20.0,"src":"fault","kind":"fault.start","fault":{"kind":"outage","at":20,"duration":5}}
{"t":20.0,"src":"client:c1","kind":"state","from":"ready","to":"reconnecting","trigger":"connection_lost"}
{"t":20.0,"src":"net","kind":"close","conn":"c1/1","by":"net","reason":"outage"}
{"t":23.0,"src":"client:c1","kind":"state","from":"reconnecting","to":"interrupted","trigger":"interrupt_timeout"}
{"t":23.0,"src":"client:c1","kind":"interrupted"}
{"t":23.0,"src":"client:c1","kind":"error","code":150}
{"t":25.0,"src":"fault","kind":"fault.end","fault":{"kind":"outage","at":20,"duration":5}}
{"t":25.5,"src":"client:c1","kind":"state","from":"interrupted","to":"ready","trigger":"reconnected"}
{"t":25.5,"src":"client:c1","kind":"continued","duration":5.5}
{"t":30.0,"src":"fault","kind":"fault.start","fault":{"kind":"crash","at":30,"instance":"i1","duration":5}}
{"t":35.0,"src":"fault","kind":"fault.end","fault":{"kind":"crash","at":30,"instance":"i1","duration":5}}
"""


def _records() -> tuple[TraceRecord, ...]:
    return parse_trace(TRACE.splitlines()).records


def test_timeline_lines_are_aligned_and_fold_messages() -> None:
    lines = list(timeline.render(_records(), end=30.0))
    assert any("state ready -> reconnecting (connection_lost)" in line for line in lines)
    assert any("messages until 2.020s: 2 in (#2..#3), 1 out" in line for line in lines)
    assert any("fault.start outage{duration: 5}" in line for line in lines)
    assert any("error 150 Network connection interrupted" in line for line in lines)
    assert any("end of scenario" in line for line in lines)
    assert not any("close" in line for line in lines)  # net chatter stays out
    starts = {re.match(r"^\s*[\d.]+s", line).end() for line in lines}  # type: ignore[union-attr]
    assert len(starts) == 1


def test_report_is_one_self_contained_file() -> None:
    page = report.render_html(
        report.ReportInput("demo <run>", 7, 30.0, _records(), ["i1", "i2"], "PASS", [], "tl")
    )
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<script>" in page
    assert "demo &lt;run&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "client c1" in page and "server i1" in page and "i1 crashed 30-35s" in page


def test_expectations_match_kind_fields_and_time() -> None:
    sc = parse_scenario(
        """\
duration: 40
expect:
  - {kind: interrupted, at: 23.0}
  - {kind: error, code: 150, between: [22, 24]}
  - {kind: continued, after: 25.0}
  - {none: interrupted, between: [10, 15]}
  - {kind: message, direction: in, count: 2}
  - {kind: interrupted, at: 22.0}
  - {kind: error, code: 151}
  - {none: error, code: 150}
  - {kind: message, count: 1}
"""
    )
    verdicts = [expect.judge(e, _records()) for e in sc.expect]
    assert verdicts[:5] == [None] * 5
    assert verdicts[5] == "no match; interrupted events at t=23"
    assert verdicts[6] == "no match; error events at t=23"
    assert verdicts[7] == "found 1, first at t=23"
    assert verdicts[8] == "found 3 at t=1, 1.02, 2.02"


def test_a_misspelt_kind_is_bad_input_with_a_suggestion() -> None:
    with pytest.raises(BadInput, match="did you mean interrupted") as info:
        parse_scenario("duration: 9\nexpect:\n  - {kind: interupted}\n")
    assert info.value.line == 3 and info.value.field == "kind"


def test_a_misspelt_field_is_bad_input_and_named() -> None:
    with pytest.raises(BadInput, match=r"a field of error records \(code, data, description\)"):
        parse_scenario("duration: 9\nexpect:\n  - {kind: error, cod: 150}\n")
