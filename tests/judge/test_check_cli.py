"""`chatsim check` on bad or doubtful input: exit 2 with `file:line: field: expected ...`."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

HEADER = '{"kind":"run","scenario":"w","seed":null,"version":1}'
READY = '{"t":0.4,"src":"client:w","kind":"ready"}'


def check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, *flags: str
) -> tuple[int, str, str]:
    path = tmp_path / "t.jsonl"
    path.write_text(body + "\n")
    status = main(["check", str(path), *flags])
    out, err = capsys.readouterr()
    return status, out, err


def test_a_trace_without_events_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = check(tmp_path, capsys, HEADER)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "t.jsonl: expected at least one event" in err
    assert "no events" in err


def test_an_unknown_client_kind_is_a_warning_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "\n".join([HEADER, READY, '{"t":1,"src":"client:w","kind":"wobble"}'])
    status, out, err = check(tmp_path, capsys, body)
    assert status == 0 and out.startswith("OK")
    assert "t.jsonl:3: kind: unknown client event kind 'wobble'" in err


BAD = {
    "a 400-digit t": ('{"t":' + "9" * 400 + ',"src":"client:w","kind":"ready"}', "2: t: expected"),
    "a 400-digit index": (
        '{"t":1,"src":"client:w","kind":"message","direction":"in","index":' + "9" * 400 + "}",
        "2: index: expected",
    ),
    "deep nesting": (
        '{"t":1,"src":"client:w","kind":"ready","x":' + "[" * 3000 + "]" * 3000 + "}",
        "2: x: expected a value nested at most 32 deep",
    ),
    "moderate nesting": (
        '{"t":1,"src":"client:w","kind":"ready","x":' + "[" * 40 + "]" * 40 + "}",
        "2: x: expected a value nested at most 32 deep",
    ),
    "an infinite duration": (
        '{"t":1,"src":"client:w","kind":"continued","duration":Infinity}',
        "2: duration: expected a finite number",
    ),
    "an ack without its id": ('{"t":1,"src":"client:w","kind":"ack","index":2}', "2: id: expected"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_event_lines_exit_2(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line, reason = BAD[name]
    status, out, err = check(tmp_path, capsys, "\n".join([HEADER, line]))
    assert status == 2 and out == "", name
    assert err.count("\n") == 1 and f"t.jsonl:{reason}" in err, err


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("interrupt_after", "NaN", "interrupt_after: expected a finite number"),
        ("interrupt_after", "-3", "interrupt_after: expected a positive finite number"),
        ("interrupt_after", "1e400", "interrupt_after: expected a positive finite number"),
        ("tolerance", "0", "tolerance: expected a positive finite number"),
        ("interruption_error", '"yes"', "interruption_error: expected true or false"),
        ("clock", '"sundial"', "clock: expected virtual or wall"),
    ],
)
def test_bad_header_values_exit_2(
    field: str, value: str, reason: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = HEADER[:-1] + f',"{field}":{value}}}'
    status, _, err = check(tmp_path, capsys, "\n".join([header, READY]))
    assert status == 2
    assert err.count("\n") == 1 and f"t.jsonl:1: {reason}" in err, err


@pytest.mark.parametrize("flag", ["--interrupt-after", "--tolerance"])
@pytest.mark.parametrize("value", ["-3", "0", "nan", "inf"])
def test_thresholds_must_be_positive_and_finite(
    flag: str, value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = check(tmp_path, capsys, "\n".join([HEADER, READY]), flag, value)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and f"{flag}: expected a positive finite number" in err


def test_the_ok_line_names_what_was_judged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = check(tmp_path, capsys, "\n".join([HEADER, READY]), "--tolerance", "0.5")
    assert status == 0
    assert "hold I1, I2, I3, I5, I6, I7" in out
