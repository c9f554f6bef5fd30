"""One self-contained HTML report of a run: verdict, expectations, swimlanes, timeline.

Everything is inline (CSS, a few lines of JS, SVG): the file opens offline
and can be attached to a bug report. The lanes (`sim.report_lanes`) show each
client's state and events, the faults, and each server instance's state with
the clients attached to it; hovering a mark shows its details. Every
expectation of the scenario is listed with its verdict, on a pass too.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sim import expect
from sim.report_lanes import EVENT_COLOURS, SERVER_COLOURS, STATE_COLOURS, draw
from sim.scenario import Scenario
from statecharts.trace import TraceRecord

Verdicts = Sequence[tuple[str, str | None]]


@dataclass(frozen=True)
class ReportInput:
    title: str
    seed: int
    duration: float
    records: Sequence[TraceRecord]
    instances: Sequence[str]
    verdict: str
    failures: Sequence[str]
    timeline: str
    # (what was expected, None when it held or why it did not), in file order
    expectations: Verdicts = ()


def expectation_verdicts(
    scenario: Scenario, records: Sequence[TraceRecord]
) -> list[tuple[str, str | None]]:
    """Each `expect` item of the scenario with why it failed (None: it held)."""
    return [(exp.describe(), expect.judge(exp, records)) for exp in scenario.expect]


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 6px}
.meta{color:#666;margin-bottom:12px}
.verdict{display:inline-block;padding:4px 10px;border-radius:4px;font-weight:600}
.ok{background:#e5f5e0;color:#006d2c}.fail{background:#fee0d2;color:#a50f15}
svg{border:1px solid #ddd;background:#fff}.lbl{font-size:12px;fill:#333}
.tick{font-size:10px;fill:#888;text-anchor:middle}.grid{stroke:#eee}.sep{stroke:#f2f2f2}
.ev{font-size:10px}.att{font-size:9px}
.evl{font-size:10px;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
#tip{min-height:1.4em;font-family:monospace;font-size:12px;color:#333}
pre{background:#f7f7f7;padding:10px;overflow:auto;max-height:480px;font-size:12px}
table{border-collapse:collapse;margin:12px 0;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f3f3f3}
td.held{color:#006d2c;font-weight:600}td.failed{color:#a50f15;font-weight:600}
.legend{margin:4px 0}.legend b{font-weight:600;font-size:12px;margin-right:6px}
.legend span{display:inline-block;margin-right:10px;font-size:12px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px}
"""
_JS = """
document.querySelectorAll('[data-tip]').forEach(function(el){
  el.addEventListener('mouseenter',function(){
    document.getElementById('tip').textContent=el.getAttribute('data-tip');});
});
"""


_SUMMARY_HEAD = (
    "client",
    "final state",
    "messages in",
    "messages out",
    "interrupted",
    "restored",
    "errors",
)


def _summary(records: Sequence[TraceRecord]) -> str:
    """One row per client: how its session went, in numbers."""
    rows = []
    for cid in sorted({r.client for r in records if r.client is not None}):
        mine = [r for r in records if r.client == cid]
        state = next((str(r.data["to"]) for r in reversed(mine) if r.kind == "state"), "idle")
        codes = Counter(int(r.data["code"]) for r in mine if r.kind == "error")
        cells = (
            cid,
            state,
            sum(1 for r in mine if r.kind == "message" and r.data.get("direction") == "in"),
            sum(1 for r in mine if r.kind == "message" and r.data.get("direction") == "out"),
            sum(1 for r in mine if r.kind == "interrupted"),
            sum(1 for r in mine if r.kind == "restored"),
            ", ".join(f"{c} ({n}x)" for c, n in sorted(codes.items())) or "none",
        )
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in _SUMMARY_HEAD)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _expectations(verdicts: Verdicts) -> str:
    if not verdicts:
        return "<h2>Expectations</h2><p>The scenario has no <code>expect</code> items.</p>"
    rows = []
    for what, why in verdicts:
        verdict = "<td class='held'>held</td>" if why is None else "<td class='failed'>failed</td>"
        rows.append(
            f"<tr><td>{html.escape(what)}</td>{verdict}<td>{html.escape(why or '')}</td></tr>"
        )
    head = "<tr><th>expected</th><th>verdict</th><th>why not</th></tr>"
    return f"<h2>Expectations</h2><table class='expect'>{head}{''.join(rows)}</table>"


def _legend(title: str, colours: dict[str, str]) -> str:
    items = "".join(
        f'<span><i style="background:{c}"></i>{html.escape(s)}</span>' for s, c in colours.items()
    )
    return f"<div class='legend'><b>{title}</b>{items}</div>"


def render_html(data: ReportInput) -> str:
    last = max((r.t for r in data.records), default=0.0)
    end = max(data.duration, last)
    ok = not data.failures
    failures = "".join(f"<li>{html.escape(f)}</li>" for f in data.failures)
    servers = {**SERVER_COLOURS, "client attached": "#2171b5"}
    legends = (
        _legend("client states", STATE_COLOURS)
        + _legend("events", EVENT_COLOURS)
        + _legend("servers", servers)
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>chatsim: {html.escape(data.title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(data.title)}</h1>"
        f"<div class='meta'>seed {data.seed} · {data.duration:g} virtual seconds · "
        f"{len(data.records)} trace events</div>"
        f"<div class='verdict {'ok' if ok else 'fail'}'>{html.escape(data.verdict)}</div>"
        + (f"<ul>{failures}</ul>" if failures else "")
        + _expectations(data.expectations)
        + "<h2>Clients</h2>"
        + _summary(data.records)
        + f"<h2>Swimlanes</h2>{legends}<div id='tip'></div>"
        + draw(data.records, data.instances, end)
        + f"<h2>Timeline</h2><pre>{html.escape(data.timeline)}</pre>"
        f"<script>{_JS}</script></body></html>\n"
    )
