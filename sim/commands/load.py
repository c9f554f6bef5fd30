"""`chatsim load`: emulated browsers at scale, on Locust's distributed mode.

    chatsim load --host URL --users N --spawn-rate R --duration S [--workers K]
                 [--fault JSON]... [--json FILE]

starts a Locust master and K local worker processes (subprocesses running
`sim/load/locustfile.py`), prints a progress line every few seconds, stops
the traffic after S seconds, lets every session settle and be judged, then
prints a summary and writes it as JSON. Several machines: run the master here
with `--master-bind-host 0.0.0.0 --expect-workers M` (M counts every worker,
the K local ones included) and on each other machine
`chatsim load --join MASTER --workers K2`.

Exit status: 0 when every session became ready and nothing was lost,
duplicated or left unacknowledged; 1 otherwise; 2 for bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.faults import parse_fault
from sim.load.netfaults import CLIENT_KINDS
from sim.load.summary import render, verdict
from sim.load.tally import SETTLE
from statecharts.errors import BadInput, UsageError

LOCUSTFILE = Path(__file__).resolve().parent.parent / "load" / "locustfile.py"
WORKERS_MAX_WAIT = 120  # seconds the master waits for its workers to connect
CLASSES = {"chat": "ChatBrowser", "bayeux": "BayeuxBrowser"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", help="the server: http://host:port (chatsim serve) or an endpoint"
    )
    parser.add_argument("--users", type=int, default=100, help="emulated browsers in all")
    parser.add_argument("--spawn-rate", type=float, default=50.0, help="new browsers per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of traffic")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help='a fault object, e.g. \'{"kind": "outage", "at": 5, '
        '"duration": 4, "share": 0.3}\' (repeatable)',
    )
    parser.add_argument("--json", help="write the summary to this file")
    parser.add_argument(
        "--mode",
        choices=("chat", "bayeux"),
        default="chat",
        help="chat service, or pure Bayeux (e.g. Faye)",
    )
    parser.add_argument(
        "--think", type=float, default=2.0, help="mean seconds between one browser's messages"
    )
    parser.add_argument(
        "--rate",
        type=float,
        help="messages per second per browser, paced whatever the acks take (instead of --think)",
    )
    parser.add_argument(
        "--agent-every",
        type=float,
        default=0.0,
        help="mean seconds between the agent's messages in each chat (chatsim serve; 0: none)",
    )
    parser.add_argument("--transport", choices=("websocket", "long-polling"), default="websocket")
    parser.add_argument("--interrupt-after", type=float, default=3.0)
    parser.add_argument(
        "--settle",
        type=float,
        default=SETTLE,
        help="seconds each session may take to settle at the end (default: a dropped "
        "connect reply's worst case, hold 30 s + network delay 10 s, and slack)",
    )
    parser.add_argument("--token", help="bearer token of the server's fault API")
    parser.add_argument(
        "--master-bind-host",
        default="127.0.0.1",
        help="where the master listens for workers (0.0.0.0: other machines)",
    )
    parser.add_argument("--master-bind-port", type=int, default=0, help="0: a free port")
    parser.add_argument(
        "--expect-workers",
        type=int,
        help="workers to wait for, local and remote (default: --workers)",
    )
    parser.add_argument(
        "--join", metavar="MASTER", help="run only K workers for a master on another machine"
    )
    parser.add_argument("--master-port", type=int, default=5557, help="with --join")
    parser.add_argument(
        "locust_args",
        nargs="*",
        metavar="-- LOCUST_OPTION",
        help="after --: more options for the Locust master (e.g. -- --csv run)",
    )


# -- input ------------------------------------------------------------------------------
def parse_faults(raw: Sequence[str]) -> list[dict[str, Any]]:
    """Validate each --fault (the simulator's fault values, plus `share`)."""
    out = []
    for n, text in enumerate(raw, 1):
        source = f"--fault #{n}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{source}: not JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(value, dict):
            raise UsageError(f'{source}: expected a JSON object like {{"kind": "outage", ...}}')
        share = value.pop("share", None)
        fault = parse_fault(value, source)
        if share is not None:
            if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
                raise BadInput(source, "a share between 0 and 1", field="share", got=share)
            if fault.kind not in CLIENT_KINDS:
                raise BadInput(
                    source, "share only for browser-side faults", field="share", got=fault.kind
                )
        item = fault.as_dict()
        if share is not None:
            item["share"] = float(share)
        out.append(item)
    return out


def check_args(args: argparse.Namespace) -> None:
    from sim.load.target import check_url  # noqa: PLC0415 (aiohttp only when loading)

    if args.join is None:
        if not args.host:
            raise UsageError("give the server with --host URL")
        check_url(args.host)
    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    for name in ("users",):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} must be at least 1, got {getattr(args, name)}")
    for name in ("spawn_rate", "duration", "think", "interrupt_after", "settle"):
        value = getattr(args, name)
        if not value > 0 or value == float("inf"):
            raise UsageError(f"--{name.replace('_', '-')} must be a positive number, got {value}")
    if args.rate is not None and not 0 < args.rate < float("inf"):
        raise UsageError(f"--rate must be a positive number, got {args.rate}")
    if not 0 <= args.agent_every < float("inf"):
        raise UsageError(
            f"--agent-every must be 0 (none) or a positive number, got {args.agent_every}"
        )
    if args.expect_workers is not None and args.expect_workers < args.workers:
        raise UsageError("--expect-workers counts every worker, the local ones included")


