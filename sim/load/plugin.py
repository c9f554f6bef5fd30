"""chatsim's part of a Locust run: options, per-worker tallies, the master's sums.

Imported with `sim.load.ChatUser`, it registers Locust event listeners:

- options `--chatsim-*` (Locust hands them to the workers with each spawn);
- on every worker (or a single local process): every `--chatsim-progress`
  seconds, and once more when the test stops, the worker's tally goes to the
  master as the custom message `chatsim_tally` (the final one after every
  session settled and was judged);
- on the master: the latest tally of each worker, summed into progress lines
  and, with `--chatsim-duration`, a controlled end: stop the users, wait for
  every worker's final tally, quit, and write the sums as JSON to
  `--chatsim-summary`. Server faults in `--chatsim-faults` are posted to the
  server's fault API when the run starts; client faults are applied by the
  workers (`sim.load.netfaults`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from sim.load.tally import SETTLE, Totals

if TYPE_CHECKING:
    from sim.load.pool import Pool

log = logging.getLogger("chatsim.load")
TALLY = "chatsim_tally"
FINAL_GRACE = 30.0  # beyond the settle time, how long the master waits for final tallies


@dataclass(frozen=True)
class Options:
    think: float | None = None
    rate: float | None = None
    transport: str = "websocket"
    token: str | None = None
    interrupt_after: float = 3.0
    duration: float = 0.0
    summary: str | None = None
    faults: tuple[dict[str, Any], ...] = ()
    settle: float = SETTLE
    progress: float = 3.0
    agent_every: float = 0.0


_cache: dict[int, Options] = {}  # per environment, dropped when a test starts


def options(environment: Environment) -> Options:
    """The `--chatsim-*` options (workers get them from the master with each spawn)."""
    key = id(environment)
    if key not in _cache:
        _cache[key] = _parse_options(environment)
    return _cache[key]


def _parse_options(environment: Environment) -> Options:
    parsed = environment.parsed_options
    if parsed is None:
        return Options()
    faults = getattr(parsed, "chatsim_faults", None) or "[]"
    return Options(
        think=getattr(parsed, "chatsim_think", None),
        rate=getattr(parsed, "chatsim_rate", None),
        transport=getattr(parsed, "chatsim_transport", None) or "websocket",
        token=getattr(parsed, "chatsim_token", None) or None,
        interrupt_after=float(getattr(parsed, "chatsim_interrupt_after", None) or 3.0),
        duration=float(getattr(parsed, "chatsim_duration", None) or 0.0),
        summary=getattr(parsed, "chatsim_summary", None) or None,
        faults=tuple(json.loads(faults)),
        settle=float(getattr(parsed, "chatsim_settle", None) or SETTLE),
        progress=float(getattr(parsed, "chatsim_progress", None) or 0.0),
        agent_every=float(getattr(parsed, "chatsim_agent_every", None) or 0.0),
    )


@events.init_command_line_parser.add_listener
def _add_options(parser: argparse.ArgumentParser, **_kw: Any) -> None:
    group = parser.add_argument_group("chatsim", "emulated browsers (sim.load)")
    group.add_argument(
        "--chatsim-think", type=float, default=None, help="mean seconds between one user's messages"
    )
    group.add_argument(
        "--chatsim-rate",
        type=float,
        default=None,
        help="messages per second per browser, paced (instead of a think time)",
    )
    group.add_argument(
        "--chatsim-transport", default="websocket", choices=("websocket", "long-polling")
    )
    group.add_argument("--chatsim-token", default=None, help="bearer token of the server's API")
    group.add_argument("--chatsim-interrupt-after", type=float, default=3.0)
    group.add_argument(
        "--chatsim-duration",
        type=float,
        default=0.0,
        help="seconds of traffic, then settle, judge and quit (master)",
    )
    group.add_argument("--chatsim-summary", default=None, help="write the sums here (master)")
    group.add_argument("--chatsim-faults", default="[]", help="JSON list of fault objects")
    group.add_argument(
        "--chatsim-settle",
        type=float,
        default=SETTLE,
        help="seconds each session may take to settle at the end (default: a dropped "
        "connect reply's worst case, hold 30 s + network delay 10 s, and slack)",
    )
    group.add_argument(
        "--chatsim-agent-every",
        type=float,
        default=0.0,
        help="mean seconds between the agent's messages in each chat (chatsim serve; 0: none)",
    )
    group.add_argument(
        "--chatsim-progress",
        type=float,
        default=3.0,
        help="seconds between progress lines (0: none)",
    )


# -- workers (and a single local process) -------------------------------------------------
@dataclass
class WorkerState:
    pool: Pool | None = None  # once the first user made it
    reporter: gevent.Greenlet | None = None
    started: float = field(default_factory=time.monotonic)


_worker = WorkerState()


def pool_created(environment: Environment, pool: Pool) -> None:
    _worker.pool = pool


def run_started() -> float:
    """When this worker's test started (time.monotonic): faults' `at` counts from here."""
    return _worker.started


def _is_master(environment: Environment) -> bool:
    return isinstance(environment.runner, MasterRunner)


def _send_tally(environment: Environment, final: bool) -> None:
    pool = _worker.pool
    totals = (
        (pool.final if final and pool.final is not None else pool.totals()) if pool else Totals()
    )
    runner = environment.runner
    if runner is not None:
        problems = pool.problems if final and pool is not None else []
        data = {"final": final, "tally": totals.as_dict(), "proc": _proc(), "problems": problems}
        runner.send_message(TALLY, data)


def _proc() -> dict[str, Any]:
    """This worker process's cost so far: CPU seconds and peak memory."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "max_rss_mib": round(usage.ru_maxrss / 1024.0, 1),
        "loop_cpu_s": round(_loop_cpu(), 3),  # of which the sessions' asyncio thread
    }


