"""The swimlanes of the HTML report, as one inline SVG.

Lanes, top to bottom: per client its state over time and its application
events; the faults; per server instance its state (up, crashed, not ready)
with the clients attached to it over time. Labels never overlap: a lane gets
as many label rows as its busiest moment needs. Every mark carries its
details in a tooltip (`data-tip` and `<title>`).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

from statecharts.trace import TraceRecord

WIDTH = 1000  # px of the time axis
LANE = 26
ROW = 14  # one row of 10px labels
TICKS = 8  # the strip of event ticks on top of an event lane
FAULT_ROW = 18
ATTACH_ROW = 13
MAX_ATTACH_ROWS = 10  # clients drawn per server lane
CHAR_W = 5.8  # px per character of a 10px label, roughly
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
    "ready": "#31a354",
    "interrupted": "#cb181d",
    "continued": "#238b45",
    "error": "#a50f15",
    "restored": "#6a51a3",
    "send_failed": "#e6550d",
    "ended": "#525252",
}
SERVER_COLOURS = {"up": "#c7e9c0", "crashed": "#525252", "not ready": "#fee391"}
ATTACH_COLOUR = "#2171b5"

Span = tuple[float, float, dict[str, object]]


class Svg:
    """An SVG drawn lane by lane, top to bottom; `y` is the current lane's top."""

    def __init__(self, end: float) -> None:
        self.end = max(end, 1e-9)
        self.parts: list[str] = []
        self.y = 20.0
        self.height = float(LANE)

    def x(self, t: float) -> float:
        return LABEL + WIDTH * min(max(t, 0.0), self.end) / self.end

    def lane(self, title: str, height: float = LANE) -> None:
        self.height = height
        self.parts.append(
            f'<text x="4" y="{self.y + min(height, LANE) * 0.65:.1f}" class="lbl">'
            f"{html.escape(title)}</text>"
        )

    def band(self, t0: float, t1: float, colour: str, tip: str, *, top: float, h: float) -> None:
        x0, x1 = self.x(t0), self.x(t1)
        self.parts.append(
            f'<rect x="{x0:.2f}" y="{self.y + top:.1f}" width="{max(x1 - x0, 1.5):.2f}" '
            f'height="{h:.1f}" fill="{colour}" data-tip="{html.escape(tip)}">'
            f"<title>{html.escape(tip)}</title></rect>"
        )

    def line(self, x: float, ys: tuple[float, float], colour: str, tip: str, width: float) -> None:
        self.parts.append(
            f'<g data-tip="{html.escape(tip)}"><title>{html.escape(tip)}</title>'
            f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{ys[0]:.1f}" y2="{ys[1]:.1f}" '
            f'stroke="{colour}" stroke-width="{width}"/></g>'
        )

    def text(
        self, x: float, y: float, text: str, *, colour: str = "#333", tip: str = "", cls: str = "ev"
    ) -> None:
        label = (
            f'<text x="{x:.2f}" y="{y:.1f}" class="{cls}" fill="{colour}">'
            f"{html.escape(text)}</text>"
        )
        if tip:
            label = f'<g data-tip="{html.escape(tip)}"><title>{html.escape(tip)}</title>{label}</g>'
        self.parts.append(label)

    def next_lane(self) -> None:
        self.y += self.height
        self.parts.append(
            f'<line x1="{LABEL}" x2="{LABEL + WIDTH}" y1="{self.y:.1f}" '
            f'y2="{self.y:.1f}" class="sep"/>'
        )

    def axis(self) -> None:
        step = _nice_step(self.end)
        n = 0
        while n * step <= self.end + 1e-9:
            t = n * step
            x = self.x(t)
            self.parts.append(
                f'<line x1="{x:.2f}" x2="{x:.2f}" y1="14" y2="{self.y:.1f}" class="grid"/>'
                f'<text x="{x:.2f}" y="11" class="tick">{t:g}s</text>'
            )
            n += 1

    def svg(self) -> str:
        height = self.y + 10
        width = LABEL + WIDTH + 110  # room for labels of late events
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


