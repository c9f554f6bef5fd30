"""The live oracle: a browser session's trace judged against the server's own lines.

A live trace (`chatsim serve --trace DIR`, one file per recorder session)
starts with a header carrying `clock: wall`, `interrupt_after`,
`interruption_error` and `tolerance`. Beside the page's events (`client:`)
it holds the server's truth (`server:` `transcript`, `acked`,
`session.start/move/end`) and the injected faults (`fault.start/end`). The
truth here is read from those lines; the rules are the judge's own, on a
wall clock: times compare within `tolerance`, the faults explain and time
interruptions (see `i2_timing`), and what was in flight when the trace ended
is not called lost.
"""

from __future__ import annotations

from pathlib import Path

from statecharts.errors import BadInput
from statecharts.judge.judge import Judge
from statecharts.judge.settings import settings_for
from statecharts.judge.truth import Accepted, Truth
from statecharts.judge.verdict import Verdict
from statecharts.trace import Trace, read_trace


def is_live(trace: Trace) -> bool:
    """A trace written on a wall clock beside the server's truth (the live format)."""
    return trace.header is not None and trace.header.extra.get("clock") == "wall"


def live_truth(trace: Trace) -> Truth:
    """The server's truth as its lines in the trace tell it."""
    transcripts: dict[str, list[Accepted]] = {}
    acks: dict[str, dict[str, int]] = {}
    for rec in trace.records:
        if not rec.src.startswith("server:"):
            continue
        data = rec.data
        if rec.kind == "transcript":
            party = data.get("party")
            accepted = Accepted(
                int(data["index"]),
                data.get("id"),
                party if isinstance(party, str) else None,
                rec.t,
            )
            transcripts.setdefault(str(data["chatId"]), []).append(accepted)
        elif rec.kind == "acked":
            acks.setdefault(str(data["chatId"]), {})[str(data["id"])] = int(data["index"])
    chats: dict[str, str] = {}
    known = set(transcripts) | set(acks)
    if len(known) == 1:  # one chat in the file: the session's, even if the page never said
        chat = next(iter(known))
        chats = {rec.src: chat for rec in trace.records if rec.client is not None}
    return Truth(transcripts=transcripts, server_acks=acks, chats=chats)


def judge_trace(
    trace: Trace,
    *,
    interrupt_after: float | None = None,
    tolerance: float | None = None,
    truth: Truth | None = None,
) -> Verdict:
    """Judge any trace: ours, a widget's application events, or a live session's.

    Settings come from the arguments, else the trace header. A live trace
    (header `clock: wall`) is judged against the server lines it carries.
    A trace without a single event is bad input (BadInput), not a pass.
    """
    if not trace.records:
        raise BadInput(trace.source, "at least one event after the run header", got="no events")
    settings = settings_for(trace, interrupt_after, tolerance)
    if truth is None and is_live(trace):
        truth = live_truth(trace)
    return Judge(settings).check(trace, truth)


def check_live(trace: Trace | Path | str, *, tolerance: float | None = None) -> Verdict:
    """Judge a live browser session's trace (a path or a parsed trace) with the live oracle.

    `tolerance` (seconds, positive) overrides the header's. Raises BadInput for
    a malformed file and for a trace that is not in the live format.
    """
    parsed = trace if isinstance(trace, Trace) else read_trace(Path(trace))
    if not is_live(parsed):
        raise BadInput(parsed.source, "a live trace (a run header with clock: wall)", line=1)
    return judge_trace(parsed, tolerance=tolerance)