def reach(url: str) -> None:
    """Any HTTP answer will do; no answer at all is bad input."""
    try:
        with urllib.request.urlopen(url, timeout=5.0):
            pass
    except urllib.error.HTTPError:
        pass
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UsageError(f"cannot reach {url}: {reason}") from None


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host if host != "0.0.0.0" else "127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- processes --------------------------------------------------------------------------
def locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


def worker_command(mode: str, master: str, port: int) -> list[str]:
    return locust(
        CLASSES[mode],
        "--worker",
        "--master-host",
        master,
        "--master-port",
        str(port),
        "--loglevel",
        "WARNING",
    )


def master_command(args: argparse.Namespace, port: int, summary: str) -> list[str]:
    faults = json.dumps(parse_faults(args.fault))
    command = locust(
        CLASSES[args.mode],
        "--master",
        "--headless",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--master-bind-host",
        args.master_bind_host,
        "--master-bind-port",
        str(port),
        "--expect-workers",
        str(args.expect_workers or args.workers),
        "--expect-workers-max-wait",
        str(WORKERS_MAX_WAIT),
        "-u",
        str(args.users),
        "-r",
        str(args.spawn_rate),
        "--host",
        args.host,
        "--chatsim-duration",
        str(args.duration),
        "--chatsim-summary",
        summary,
        "--chatsim-faults",
        faults,
        "--chatsim-think",
        str(args.think),
        "--chatsim-transport",
        args.transport,
        "--chatsim-settle",
        str(args.settle),
        "--chatsim-agent-every",
        str(args.agent_every),
        "--chatsim-interrupt-after",
        str(args.interrupt_after),
    )
    if args.token:
        command += ["--chatsim-token", args.token]
    if args.rate is not None:
        command += ["--chatsim-rate", str(args.rate)]
    return command + list(args.locust_args)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    root = str(LOCUSTFILE.parent.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_workers(args: argparse.Namespace) -> int:
    """`--join`: K workers for a master elsewhere; returns when they end."""
    command = worker_command(args.mode, args.join, args.master_port)
    procs = [subprocess.Popen(command, env=_environment()) for _ in range(args.workers)]
    print(
        f"chatsim load: {args.workers} worker(s) joining {args.join}:{args.master_port}", flush=True
    )
    try:
        return max(p.wait() for p in procs)
    finally:
        _stop(procs)


def _stop(procs: Sequence[subprocess.Popen[Any]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_master(args: argparse.Namespace, summary: str, log: Path) -> int:
    port = args.master_bind_port or free_port(args.master_bind_host)
    env = _environment()
    procs: list[subprocess.Popen[Any]] = []
    with open(log, "w", encoding="utf-8") as log_file:
        master = subprocess.Popen(
            master_command(args, port, summary),
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            env=env,
        )
        procs.append(master)
        time.sleep(0.3)  # the master binds before its workers knock
        local = args.master_bind_host in ("0.0.0.0", "", "::")
        connect_to = "127.0.0.1" if local else args.master_bind_host
        for _ in range(args.workers):
            procs.append(
                subprocess.Popen(
                    worker_command(args.mode, connect_to, port),
                    stdout=log_file,
                    stderr=log_file,
                    env=env,
                )
            )
        print(
            f"chatsim load: {args.users} browsers on {args.workers} local worker(s), "
            f"master on {args.master_bind_host}:{port}",
            flush=True,
        )
        try:
            assert master.stdout is not None
            for line in master.stdout:
                if line.startswith("[load]"):
                    print(line[len("[load] ") :].rstrip(), flush=True)
                else:
                    log_file.write(line)
            return master.wait()
        finally:
            _stop(procs)


def main(args: argparse.Namespace) -> int:
    check_args(args)
    if args.join is not None:
        return run_workers(args)
    parse_faults(args.fault)
    reach(args.host)
    with tempfile.TemporaryDirectory(prefix="chatsim-load-") as tmp:
        summary_path, log = os.path.join(tmp, "summary.json"), Path(tmp) / "locust.log"
        run_master(args, summary_path, log)
        try:
            with open(summary_path, encoding="utf-8") as fh:
                summary: dict[str, Any] = json.load(fh)
        except (OSError, ValueError):
            tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-15:]
            print(
                "chatsim load: the run ended without a summary; the last log lines:",
                *tail,
                sep="\n",
                file=sys.stderr,
            )
            return 1
    if "bad_input" in summary:
        raise UsageError(str(summary["bad_input"]))
    if args.json:
        with contextlib.suppress(OSError), open(args.json, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2, sort_keys=True)
    status, line = verdict(summary)
    print(render(summary))
    problems = summary.get("problems") or []
    if problems:
        print(f"  sessions with findings (first {len(problems)}):")
        print("\n".join(f"    {p}" for p in problems))
    print(line)
    return status
