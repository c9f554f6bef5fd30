"""The trace format (docs/REFERENCE.md, "Trace files"): JSON Lines, one event per line.

Line 1 is the run header `{"kind": "run", "scenario", "seed", "version", ...}`.
Every other line is `{"t", "src", "kind", ...fields}`: `t` seconds since the
run's start, `src` one of `client:<id>`, `server:<instance>`, `net`, `fault`.
Application kinds (state, ready, interrupted, continued, error, restored,
message, ended) have their fields checked here; other kinds (server and
network chatter, fault.start/fault.end) are kept as they are.

Equal runs must give equal bytes (I8), so the writer fixes key order, rounds
`t` to the microsecond and never writes wall-clock stamps of its own.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from mypy_extensions import mypyc_attr

from statecharts.catalog import describe
from statecharts.errors import BadInput
from statecharts.events import APP_KINDS, AppEvent, event_from_fields
from statecharts.values import quick_init_all

if TYPE_CHECKING:  # the judge reads traces: imported for the type only
    from statecharts.judge.i8_replay import Replay

TRACE_VERSION = 1
# json.dumps with options builds a new JSONEncoder per call: one, built once.
_encode_line = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_SRC = re.compile(r"^(client:[^\s]+|server:[^\s]+|net|fault)$")
_RESERVED = ("t", "src", "kind")
# What a client may write: application events, the transport's diagnostics, and the
# page's chat (`chat {chatId}`, live traces). Other kinds are kept but not judged.
CLIENT_KINDS = APP_KINDS | frozenset(
    {"loss", "ack", "send_failed", "command", "action.skipped", "chat"}
)
MAX_DEPTH = 32  # nesting of a line's JSON values
MAX_INT = 2**53  # integers beyond this are no index, code or position
CLOCKS = ("virtual", "wall")


@dataclass(frozen=True, slots=True)
class TraceRecord:
    """One trace line. `line` is its 1-based line number when read from a file."""

    t: float
    src: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    line: int = 0

    def __init__(
        self,
        t: float,
        src: str,
        kind: str,
        data: dict[str, Any] | None = None,
        line: int = 0,
    ) -> None:
        # Written out so that the compiled build makes it natively (quick_init
        # stands in for it in pure Python).
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "src", src)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "data", {} if data is None else data)
        object.__setattr__(self, "line", line)

    def event(self) -> AppEvent:
        return event_from_fields(self.kind, self.data)

    @property
    def client(self) -> str | None:
        return self.src[len("client:") :] if self.src.startswith("client:") else None

    def to_json(self) -> str:
        body: dict[str, Any] = {"t": round(self.t, 6), "src": self.src, "kind": self.kind}
        body.update(self.data)
        return _encode_line(body)


@dataclass(frozen=True)
class RunHeader:
    scenario: str
    seed: int | None
    version: int = TRACE_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        body: dict[str, Any] = {
            "kind": "run",
            "scenario": self.scenario,
            "seed": self.seed,
            "version": self.version,
        }
        body.update(self.extra)
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record(t: float, src: str, event: AppEvent) -> TraceRecord:
    return TraceRecord(t, src, event.kind, event.fields())


class TraceWriter:
    """Collects records in memory and writes them as JSON Lines.

    Records are stamped as a reader of the file would see them (`t` rounded to
    the microsecond, `line` = their line number), so a run is judged on its
    records without writing and re-reading the text. `follow(replay)` turns
    the writer into a replay check (I8): records go to the `Replay`, which
    compares them with the first run's as they come, and are not kept.
    """

    def __init__(self, header: RunHeader) -> None:
        self.header = header
        self.records: list[TraceRecord] = []
        self._replay: Replay[TraceRecord] | None = None
        # Records come in bursts at one time: round it once and share the float.
        self._time_in = -1.0
        self._time_out = -1.0

    def follow(self, replay: Replay[TraceRecord]) -> None:
        """Hand the coming records to `replay` (I8) instead of keeping them."""
        self._replay = replay

    def append(self, t: float, src: str, kind: str, data: dict[str, Any]) -> None:
        if t != self._time_in:
            self._time_in, self._time_out = t, round(t, 6)
        replay = self._replay
        if replay is None:
            records = self.records
            records.append(TraceRecord(self._time_out, src, kind, data, len(records) + 2))
        else:
            replay.see(TraceRecord(self._time_out, src, kind, data, replay.seen + 2))

    def add(self, rec: TraceRecord) -> None:
        self.append(rec.t, rec.src, rec.kind, rec.data)

    def emit(self, t: float, src: str, kind: str, **data: Any) -> None:
        self.append(t, src, kind, data)

    def lines(self) -> Iterator[str]:
        yield self.header.to_json()
        for rec in self.records:
            yield rec.to_json()

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines())

    def write(self, out: IO[str]) -> None:
        for line in self.lines():
            out.write(line + "\n")

    def save(self, path: Path) -> None:
        path.write_text(self.text(), encoding="utf-8")


@dataclass(frozen=True)
class Trace:
    header: RunHeader | None
    records: tuple[TraceRecord, ...]
    source: str = "<trace>"
    warnings: tuple[str, ...] = ()  # doubtful lines that were kept (unknown client kinds)


def read_trace(path: Path) -> Trace:
    """Read and validate a trace file; BadInput names the line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(str(path), "an existing trace file", got="no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(str(path), "a readable UTF-8 text file", got=str(exc)) from None
    return parse_trace(text.splitlines(), source=str(path))


def parse_trace(lines: Iterable[str], source: str = "<trace>") -> Trace:
    header: RunHeader | None = None
    records: list[TraceRecord] = []
    warnings: list[str] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        obj = _json_object(raw, source, number)
        if obj.get("kind") == "run":
            if header is not None or records:
                raise BadInput(source, "the run header only on the first line", line=number)
            header = _header(obj, source, number)
            continue
        rec = _record(obj, source, number)
        if rec.client is not None and rec.kind not in CLIENT_KINDS:
            warnings.append(
                f"{source}:{number}: kind: unknown client event kind {rec.kind!r} (not judged)"
            )
        records.append(rec)
    return Trace(header, tuple(records), source, tuple(warnings))


@mypyc_attr(native_class=False)  # a str subclass: a plain Python class when compiled
class _NonFinite(str):
    """`NaN`/`Infinity` as Python's json reads them: kept aside to be refused by field."""


def _json_object(raw: str, source: str, number: int) -> dict[str, Any]:
    try:
        obj = json.loads(raw, parse_constant=_NonFinite)
    except json.JSONDecodeError as exc:
        raise BadInput(source, f"a JSON object ({exc.msg})", line=number) from None
    except RecursionError:
        expected = f"a value nested at most {MAX_DEPTH} deep"
        field = _deep_field(raw)
        raise BadInput(source, expected, line=number, field=field, got=_Shown("deeper")) from None
    if not isinstance(obj, dict):
        raise BadInput(source, "a JSON object", line=number, got=type(obj).__name__)
    for key, value in obj.items():
        if not isinstance(value, dict | list | _NonFinite):
            continue
        problem = _scan(value)
        if problem is not None:
            raise BadInput(source, problem[0], line=number, field=key, got=problem[1])
    return obj


def _scan(value: object) -> tuple[str, object] | None:
    """What is wrong deep inside a value: nesting too deep, or a non-finite number."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, _NonFinite):
            return "a finite number (NaN and Infinity are not JSON)", _Shown(str(item))
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return f"a value nested at most {MAX_DEPTH} deep", _Shown("deeper")
            inner = item.values() if isinstance(item, dict) else item
            stack.extend((x, depth + 1) for x in inner)
    return None


def _deep_field(raw: str) -> str | None:
    """The top-level key whose value nests too deep (only read when json gave up)."""
    depth, key, in_string, escaped, start = 0, None, False, False, 0
    for at, char in enumerate(raw):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if depth == 1:
                    key = raw[start + 1 : at]
        elif char == '"':
            in_string, start = True, at
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return key
        elif char in "]}":
            depth -= 1
    return None


@mypyc_attr(native_class=False)  # a str subclass: a plain Python class when compiled
class _Shown(str):
    """A `got` shown as it is, without quotes."""

    def __repr__(self) -> str:
        return str(self)


def _header(obj: dict[str, Any], source: str, number: int) -> RunHeader:
    seed = obj.get("seed")
    if seed is not None and not _is_int(seed):
        raise BadInput(source, "an integer or null", line=number, field="seed", got=seed)
    scenario = obj.get("scenario", "")
    if not isinstance(scenario, str):
        raise BadInput(source, "a string", line=number, field="scenario", got=scenario)
    extra = {k: v for k, v in obj.items() if k not in ("kind", "scenario", "seed", "version")}
    for name in ("interrupt_after", "tolerance"):
        value: Any = extra.get(name)
        if name in extra and not (is_finite_number(value) and value > 0):
            expected = "a positive finite number of seconds"
            raise BadInput(source, expected, line=number, field=name, got=value)
    legacy = extra.get("interruption_error")
    if "interruption_error" in extra and not isinstance(legacy, bool):
        raise BadInput(source, "true or false", line=number, field="interruption_error", got=legacy)
    if "clock" in extra and extra["clock"] not in CLOCKS:
        expected = " or ".join(CLOCKS)
        raise BadInput(source, expected, line=number, field="clock", got=extra["clock"])
    version = obj.get("version", TRACE_VERSION)
    return RunHeader(scenario, seed, version if _is_int(version) else TRACE_VERSION, extra)


def _record(obj: dict[str, Any], source: str, number: int) -> TraceRecord:
    t: Any = obj.get("t")
    if not is_finite_number(t) or t < 0:
        raise BadInput(source, "a non-negative number of seconds", line=number, field="t", got=t)
    src = obj.get("src")
    if not isinstance(src, str) or not _SRC.match(src):
        expected = "client:<id>, server:<instance>, net or fault"
        raise BadInput(source, expected, line=number, field="src", got=src)
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind:
        raise BadInput(source, "a non-empty string", line=number, field="kind", got=kind)
    data = {k: v for k, v in obj.items() if k not in _RESERVED}
    if kind in ("fault.start", "fault.end"):
        _check_fault(data.get("fault"), source, number)
    elif src.startswith("client:") or kind in _SERVER_TRUTH:
        _check_fields(kind, data, source, number)
    return TraceRecord(float(t), src, kind, data, number)


# Server lines of live traces the judge takes as truth (their fields are checked).
_SERVER_TRUTH = frozenset({"transcript", "acked"})


def _check_fields(kind: str, data: dict[str, Any], source: str, number: int) -> None:
    def need(name: str, ok: bool, expected: str) -> None:
        if not ok:
            raise BadInput(source, expected, line=number, field=name, got=data.get(name))

    def need_index(name: str = "index") -> None:
        need(name, _is_int(data.get(name)) and data[name] >= 0, "a transcript index (an integer)")

    def text(name: str) -> None:
        need(name, isinstance(data.get(name), str), "a string")

    if kind == "state":
        for name in ("from", "to", "trigger"):
            text(name)
    elif kind == "error":
        need("code", _is_int(data.get("code")), "an integer error code")
        if "description" not in data:
            data["description"] = describe(data["code"])
        need("description", isinstance(data.get("description"), str), "a string")
    elif kind == "continued":
        duration: Any = data.get("duration")
        need("duration", is_finite_number(duration) and duration >= 0, "a non-negative number")
    elif kind == "restored":
        need("position", _is_int(data.get("position")), "an integer transcript position")
        data.setdefault("replayed", 0)
        need("replayed", _is_int(data.get("replayed")), "an integer")
        data["instance"] = str(data.get("instance", ""))
    elif kind == "message":
        need("direction", data.get("direction") in ("in", "out"), "'in' or 'out'")
        index = data.get("index")
        need("index", index is None or _is_int(index), "an integer transcript index")
        if data["direction"] == "in":
            need("index", index is not None, "an integer transcript index on inbound messages")
        elif "id" in data:
            text("id")
    elif kind in ("ack", "acked"):
        text("id")
        need_index()
    elif kind == "send_failed":
        text("id")
        need("code", _is_int(data.get("code")), "an integer error code")
    elif kind == "chat":
        text("chatId")
    elif kind == "transcript":
        need_index()
    if kind in ("acked", "transcript"):
        text("chatId")
        if data.get("id") is not None:
            text("id")


def _check_fault(fault: object, source: str, number: int) -> None:
    """A fault record: the fault as a mapping with its kind and finite times."""
    if not isinstance(fault, dict) or not isinstance(fault.get("kind"), str):
        raise BadInput(source, "a fault object with a kind", line=number, field="fault", got=fault)
    for name in ("at", "duration"):
        value: Any = fault.get(name)
        if value is not None and not (is_finite_number(value) and value >= 0):
            expected = "a non-negative number of seconds"
            raise BadInput(source, expected, line=number, field=f"fault.{name}", got=value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT


def is_finite_number(value: object) -> bool:
    """A number a float holds: not NaN, not infinite, not a 400-digit integer."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


# Pure Python only (a compiled build's classes are built natively already).
quick_init_all(TraceRecord)
