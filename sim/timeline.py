"""A readable text timeline of a run: one line per thing a person cares about.

State changes, faults, application events and server incidents each get a
line with the time aligned; runs of transcript messages between them are
folded into one summary line so a minute of chat does not bury an outage.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from statecharts.trace import TraceRecord

# Server-side kinds worth a line (the rest is protocol chatter).
SERVER_KINDS = frozenset({"crash", "recover", "session.expire", "session.move", "session.end"})
_QUIET_CLIENT_KINDS = frozenset({"ack", "command", "loss"})
# Kinds with a line of their own whatever their source.
_OWN_LINE_KINDS = frozenset(
    {"state", "error", "continued", "restored", "fault.start", "fault.end", "send_failed"}
)


@dataclass
class _Fold:
    """Transcript messages seen since the last printed line."""

    first: float = 0.0
    last: float = 0.0
    inbound: list[int] = field(default_factory=list)
    outbound: int = 0

    def add(self, rec: TraceRecord) -> None:
        if not self.inbound and not self.outbound:
            self.first = rec.t
        self.last = rec.t
        if rec.data.get("direction") == "in":
            self.inbound.append(int(rec.data.get("index", 0)))
        else:
            self.outbound += 1

    def flush(self, width: int, who: str = "") -> Iterator[str]:
        if not self.inbound and not self.outbound:
            return
        parts = []
        if self.inbound:
            low, high = min(self.inbound), max(self.inbound)
            span = f"#{low}" if low == high else f"#{low}..#{high}"
            parts.append(f"{len(self.inbound)} in ({span})")
        if self.outbound:
            parts.append(f"{self.outbound} out")
        until = f" until {self.last:.3f}s" if self.last > self.first else ""
        yield f"{_stamp(self.first, width)}  {who:<10}  messages{until}: {', '.join(parts)}"
        self.inbound.clear()
        self.outbound = 0


def _stamp(t: float, width: int) -> str:
    return f"{t:{width}.3f}s"


def describe(rec: TraceRecord) -> str | None:
    """The one-line text of a record, or None when it is not worth a line."""
    d = rec.data
    kind = rec.kind
    if kind not in _OWN_LINE_KINDS:  # most records: protocol chatter and acks
        return _other_line(rec)
    if kind == "state":
        return f"state {d.get('from')} -> {d.get('to')} ({d.get('trigger')})"
    if kind == "error":
        return f"error {d.get('code')} {d.get('description', '')}".rstrip()
    if kind == "continued":
        return f"continued after {float(d.get('duration', 0)):.3f}s"
    if kind == "restored":
        return (
            f"restored on {d.get('instance')} from position {d.get('position')}"
            f" ({d.get('replayed', 0)} replayed)"
        )
    if kind in ("fault.start", "fault.end"):
        return f"{kind} {_fault_text(d.get('fault'))}"
    return f"send failed: message {d.get('id')} (error {d.get('code')})"


def _other_line(rec: TraceRecord) -> str | None:
    kind = rec.kind
    if rec.src.startswith("server:"):
        return _server_line(rec)
    if rec.client is not None and kind not in _QUIET_CLIENT_KINDS:
        extra = " ".join(f"{k}={v}" for k, v in rec.data.items())
        return f"{kind} {extra}".rstrip()
    return None


def _server_line(rec: TraceRecord) -> str | None:
    if rec.kind not in SERVER_KINDS:
        return None
    extra = " ".join(f"{k}={v}" for k, v in rec.data.items())
    return f"{rec.kind} {extra}".rstrip()


def _fault_text(fault: object) -> str:
    if not isinstance(fault, dict):
        return str(fault)
    kind = fault.get("kind", "?")
    rest = ", ".join(f"{k}: {v}" for k, v in fault.items() if k not in ("kind", "at"))
    return f"{kind}{{{rest}}}"


def _who(rec: TraceRecord) -> str:
    if rec.client is not None:
        return rec.client
    return rec.src


def render(records: Sequence[TraceRecord], end: float | None = None) -> Iterator[str]:
    """Timeline lines for these records; `end` marks the scenario's end."""
    last = max((r.t for r in records), default=0.0)
    width = max(7, len(f"{max(last, end or 0.0):.3f}"))
    folds: dict[str, _Fold] = {}  # per client, in order of first message

    def flush() -> Iterator[str]:
        for who, fold in sorted(folds.items(), key=lambda item: item[1].first):
            yield from fold.flush(width, who if len(folds) > 1 else "")

    marked = end is None
    for rec in records:
        if not marked and end is not None and rec.t > end:
            yield from flush()
            yield f"{_stamp(end, width)}  {'':<10}  --- end of scenario; draining ---"
            marked = True
        if rec.kind == "message":
            client = rec.client
            if client is not None:
                fold = folds.get(client)
                if fold is None:
                    fold = folds[client] = _Fold()
                fold.add(rec)
                continue
        text = describe(rec)
        if text is None:
            continue
        yield from flush()
        yield f"{_stamp(rec.t, width)}  {_who(rec):<10}  {text}"
    yield from flush()


def render_text(records: Iterable[TraceRecord], end: float | None = None) -> str:
    return "".join(line + "\n" for line in render(list(records), end))