def _loop_cpu() -> float:
    pool = _worker.pool
    if pool is None:
        return 0.0

    async def thread_time() -> float:
        return time.thread_time()

    try:
        return float(pool.bridge.call(thread_time, timeout=5.0))
    except TimeoutError:
        return 0.0


def _report_forever(environment: Environment, every: float) -> None:
    while True:
        gevent.sleep(every)
        _send_tally(environment, final=False)


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_kw: Any) -> None:
    _cache.pop(id(environment), None)
    opts = options(environment)
    if not _is_master(environment):
        _worker.started = time.monotonic()
        if _worker.pool is not None:  # a second test (web UI): fresh sessions and sums
            _worker.pool.reset(_worker.started)
        if _worker.reporter is None:
            _worker.reporter = gevent.spawn(
                _report_forever, environment, max(opts.progress / 2, 1.0)
            )
    if not isinstance(environment.runner, WorkerRunner):
        _master.start(environment, opts)


@events.test_stopping.add_listener
def _on_test_stopping(environment: Environment, **_kw: Any) -> None:
    if _is_master(environment) or _worker.pool is None:
        return
    try:
        _worker.pool.settle_all(options(environment).settle)
    except TimeoutError as exc:  # the tally then shows the sessions as they stand
        log.error("chatsim: sessions did not settle: %s", exc)


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_kw: Any) -> None:
    if _is_master(environment):
        return
    if _worker.reporter is not None:
        _worker.reporter.kill(block=False)
        _worker.reporter = None
    _send_tally(environment, final=True)


