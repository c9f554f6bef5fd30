"""The report's parts without a browser: label rows, attachments, server states, verdicts."""

from __future__ import annotations

from sim import report, report_lanes
from sim.scenario import parse_scenario
from statecharts.trace import parse_trace

TRACE = """\
{"kind":"run","scenario":"x","seed":1,"version":1}
{"t":0.02,"src":"net","kind":"open","conn":"c1/1","instance":"i1"}
{"t":1.0,"src":"client:c1","kind":"error","code":100}
{"t":1.0,"src":"client:c1","kind":"interrupted"}
{"t":2.0,"src":"fault","kind":"fault.start","fault":{"kind":"not_ready","at":2,"duration":3}}
{"t":3.0,"src":"net","kind":"close","conn":"c1/1","by":"net","reason":"outage"}
{"t":3.5,"src":"net","kind":"open","conn":"c1/2","instance":"i2"}
{"t":5.0,"src":"fault","kind":"fault.end","fault":{"kind":"not_ready","at":2,"duration":3}}
"""


def test_labels_at_one_moment_get_rows_of_their_own() -> None:
    assert report_lanes.pack_rows([(0, 50), (10, 60), (55, 90), (100, 120)]) == [0, 1, 0, 0]


def test_attachments_and_server_states_come_from_the_trace() -> None:
    records = parse_trace(TRACE.splitlines()).records
    links = report_lanes.attachments(records, end=10.0)
    assert [(a.client, a.instance, a.start, a.end) for a in links] == [
        ("c1", "i1", 0.02, 3.0),
        ("c1", "i2", 3.5, 10.0),
    ]
    spans = report_lanes.fault_spans(records, 10.0)
    assert report_lanes.server_states(spans, "i2") == [(2.0, 5.0, "not ready")]


def test_expectations_are_listed_with_their_verdicts() -> None:
    records = parse_trace(TRACE.splitlines()).records
    scenario = parse_scenario(
        "duration: 10\nexpect:\n  - {kind: error, code: 100}\n  - {kind: continued}\n"
    )
    verdicts = report.expectation_verdicts(scenario, records)
    assert verdicts == [("error code=100", None), ("continued", "no continued event at all")]
    page = report.render_html(
        report.ReportInput("x", 1, 10.0, records, ["i1", "i2"], "FAIL", ["f"], "", verdicts)
    )
    assert "<td class='held'>held</td>" in page and "<td class='failed'>failed</td>" in page
    assert "c1 attached to i2 3.5-10s" in page and "i2 not ready 2-5s" in page
