"""`chatsim load` end to end: a master and 2 workers on this machine against
`chatsim serve --instances 3`, browser-side outages for a share of the users
and an instance crash through the fault API; and the same run against a server
with a planted bug, which must be reported."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.live, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def start_server(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
    assert match, f"the server did not say where it listens: {line!r}"
    return proc, match.group(1)


@pytest.fixture
def serve() -> Iterator[str]:
    proc, base = start_server(
        [sys.executable, "-m", "sim.cli", "serve", "--port", "0", "--instances", "3"]
    )
    yield base
    stop(proc)


@pytest.fixture
def buggy() -> Iterator[str]:
    proc, base = start_server([sys.executable, str(Path(__file__).with_name("buggy_server.py"))])
    yield base
    stop(proc)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


CHAOS = [
    "--agent-every",
    "1",
    "--fault",
    '{"kind": "outage", "at": 3, "duration": 4, "share": 0.3}',
    "--fault",
    '{"kind": "crash", "instance": "i2", "at": 4, "duration": 3}',
]


def load(base: str, out: Path, *extra: str) -> tuple[int, str, dict[str, object]]:
    command = [
        sys.executable,
        "-m",
        "sim.cli",
        "load",
        "--host",
        base,
        "--users",
        "120",
        "--spawn-rate",
        "80",
        "--duration",
        "11",
        "--workers",
        "2",
        "--think",
        "1",
        "--json",
        str(out),
        *CHAOS,
        *extra,
    ]
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=150, cwd=ROOT
    )
    assert out.exists(), done.stdout + done.stderr
    return done.returncode, done.stdout, json.loads(out.read_text())


def test_chaos_run_loses_nothing(serve: str, tmp_path: Path) -> None:
    code, stdout, summary = load(serve, tmp_path / "load.json")
    assert code == 0, stdout
    assert summary["workers"] == 2
    assert summary["users"] == summary["sessions_ready"] == summary["sessions_alive"] == 120
    assert summary["lost"] == 0
    assert summary["duplicated"] == 0
    assert summary["unacked"] == 0
    assert summary["violations"] == 0
    assert summary["truth"] == "server"
    sent = summary["sent"]
    assert isinstance(sent, int) and sent > 300
    assert summary["acked"] == sent
    # The agent spoke in every chat, also while its browser was away: replayed on return.
    agent = summary["agent_said"]
    assert isinstance(agent, int) and agent > 300
    delivered = summary["delivered"]
    assert isinstance(delivered, int) and delivered >= sent + agent
    # The outage hit about 30% of the browsers, long enough to be told; the crash
    # of i2 moved its sessions (a third) to another instance.
    assert isinstance(summary["interrupted"], int) and summary["interrupted"] >= 20
    assert summary["continued"] == summary["interrupted"]
    # Browser n starts on instance n % 3 of its worker: 2 x 20 of them on i2.
    assert isinstance(summary["sessions_restored"], int) and summary["sessions_restored"] >= 40
    errors = summary["errors"]
    assert isinstance(errors, dict) and errors.get("150") == summary["interrupted"]
    assert "held: no loss" in stdout
    assert re.search(r"\d+s users \d+ ready", stdout), "no progress lines"


def test_planted_loss_on_failover_is_reported(buggy: str, tmp_path: Path) -> None:
    code, stdout, summary = load(buggy, tmp_path / "load.json", "--settle", "4")
    assert code == 1, stdout
    lost = summary["lost"]
    assert isinstance(lost, int) and lost >= 1
    assert "FAILED" in stdout and "lost" in stdout


def test_own_locustfile_single_process_pure_bayeux(serve: str, tmp_path: Path) -> None:
    """A user's own locustfile, plain `locust` (one process), pure Bayeux mode."""
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(
        "from sim.load import BayeuxUser\n\n\nclass Visitor(BayeuxUser):\n    think_time = 0.5\n"
    )
    out = tmp_path / "summary.json"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--only-summary",
        "-u",
        "12",
        "-r",
        "12",
        "--host",
        f"{serve}/cometd",
        "--chatsim-duration",
        "4",
        "--chatsim-summary",
        str(out),
        "--loglevel",
        "WARNING",
    ]
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert out.exists(), done.stdout + done.stderr
    summary = json.loads(out.read_text())
    assert summary["users"] == summary["sessions_ready"] == 12
    assert summary["sent"] == summary["acked"] > 24
    assert summary["lost"] == summary["duplicated"] == summary["unacked"] == 0
    assert summary["truth"] == "client"  # broadcasts have no server transcript
    stats = done.stdout + done.stderr  # Locust's own tables
    assert "send→ack" in stats and "subscribe" in stats and "handshake" in stats


def test_a_fault_the_server_refuses_is_bad_input(serve: str) -> None:
    command = [
        sys.executable,
        "-m",
        "sim.cli",
        "load",
        "--host",
        serve,
        "--users",
        "2",
        "--duration",
        "3",
        "--workers",
        "1",
        "--fault",
        '{"kind": "crash", "instance": "i9", "duration": 1}',
    ]
    done = subprocess.run(
        command, check=False, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "chatsim load: the server refused a fault: crash: HTTP 400: fault API: instance: "
        "expected one of i1, i2, i3, got 'i9'"
    ]


def test_a_server_nobody_answers_is_bad_input() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        command = [sys.executable, "-m", "sim.cli", "load", "--host", f"http://127.0.0.1:{port}"]
        done = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=60, cwd=ROOT
        )
    assert done.returncode == 2
    assert done.stderr.startswith(f"chatsim load: cannot reach http://127.0.0.1:{port}")
    assert len(done.stderr.strip().splitlines()) == 1


def test_workers_joining_from_elsewhere(serve: str, tmp_path: Path) -> None:
    """Master here (one local worker, expecting two), a worker "there" with --join."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    joined = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "load",
            "--join",
            "127.0.0.1",
            "--master-port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        out = tmp_path / "load.json"
        command = [
            sys.executable,
            "-m",
            "sim.cli",
            "load",
            "--host",
            serve,
            "--users",
            "20",
            "--spawn-rate",
            "20",
            "--duration",
            "4",
            "--workers",
            "1",
            "--expect-workers",
            "2",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--think",
            "0.5",
            "--json",
            str(out),
        ]
        done = subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=90, cwd=ROOT
        )
        assert done.returncode == 0, done.stdout + done.stderr
        summary = json.loads(out.read_text())
        assert summary["workers"] == summary["workers_final"] == 2
        assert [w["users"] for w in summary["per_worker"]] == [10, 10]
        assert summary["acked"] == summary["sent"] > 0 and summary["lost"] == 0
        assert joined.wait(timeout=30) == 0  # the master told it to quit
    finally:
        if joined.poll() is None:
            joined.kill()
            joined.wait()
