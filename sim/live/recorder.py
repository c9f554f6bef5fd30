"""What a page's recorder may send: one batch of application events, checked at the boundary.

The recorder script (`/chatsim/recorder.js`) POSTs JSON batches to `/chatsim/record`:

    {"session": "<8-64 of A-Z a-z 0-9 _ ->",
     "settings": {"interrupt_after": 3.0, "interruption_error": true},   (optional)
     "opened": 10.2,                  (optional: when the page started, seconds)
     "events": [{"seq": 0, "t": 12.5, "kind": "ready"}, ...]}

`seq` numbers a session's events from 0 (kept across reloads in sessionStorage):
a batch sent again after a lost response is recognised and not recorded twice.
`t` is seconds since the server started, from the browser's clock. Each kind
takes only its own fields (below); the application kinds are also checked by
the trace reader (`statecharts.trace`), so a recorded line is one that
`chatsim check` reads. Anything else is refused with a one-line reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from statecharts.errors import BadInput
from statecharts.events import APP_KINDS
from statecharts.trace import TraceRecord, parse_trace

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_BATCH_EVENTS = 200
MAX_TEXT = 4000
MAX_NAME = 200
# A browser clock a little ahead of ours is tolerated; far ahead is a broken page.
MAX_AHEAD = 300.0

Check = Callable[[object], bool]


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53


def _name(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME


def _text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _threshold(value: object) -> bool:
    return _number(value) and 0 < float(value) <= 3600  # type: ignore[arg-type]


def _object(value: object) -> bool:
    return isinstance(value, dict) and len(value) <= 20


def _bool(value: object) -> bool:
    return isinstance(value, bool)


# kind -> {field: (check, expected, required)}; the fields a kind may carry.
Spec = Mapping[str, tuple[Check, str, bool]]
_NAME, _INT, _TEXT = (
    (_name, "a short string", True),
    (_int, "a whole number", True),
    (_text, f"a string of at most {MAX_TEXT} characters", False),
)
KINDS: dict[str, Spec] = {
    "state": {"from": _NAME, "to": _NAME, "trigger": _NAME},
    "ready": {"chatId": (_name, "a short string", False)},
    "interrupted": {},
    "continued": {"duration": (_number, "a non-negative number of seconds", True)},
    "error": {
        "code": _INT,
        "description": (_text, "a string", False),
        "data": (_object, "an object", False),
    },
    "restored": {"instance": _NAME, "position": _INT, "replayed": _INT},
    "message": {
        "direction": (lambda v: v in ("in", "out"), "'in' or 'out'", True),
        "index": (_int, "a whole number", False),
        "id": (_name, "a short string", False),
        "party": (_name, "a short string", False),
        "text": _TEXT,
    },
    "ack": {"id": _NAME, "index": _INT},
    "send_failed": {"id": _NAME, "code": _INT},
    "ended": {"reason": (_name, "a short string", False)},
    "chat": {"chatId": _NAME},
}
SETTINGS: Spec = {
    "interrupt_after": (_threshold, "a number of seconds in (0, 3600]", False),
    "interruption_error": (_bool, "true or false", False),
}


class BadEvent(BadInput):
    """One event of a batch is wrong: `index` is its place in `events`."""

    def __init__(self, index: int, cause: BadInput) -> None:
        super().__init__(cause.source, cause.expected, field=cause.field, got=cause.got)
        self.index = index


@dataclass(frozen=True)
class ClientEvent:
    seq: int
    record: TraceRecord


@dataclass(frozen=True)
class Batch:
    session: str
    events: tuple[ClientEvent, ...]
    settings: dict[str, Any]
    opened: float | None = None  # when the page started (its faults count from then)


def parse_batch(raw: object, now: float) -> Batch:
    """Validate one POSTed batch; BadInput names the event and field that is wrong."""
    if not isinstance(raw, dict):
        raise BadInput("batch", 'a JSON object {"session", "events"}', got=type(raw).__name__)
    unknown = set(raw) - {"session", "events", "settings", "opened"}
    if unknown:
        raise BadInput("batch", "only session, events, settings, opened", field=min(unknown))
    session = raw.get("session")
    if not isinstance(session, str) or not SESSION_ID.match(session):
        raise BadInput("batch", "8 to 64 of A-Z a-z 0-9 _ -", field="session", got=session)
    events = raw.get("events", [])
    if not isinstance(events, list) or len(events) > MAX_BATCH_EVENTS:
        expected = f"a list of at most {MAX_BATCH_EVENTS} events"
        raise BadInput("batch", expected, field="events", got=_size(events))
    settings = _fields(raw.get("settings", {}), SETTINGS, "settings")
    opened: Any = raw.get("opened")
    if opened is not None and (not _number(opened) or opened > now + MAX_AHEAD):
        raise BadInput("batch", "seconds since the server started", field="opened", got=opened)
    parsed: list[ClientEvent] = []
    for n, item in enumerate(events):
        try:
            parsed.append(_event(item, f"events[{n}]", session, now))
        except BadInput as exc:
            raise BadEvent(n, exc) from None
    began = None if opened is None else round(float(opened), 6)
    return Batch(session, tuple(parsed), settings, began)


def _size(value: object) -> object:
    return f"{len(value)} events" if isinstance(value, list) else type(value).__name__


def _event(item: object, where: str, session: str, now: float) -> ClientEvent:
    if not isinstance(item, dict):
        raise BadInput(where, "an object {seq, t, kind, ...}", got=type(item).__name__)
    seq: Any = item.get("seq")
    t: Any = item.get("t")
    kind: Any = item.get("kind")
    if not _int(seq):
        raise BadInput(where, "a whole number", field="seq", got=seq)
    if not _number(t) or t > now + MAX_AHEAD:
        raise BadInput(where, "seconds since the server started", field="t", got=t)
    if not isinstance(kind, str) or kind not in KINDS:
        raise BadInput(where, "one of " + ", ".join(KINDS), field="kind", got=kind)
    body = {k: v for k, v in item.items() if k not in ("seq", "t", "kind")}
    fields = _fields(body, KINDS[kind], where)
    if kind == "message":
        _message_fields(fields, where)
    src = f"client:{session}"
    t = round(float(t), 6)  # as written: equal times must sort as equal
    if kind in APP_KINDS:  # the trace reader's own rules, so `chatsim check` reads the line
        try:
            line = TraceRecord(t, src, kind, fields).to_json()
            record = parse_trace([line], source=where).records[0]
        except BadInput as exc:
            raise BadInput(where, exc.expected, field=exc.field, got=exc.got) from None
        record = TraceRecord(record.t, src, kind, record.data)
    else:
        record = TraceRecord(t, src, kind, fields)
    return ClientEvent(seq, record)


def _fields(body: object, spec: Spec, where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadInput(where, "an object", got=type(body).__name__)
    for name in body:
        if name not in spec:
            allowed = ", ".join(spec) or "no fields"
            raise BadInput(where, f"only {allowed}", field=str(name)[:40])
    for name, (check, expected, required) in spec.items():
        if name not in body:
            if required:
                raise BadInput(where, expected, field=name, got="nothing")
        elif not check(body[name]):
            raise BadInput(where, expected, field=name, got=body[name])
    return dict(body)


def _message_fields(fields: dict[str, Any], where: str) -> None:
    if fields["direction"] == "in" and "index" not in fields:
        raise BadInput(where, "the transcript index of an inbound message", field="index")
    if fields["direction"] == "out" and "id" not in fields:
        raise BadInput(where, "the client message id of an outbound message", field="id")