# -- the master (or a single local process) ---------------------------------------------
class Master:
    def __init__(self) -> None:
        self.latest: dict[str, tuple[bool, Totals]] = {}
        self.procs: dict[str, dict[str, Any]] = {}
        self.problems: dict[str, list[str]] = {}
        self.started = 0.0
        self.controller: Any = None
        self.environment: Environment | None = None
        self.written = False
        self.bad_input: str | None = None  # a server fault the server refused

    def on_tally(self, environment: Environment, msg: Any, **_kw: Any) -> None:
        data = msg.data or {}
        self.latest[str(msg.node_id)] = (bool(data.get("final")), Totals.from_dict(data["tally"]))
        self.procs[str(msg.node_id)] = dict(data.get("proc") or {})
        if data.get("problems"):
            self.problems[str(msg.node_id)] = [str(p) for p in data["problems"]]

    def totals(self) -> Totals:
        return Totals.sum(t for _, t in self.latest.values())

    def finals(self) -> int:
        return sum(1 for final, _ in self.latest.values() if final)

    def start(self, environment: Environment, opts: Options) -> None:
        self.environment = environment
        self.started = time.monotonic()
        self.latest.clear()
        self.procs.clear()
        self.problems.clear()
        if self.controller is None or self.controller.dead:
            self.controller = gevent.spawn(self._control, environment, opts)

    def _control(self, environment: Environment, opts: Options) -> None:
        from sim.load import serverfaults  # noqa: PLC0415 (only with a controlled run)

        refused = serverfaults.post_all(environment.host or "", opts.faults, opts.token)
        runner = environment.runner
        assert runner is not None
        if refused:
            self.bad_input = f"the server refused a fault: {refused[0]}"
            runner.quit()
            return
        if opts.duration <= 0:
            self._progress_forever(opts.progress)
            return
        end = self.started + opts.duration
        while (left := end - time.monotonic()) > 0:
            gevent.sleep(min(left, opts.progress or left))
            if opts.progress:
                self.print_progress()
        print(
            f"[load] {self.elapsed():.0f}s traffic stopped; sessions settle and are judged",
            flush=True,
        )
        runner.stop()
        expected = max(len(self.latest), 1)
        if isinstance(runner, MasterRunner):
            expected = max(expected, runner.worker_count)
        deadline = time.monotonic() + opts.settle + FINAL_GRACE
        while self.finals() < expected and time.monotonic() < deadline:
            gevent.sleep(0.2)
        self.print_progress()
        runner.quit()

    def _progress_forever(self, every: float) -> None:
        while every > 0:
            gevent.sleep(every)
            self.print_progress()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def print_progress(self) -> None:
        t = self.totals()
        errors = " ".join(f"{code}:{n}" for code, n in sorted(t.errors.items())) or "-"
        print(
            f"[load] {self.elapsed():4.0f}s users {t.users} ready {t.sessions_ready} "
            f"sent {t.sent} acked {t.acked} failed {t.failed} agent {t.agent_said} "
            f"delivered {t.delivered} "
            f"interrupted {t.interrupted} continued {t.continued} restored {t.restored} "
            f"errors {errors}",
            flush=True,
        )

    def summary(self, environment: Environment) -> dict[str, Any]:
        totals = self.totals()
        out = totals.as_dict()
        out["workers"] = len(self.latest)
        out["workers_final"] = self.finals()
        parsed = environment.parsed_options
        out["workers_expected"] = int(getattr(parsed, "expect_workers", 0) or 0) if parsed else 0
        if not isinstance(environment.runner, MasterRunner):
            out["workers_expected"] = 1  # one local process
        out["duration"] = round(self.elapsed(), 3)
        out["problems"] = [p for node in sorted(self.problems) for p in self.problems[node]]
        out["traffic_s"] = options(environment).duration or out["duration"]
        out["per_worker"] = [
            {
                "users": t.users,
                "sessions_alive": t.sessions_alive,
                "acked": t.acked,
                **self.procs.get(node, {}),
            }
            for node, (_final, t) in sorted(self.latest.items())
        ]
        out["truth"] = (
            "server"
            if totals.judged and totals.truth_checked == totals.judged
            else "client"
            if not totals.truth_checked
            else "mixed"
        )
        stats = environment.runner.stats if environment.runner is not None else None
        for key, name in (
            ("ack_ms", "send→ack"),
            ("handshake_ms", "handshake"),
            ("login_ms", "login"),
            ("subscribe_ms", "subscribe"),
            ("restore_ms", "restore"),
        ):
            out[key] = _percentiles(stats, name)
        return out

    def write(self, environment: Environment) -> None:
        path = options(environment).summary
        if self.written or path is None:
            return
        self.written = True
        summary = {"bad_input": self.bad_input} if self.bad_input else self.summary(environment)
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=2, sort_keys=True)


def _percentiles(stats: Any, name: str) -> dict[str, float | None]:
    entries = [e for (n, _m), e in (stats.entries.items() if stats else []) if n == name]
    if not entries or not any(e.num_requests for e in entries):
        return {"p50": None, "p99": None, "count": 0}
    entry = max(entries, key=lambda e: e.num_requests)
    return {
        "p50": float(entry.get_response_time_percentile(0.5)),
        "p99": float(entry.get_response_time_percentile(0.99)),
        "count": int(entry.num_requests),
    }


_master = Master()


def _quiet_state_machine_logs() -> None:
    # `transitions` logs every state change at INFO: thousands of browsers would flood
    # the worker's log (and spend its CPU) with them.
    logging.getLogger("transitions").setLevel(logging.WARNING)


_quiet_state_machine_logs()


@events.init.add_listener
def _on_init(environment: Environment, **_kw: Any) -> None:
    _quiet_state_machine_logs()  # again, after Locust set up logging
    runner = environment.runner
    if runner is not None and not isinstance(runner, WorkerRunner):
        runner.register_message(TALLY, _master.on_tally)


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_kw: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner):
        try:
            _master.write(environment)
        except OSError as exc:
            print(f"chatsim load: cannot write the summary: {exc}", file=sys.stderr)