def pack_rows(items: Sequence[tuple[float, float]]) -> list[int]:
    """A row for each (left, right) extent, in order, so that no two in a row overlap."""
    ends: list[float] = []
    rows = []
    for left, right in items:
        for n, free_from in enumerate(ends):
            if left >= free_from:
                ends[n] = right
                rows.append(n)
                break
        else:
            ends.append(right)
            rows.append(len(ends) - 1)
    return rows


# -- clients ----------------------------------------------------------------------------
def client_lanes(svg: Svg, records: Sequence[TraceRecord], end: float) -> None:
    for cid in sorted({r.client for r in records if r.client is not None}):
        mine = [r for r in records if r.client == cid]
        svg.lane(f"client {cid}")
        state, since = "idle", 0.0
        for rec in mine:
            if rec.kind == "state":
                tip = f"{cid} {state} {since:g}-{rec.t:g}s"
                svg.band(since, rec.t, STATE_COLOURS.get(state, "#ccc"), tip, top=3, h=LANE - 6)
                state, since = str(rec.data.get("to")), rec.t
        tip = f"{cid} {state} from {since:g}s"
        svg.band(since, end, STATE_COLOURS.get(state, "#ccc"), tip, top=3, h=LANE - 6)
        svg.next_lane()
        _event_lane(svg, cid, mine)


def event_label(rec: TraceRecord) -> str | None:
    if rec.kind not in EVENT_COLOURS:
        return None
    if rec.kind in ("error", "send_failed"):
        return f"{rec.kind.replace('_', ' ')} {rec.data.get('code', '')}"
    return rec.kind


def _event_lane(svg: Svg, cid: str, mine: Sequence[TraceRecord]) -> None:
    labelled = [(r, text) for r in mine if (text := event_label(r)) is not None]
    extents = [(svg.x(r.t), svg.x(r.t) + 8 + CHAR_W * len(text)) for r, text in labelled]
    rows = pack_rows(extents)
    svg.lane(f"  {cid} events", TICKS + 4 + ROW * (max(rows, default=0) + 1) + 8)
    for rec in mine:
        tip = f"{rec.t:.6f}s {rec.kind} {json.dumps(rec.data, sort_keys=True)}"
        if rec.kind == "message":
            colour = "#3182bd" if rec.data.get("direction") == "in" else "#9e9ac8"
            svg.line(svg.x(rec.t), (svg.y + 2, svg.y + TICKS), colour, tip, 1)
    # Lines first, then labels with a white halo (CSS), so no line crosses a label.
    placed = list(zip(labelled, rows, strict=True))
    for (rec, _), row in placed:
        tip = f"{rec.t:.6f}s {rec.kind} {json.dumps(rec.data, sort_keys=True)}"
        base = svg.y + TICKS + 4 + ROW * row
        svg.line(svg.x(rec.t), (svg.y + 2, base + ROW - 2), EVENT_COLOURS[rec.kind], tip, 2)
    for (rec, text), row in placed:
        tip = f"{rec.t:.6f}s {rec.kind} {json.dumps(rec.data, sort_keys=True)}"
        base = svg.y + TICKS + 4 + ROW * row
        svg.text(
            svg.x(rec.t) + 3,
            base + ROW - 4,
            text,
            colour=EVENT_COLOURS[rec.kind],
            tip=tip,
            cls="evl",
        )
    svg.next_lane()


# -- faults -----------------------------------------------------------------------------
def fault_spans(records: Sequence[TraceRecord], end: float) -> list[Span]:
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


