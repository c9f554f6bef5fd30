"""The live oracle judges a browser session's trace against the server's lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.cli import main
from statecharts.errors import BadInput
from statecharts.judge import check_live, judge_trace
from statecharts.trace import parse_trace
from tests.judge.live_traces import (
    CRASH_SESSION,
    E150,
    HEADER,
    OUTAGE_SESSION,
    c,
    changed,
    plus,
    s,
    text,
    without,
)


def rules(records: list[dict[str, Any]], **options: Any) -> set[str]:
    verdict = judge_trace(parse_trace(text(records).splitlines()), **options)
    return {v.rule for v in verdict.violations}


def test_good_sessions_hold() -> None:
    for session in (OUTAGE_SESSION, CRASH_SESSION):
        verdict = judge_trace(parse_trace(text(session).splitlines()))
        assert verdict.ok, [v.describe() for v in verdict.violations]
        assert verdict.judged == ("I1", "I2", "I3", "I5", "I6", "I7")


BROKEN = {
    "an accepted event never delivered": (
        without(OUTAGE_SESSION, kind="message", index=4),
        "I6",
    ),
    "an event delivered twice": (
        plus(OUTAGE_SESSION, c(4.03, "message", direction="in", index=3)),
        "I6",
    ),
    "an index the server never had": (
        plus(OUTAGE_SESSION, c(17.0, "message", direction="in", index=5)),
        "I6",
    ),
    "an ack at another message's index": (
        changed(OUTAGE_SESSION, {"kind": "ack"}, index=3),
        "I6",
    ),
    "an ack of a message never sent": (plus(OUTAGE_SESSION, c(5.0, "ack", id="m9", index=2)), "I6"),
    "a message never acknowledged": (without(OUTAGE_SESSION, kind="ack"), "I6"),
    "an ack disagreeing with the server": (
        changed(OUTAGE_SESSION, {"kind": "acked"}, index=7),
        "I6",
    ),
    "an early interruption": (
        changed(OUTAGE_SESSION, {"t": 13.1, "src": "client:s1"}, t=12.0),
        "I2",
    ),
    "an interruption no fault explains": (
        without(without(OUTAGE_SESSION, kind="fault.start"), kind="fault.end"),
        "I2",
    ),
    "no interruption in a long outage": (
        without(without(without(OUTAGE_SESSION, kind="interrupted"), code=150), kind="continued"),
        "I2",
    ),
    "a missing 150": (without(OUTAGE_SESSION, code=150), "I3"),
    "a continued without interrupted": (
        plus(OUTAGE_SESSION, c(3.0, "continued", duration=1.0)),
        "I1",
    ),
    "an event after 152": (
        plus(
            OUTAGE_SESSION,
            c(18.0, "error", code=152, description="Session restoration failed"),
            c(19.0, "message", direction="out", id="m2"),
        ),
        "I5",
    ),
    "an illegal state change": (
        plus(
            OUTAGE_SESSION, c(0.5, "state", **{"from": "idle", "to": "ready", "trigger": "start"})
        ),
        "I7",
    ),
    "a crash with no failover and no interruption": (
        [r for r in CRASH_SESSION if r["t"] < 10.9]
        + [
            c(14.0, "restored", instance="i2", position=1, replayed=1),
            s(14.0, "session.move", chatId="chat-7", instance="i2", **{"from": "i1", "to": "i2"}),
            c(14.1, "message", direction="in", index=2, party="agent"),
        ],
        "I2",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_session_is_caught(name: str) -> None:
    records, rule = BROKEN[name]
    assert rule in rules(records), name


def test_a_message_in_flight_at_the_end_is_not_called_lost() -> None:
    records = [r for r in OUTAGE_SESSION if r["t"] <= 4.02]
    records.append(c(4.1, "message", direction="out", id="m2"))
    records.append(s(4.3, "transcript", chatId="chat-1", index=5, party="agent"))
    assert rules(records) == set()


def test_tolerance_decides_and_the_header_gives_it() -> None:
    assert rules(OUTAGE_SESSION, tolerance=0.05) == {"I2"}
    strict = text(OUTAGE_SESSION, {**HEADER, "tolerance": 0.05})
    assert {v.rule for v in judge_trace(parse_trace(strict.splitlines())).violations} == {"I2"}


def test_check_live_from_python_and_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s1.jsonl"
    path.write_text(text(OUTAGE_SESSION))
    assert check_live(path).ok
    assert main(["check", str(path)]) == 0
    assert "against the server's lines" in capsys.readouterr().out
    assert main(["check", str(path), "--tolerance", "0.05"]) == 1
    out = capsys.readouterr().out
    assert "line 19:" in out and "I2" in out and "the interrupted of line 16 at t = 13" in out
    not_live = tmp_path / "app.jsonl"
    not_live.write_text(text(OUTAGE_SESSION, {**HEADER, "clock": "virtual"}))
    with pytest.raises(BadInput, match="clock: wall"):
        check_live(not_live)


def test_the_150_rule_follows_the_header_flag() -> None:
    off = text(OUTAGE_SESSION, {**HEADER, "interruption_error": False})
    verdict = judge_trace(parse_trace(off.splitlines()))
    assert {v.rule for v in verdict.violations} == {"I3"}
    assert rules(plus(OUTAGE_SESSION, c(13.1, "error", **E150))) == {"I3"}


# -- traces a real page wrote (the demo widget on CometD 9 in Chromium) -----------------
CHROMIUM = Path(__file__).parent / "traces"


@pytest.mark.parametrize(
    "name", ["chromium_outage", "chromium_crash", "chromium_expire", "chromium_reload"]
)
def test_real_browser_sessions_hold(name: str) -> None:
    verdict = check_live(CHROMIUM / f"{name}.jsonl")
    assert verdict.ok, [v.describe() for v in verdict.violations]


def _edited(name: str, edit: Any) -> list[str]:
    lines = (CHROMIUM / f"{name}.jsonl").read_text().splitlines()
    return [line for line in (edit(line) for line in lines) if line is not None]


def test_real_browser_sessions_broken_are_caught() -> None:
    def late(line: str) -> str:
        return line.replace('"t":4.125,', '"t":5.6,')  # interrupted 4.5 s after the cut

    def lost(line: str) -> str | None:
        return None if '"direction":"in","index":4' in line else line

    for edit, rule in ((late, "I2"), (lost, "I6")):
        trace = parse_trace(_edited("chromium_outage", edit))
        assert rule in {v.rule for v in judge_trace(trace).violations}
    lines = (CHROMIUM / "chromium_reload.jsonl").read_text().splitlines()
    replayed = next(i for i, line in enumerate(lines) if '"direction":"in","index":3' in line)
    after_reload = next(i for i, line in enumerate(lines) if '"restored"' in line)
    again = lines[replayed].replace('"t":1.1408', '"t":1.8649')
    twice = [*lines[: after_reload + 1], again, *lines[after_reload + 1 :]]
    verdict = judge_trace(parse_trace(twice))
    assert any("more than once" in v.expected for v in verdict.violations)


def test_a_truncated_trace_is_judged_up_to_its_cut() -> None:
    cut = [r for r in OUTAGE_SESSION if r["t"] <= 11.0]  # the page's end never written
    cut.append(c(10.5, "message", direction="out", id="m2"))
    assert rules(cut) == {"I6"}
    verdict = judge_trace(parse_trace(text(cut, {**HEADER, "truncated": True}).splitlines()))
    assert verdict.ok and "truncated" in verdict.warnings[-1]
