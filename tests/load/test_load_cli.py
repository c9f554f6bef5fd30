"""`chatsim load`'s input checks and its summary, without running Locust."""

from __future__ import annotations

import pytest

from sim.cli import main
from sim.commands.load import parse_faults
from sim.load.summary import render, verdict


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--host", "ftp://example.org"], "--host must be an http:// or https:// URL"),
        (["--host", "localhost:8080"], "--host must be an http:// or https:// URL"),
        (["--host", "http://h:99999"], "bad port"),
        (["--host", "http://h", "--workers", "0"], "--workers must be at least 1"),
        (["--host", "http://h", "--users", "0"], "--users must be at least 1"),
        (["--host", "http://h", "--duration", "-1"], "--duration must be a positive number"),
        (["--host", "http://h", "--fault", "{"], "--fault #1: not JSON"),
        (["--host", "http://h", "--fault", "[1]"], "--fault #1: expected a JSON object"),
        (["--host", "http://h", "--fault", '{"kind": "outtage"}'], "kind"),
        (["--host", "http://h", "--fault", '{"kind": "outage"}'], "duration"),
        (["--host", "http://h", "--fault", '{"kind": "loss", "p": 2}'], "probability"),
        (
            ["--host", "http://h", "--fault", '{"kind": "crash", "duration": 1, "share": 0.5}'],
            "share only for browser-side faults",
        ),
        (
            ["--host", "http://h", "--fault", '{"kind": "outage", "duration": 1, "share": 0}'],
            "a share between 0 and 1",
        ),
        (["--host", "http://h", "--agent-every", "-1"], "--agent-every must be 0 (none)"),
        (["--host", "http://h", "--rate", "0"], "--rate must be a positive number"),
        ([], "give the server with --host"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    extra: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load", *extra]) == 2
    err = capsys.readouterr().err
    assert says in err
    assert len(err.strip().splitlines()) == 1


def test_faults_are_normalised_with_their_share() -> None:
    assert parse_faults(['{"kind": "outage", "at": 3, "duration": 4, "share": 0.3}']) == [
        {"kind": "outage", "at": 3.0, "duration": 4.0, "share": 0.3}
    ]


SUMMARY = {
    "users": 4,
    "sessions_ready": 4,
    "sent": 10,
    "acked": 10,
    "failed": 0,
    "unacked": 0,
    "delivered": 14,
    "lost": 0,
    "duplicated": 0,
    "interrupted": 1,
    "continued": 1,
    "restored": 2,
    "errors": {"100": 2, "150": 1},
    "violations": 0,
    "workers": 2,
    "workers_final": 2,
    "truth": "server",
    "ack_ms": {"p50": 1.0, "p99": 9.0},
}


def test_summary_table_and_verdict() -> None:
    table = render(SUMMARY)
    assert "sessions ready     4 / 4" in table
    assert "100: 2  150: 1" in table
    assert "p50 1  p99 9" in table
    assert verdict(SUMMARY) == (0, "held: no loss, no duplicate, every message acknowledged")
    status, line = verdict({**SUMMARY, "lost": 2, "sessions_ready": 3})
    assert status == 1
    assert line == "FAILED: 2 lost, 1 never ready"
    nobody = {
        **SUMMARY,
        "users": 0,
        "sessions_ready": 0,
        "workers": 0,
        "workers_final": 0,
        "workers_expected": 2,
    }
    assert verdict(nobody) == (1, "FAILED: 2 worker(s) sent no final tally, no browser ran")


def test_options_after_a_double_dash_go_to_the_locust_master() -> None:
    from sim.cli import build_parser
    from sim.commands.load import master_command

    args = build_parser().parse_args(
        ["load", "--host", "http://h:1", "--workers", "3", "--", "--csv", "run"]
    )
    command = master_command(args, 5557, "summary.json")
    assert command[-2:] == ["--csv", "run"]
    assert command[command.index("--expect-workers") + 1] == "3"
    assert "--master" in command and "--headless" in command
