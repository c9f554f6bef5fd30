"""One self-contained HTML report of a run: swimlanes, verdict and timeline.

Everything is inline (CSS, a few lines of JS, SVG): the file opens offline
and can be attached to a bug report. Lanes: each client's state over time,
the faults, each server instance (down while crashed), and the application
events. Hovering a mark shows its details.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sim import expect
from sim.scenario import Scenario
from statecharts.trace import TraceRecord

WIDTH = 1000  # px of the time axis
LANE = 26
EVENT_LANE = 50  # three rows of labels
LABEL_ROW = 13
FAULT_ROW = 18
CHAR_W = 5.6  # px per character of a 10px label, roughly
LABEL = 120
STATE_COLOURS = {
    "idle": "#d9d9d9",
    "connecting": "#9ecae1",
    "opening": "#6baed6",
    "ready": "#74c476",
    "reconnecting": "#fdd0a2",
    "interrupted": "#fb6a4a",
    "restoring": "#bcbddc",
    "ended": "#969696",
    "failed": "#67000d",
}
EVENT_COLOURS = {
    "interrupted": "#cb181d",
    "continued": "#238b45",
    "error": "#a50f15",
    "restored": "#6a51a3",
    "ready": "#31a354",
    "ended": "#525252",
    "send_failed": "#e6550d",
}


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
    expectations: Sequence[tuple[str, str | None]] = ()


def expectation_verdicts(
    scenario: Scenario, records: Sequence[TraceRecord]
) -> list[tuple[str, str | None]]:
    """Each `expect` item of the scenario with why it failed (None: it held)."""
    return [(exp.describe(), expect.judge(exp, records)) for exp in scenario.expect]


class _Svg:
    """An SVG drawn lane by lane, top to bottom; `y` is the current lane's top."""

    def __init__(self, end: float) -> None:
        self.end = max(end, 1e-9)
        self.parts: list[str] = []
        self.y = 20.0
        self.height = float(LANE)  # of the current lane
        self._label_ends: list[float] = []

    def x(self, t: float) -> float:
        return LABEL + WIDTH * min(max(t, 0.0), self.end) / self.end

    def lane(self, title: str, height: float = LANE) -> None:
        self.height = height
        self._label_ends = [0.0] * max(1, int(height // LABEL_ROW))
        self.parts.append(
            f'<text x="4" y="{self.y + min(height, LANE) * 0.65:.1f}" class="lbl">'
            f"{html.escape(title)}</text>"
        )

    def band(
        self, t0: float, t1: float, colour: str, tip: str, *, top: float = 3, h: float = 0
    ) -> None:
        x0, x1 = self.x(t0), self.x(t1)
        height = h or self.height - 6
        self.parts.append(
            f'<rect x="{x0:.2f}" y="{self.y + top:.1f}" width="{max(x1 - x0, 1.5):.2f}" '
            f'height="{height:.1f}" fill="{colour}" data-tip="{html.escape(tip)}">'
            f"<title>{html.escape(tip)}</title></rect>"
        )

    def text(self, x: float, y: float, text: str, colour: str = "#333") -> None:
        self.parts.append(
            f'<text x="{x:.2f}" y="{y:.1f}" class="ev" fill="{colour}">{html.escape(text)}</text>'
        )

    def mark(self, t: float, colour: str, tip: str, label: str = "", small: bool = False) -> None:
        """A tick; its label goes in the first text row where it does not overlap."""
        x = self.x(t)
        h = 8.0 if small else self.height - 6
        y0 = self.y + (3 if not small else self.height - 11)
        self.parts.append(
            f'<g data-tip="{html.escape(tip)}"><title>{html.escape(tip)}</title>'
            f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{y0:.1f}" y2="{y0 + h:.1f}" '
            f'stroke="{colour}" stroke-width="{1 if small else 2.5}"/></g>'
        )
        if label:
            width = CHAR_W * len(label) + 4
            for row, free_from in enumerate(self._label_ends):
                if x + 3 >= free_from:
                    self._label_ends[row] = x + 3 + width
                    self.text(x + 3, self.y + 11 + row * LABEL_ROW, label, colour)
                    break

    def next_lane(self) -> None:
        self.y += self.height
        self.parts.append(
            f'<line x1="{LABEL}" x2="{LABEL + WIDTH}" y1="{self.y:.1f}" '
            f'y2="{self.y:.1f}" class="sep"/>'
        )

    def axis(self) -> None:
        step = _nice_step(self.end)
        t = 0.0
        while t <= self.end + 1e-9:
            x = self.x(t)
            self.parts.append(
                f'<line x1="{x:.2f}" x2="{x:.2f}" y1="14" y2="{self.y:.1f}" class="grid"/>'
                f'<text x="{x:.2f}" y="11" class="tick">{t:g}s</text>'
            )
            t += step

    def svg(self) -> str:
        height = self.y + 10
        width = LABEL + WIDTH + 90  # room for labels of late events
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
            f'viewBox="0 0 {width} {height:.0f}">' + "".join(self.parts) + "</svg>"
        )


def _nice_step(end: float) -> float:
    raw = end / 10
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        if step >= raw:
            return float(step)
    return float(round(raw, -3) or 3600)


Span = tuple[float, float, dict[str, object]]


def _client_lanes(svg: _Svg, records: Sequence[TraceRecord], end: float) -> None:
    clients = sorted({r.client for r in records if r.client is not None})
    for cid in clients:
        mine = [r for r in records if r.client == cid]
        svg.lane(f"client {cid}")
        state, since = "idle", 0.0
        for rec in mine:
            if rec.kind == "state":
                tip = f"{state} {since:g}-{rec.t:g}s"
                svg.band(since, rec.t, STATE_COLOURS.get(state, "#ccc"), tip)
                state, since = str(rec.data.get("to")), rec.t
        svg.band(since, end, STATE_COLOURS.get(state, "#ccc"), f"{state} from {since:g}s")
        svg.next_lane()
        svg.lane(f"  {cid} events", EVENT_LANE)
        for rec in mine:
            _event_mark(svg, rec)
        svg.next_lane()


def _event_mark(svg: _Svg, rec: TraceRecord) -> None:
    tip = f"{rec.t:.6f}s {rec.kind} {json.dumps(rec.data, sort_keys=True)}"
    if rec.kind == "message":
        colour = "#3182bd" if rec.data.get("direction") == "in" else "#9e9ac8"
        svg.mark(rec.t, colour, tip, small=True)
    elif rec.kind in EVENT_COLOURS:
        label = f"error {rec.data.get('code', '')}" if rec.kind == "error" else rec.kind
        svg.mark(rec.t, EVENT_COLOURS[rec.kind], tip, label)


def _fault_spans(records: Sequence[TraceRecord], end: float) -> list[Span]:
    open_: dict[str, list[tuple[float, dict[str, object]]]] = {}
    spans: list[Span] = []
    for rec in records:
        fault = rec.data.get("fault")
        if not isinstance(fault, dict):
            continue
        key = json.dumps(fault, sort_keys=True)
        if rec.kind == "fault.start":
            open_.setdefault(key, []).append((rec.t, fault))
        elif rec.kind == "fault.end" and open_.get(key):
            t0, f = open_[key].pop(0)
            spans.append((t0, rec.t, f))
    for started in open_.values():
        spans.extend((t0, end if f.get("duration") is not None else t0, f) for t0, f in started)
    return sorted(spans, key=lambda s: (s[0], s[1]))


def _pack(spans: list[Span], svg: _Svg) -> list[list[Span]]:
    """Rows of spans that do not overlap on screen (labels included)."""
    rows: list[list[Span]] = []
    ends: list[float] = []
    for span in spans:
        t0, t1, fault = span
        right = max(svg.x(t1), svg.x(t0) + CHAR_W * len(str(fault.get("kind"))) + 6)
        for n, free_from in enumerate(ends):
            if svg.x(t0) >= free_from:
                rows[n].append(span)
                ends[n] = right
                break
        else:
            rows.append([span])
            ends.append(right)
    return rows or [[]]


def _fault_lane(svg: _Svg, spans: list[Span]) -> None:
    rows = _pack(spans, svg)
    svg.lane("faults", max(LANE, FAULT_ROW * len(rows) + 6))
    for n, row in enumerate(rows):
        top = 3 + n * FAULT_ROW
        for t0, t1, fault in row:
            kind = str(fault.get("kind"))
            tip = f"{t0:g}-{t1:g}s {json.dumps(fault, sort_keys=True)}"
            colour = "#fc9272" if t1 > t0 else "#de2d26"
            svg.band(t0, t1, colour, tip, top=top, h=FAULT_ROW - 3)
            svg.text(svg.x(t0) + 3, svg.y + top + FAULT_ROW - 7, kind)
    svg.next_lane()


def _server_lanes(svg: _Svg, spans: list[Span], instances: Sequence[str]) -> None:
    for name in instances:
        svg.lane(f"server {name}")
        svg.band(0.0, svg.end, "#c7e9c0", f"{name} up")
        for t0, t1, fault in spans:
            if fault.get("kind") == "crash" and fault.get("instance") in (name, None):
                svg.band(t0, t1, "#525252", f"{name} down {t0:g}-{t1:g}s")
        svg.next_lane()


_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px}.meta{color:#666;margin-bottom:12px}
.verdict{display:inline-block;padding:4px 10px;border-radius:4px;font-weight:600}
.ok{background:#e5f5e0;color:#006d2c}.fail{background:#fee0d2;color:#a50f15}
svg{border:1px solid #ddd;background:#fff}.lbl{font-size:12px;fill:#333}
.tick{font-size:10px;fill:#888;text-anchor:middle}.grid{stroke:#eee}.sep{stroke:#f2f2f2}
.ev{font-size:10px}#tip{min-height:1.4em;font-family:monospace;font-size:12px;color:#333}
pre{background:#f7f7f7;padding:10px;overflow:auto;max-height:480px;font-size:12px}
table{border-collapse:collapse;margin:12px 0;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f3f3f3}
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


def render_html(data: ReportInput) -> str:
    last = max((r.t for r in data.records), default=0.0)
    end = max(data.duration, last)
    svg = _Svg(end)
    spans = _fault_spans(data.records, end)
    _client_lanes(svg, data.records, end)
    _fault_lane(svg, spans)
    _server_lanes(svg, spans, data.instances)
    svg.axis()
    ok = not data.failures
    legend = "".join(
        f'<span><i style="background:{c}"></i>{html.escape(s)}</span>'
        for s, c in STATE_COLOURS.items()
    )
    failures = "".join(f"<li>{html.escape(f)}</li>" for f in data.failures)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>chatsim: {html.escape(data.title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(data.title)}</h1>"
        f"<div class='meta'>seed {data.seed} · {data.duration:g} virtual seconds · "
        f"{len(data.records)} trace events</div>"
        f"<div class='verdict {'ok' if ok else 'fail'}'>{html.escape(data.verdict)}</div>"
        + (f"<ul>{failures}</ul>" if failures else "")
        + _summary(data.records)
        + f"<div class='legend'>{legend}</div><div id='tip'></div>{svg.svg()}"
        f"<h2>Timeline</h2><pre>{html.escape(data.timeline)}</pre>"
        f"<script>{_JS}</script></body></html>\n"
    )