def fault_lane(svg: Svg, spans: list[Span]) -> None:
    extents = [
        (svg.x(t0), max(svg.x(t1), svg.x(t0) + CHAR_W * len(str(f.get("kind"))) + 6))
        for t0, t1, f in spans
    ]
    rows = pack_rows(extents)
    svg.lane("faults", max(LANE, FAULT_ROW * (max(rows, default=0) + 1) + 6))
    for (t0, t1, fault), row in zip(spans, rows, strict=True):
        top = 3 + row * FAULT_ROW
        tip = f"{t0:g}-{t1:g}s {json.dumps(fault, sort_keys=True)}"
        svg.band(t0, t1, "#fc9272" if t1 > t0 else "#de2d26", tip, top=top, h=FAULT_ROW - 3)
        svg.text(svg.x(t0) + 3, svg.y + top + FAULT_ROW - 7, str(fault.get("kind")), tip=tip)
    svg.next_lane()


# -- servers ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Attachment:
    client: str
    instance: str
    start: float
    end: float


def attachments(records: Sequence[TraceRecord], end: float) -> list[Attachment]:
    """Which instance each client's connection was open to, from the network records."""
    opened: dict[str, tuple[str, float]] = {}
    out: list[Attachment] = []
    for rec in records:
        conn = rec.data.get("conn")
        if rec.src != "net" or not isinstance(conn, str):
            continue
        if rec.kind == "open" and isinstance(rec.data.get("instance"), str):
            opened[conn] = (str(rec.data["instance"]), rec.t)
        elif rec.kind == "close" and conn in opened:
            instance, t0 = opened.pop(conn)
            out.append(Attachment(conn.split("/")[0], instance, t0, rec.t))
    out += [Attachment(c.split("/")[0], i, t0, end) for c, (i, t0) in opened.items()]
    return sorted(out, key=lambda a: (a.start, a.client))


def server_states(spans: list[Span], name: str) -> list[tuple[float, float, str]]:
    """Spans in which instance `name` was crashed or not ready (up otherwise)."""
    out = []
    for t0, t1, fault in spans:
        kind = fault.get("kind")
        if kind == "crash" and fault.get("instance") in (name, None):
            out.append((t0, t1, "crashed"))
        elif kind == "not_ready":
            out.append((t0, t1, "not ready"))
    return out


def server_lanes(
    svg: Svg, spans: list[Span], instances: Sequence[str], links: list[Attachment]
) -> None:
    clients = sorted({a.client for a in links})[:MAX_ATTACH_ROWS]
    height = max(LANE, 6 + ATTACH_ROW * len(clients) + 4)
    for name in instances:
        svg.lane(f"server {name}", height)
        svg.band(0.0, svg.end, SERVER_COLOURS["up"], f"{name} up", top=2, h=height - 4)
        for t0, t1, state in server_states(spans, name):
            tip = f"{name} {state} {t0:g}-{t1:g}s"
            svg.band(t0, t1, SERVER_COLOURS[state], tip, top=2, h=height - 4)
        for link in links:
            if link.instance != name or link.client not in clients:
                continue
            top = 5 + ATTACH_ROW * clients.index(link.client)
            tip = f"{link.client} attached to {name} {link.start:g}-{link.end:g}s"
            svg.band(link.start, link.end, ATTACH_COLOUR, tip, top=top, h=ATTACH_ROW - 3)
            if svg.x(link.end) - svg.x(link.start) > CHAR_W * len(link.client) + 4:
                svg.text(
                    svg.x(link.start) + 2,
                    svg.y + top + 8,
                    link.client,
                    colour="#fff",
                    tip=tip,
                    cls="att",
                )
        svg.next_lane()


def draw(records: Sequence[TraceRecord], instances: Sequence[str], end: float) -> str:
    """The whole swimlane picture of a run."""
    svg = Svg(end)
    spans = fault_spans(records, end)
    client_lanes(svg, records, end)
    fault_lane(svg, spans)
    server_lanes(svg, spans, instances, attachments(records, end))
    svg.axis()
    return svg.svg()
