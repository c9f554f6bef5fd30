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

The options are `sim.load.options`, the master's side `sim.load.master`; this
module holds the workers' side and wires both to Locust's events.
"""

from __future__ import annotations

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

from sim.load.master import FINAL_GRACE, Master
from sim.load.options import Options, options
from sim.load.options import forget as forget_options
from sim.load.tally import Totals

if TYPE_CHECKING:
    from sim.load.pool import Pool

log = logging.getLogger("chatsim.load")
TALLY = "chatsim_tally"
# The options and the master live in their own modules; their names stay importable here.
__all__ = ["FINAL_GRACE", "TALLY", "Master", "Options", "options", "pool_created", "run_started"]


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
    forget_options(environment)
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
