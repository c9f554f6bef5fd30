"""The master's side of a chatsim Locust run (or a single local process's).

It keeps the latest tally of each worker, prints their sums as progress lines,
and, with `--chatsim-duration`, ends the run under control: post the server
faults, stop the users after the traffic time, wait for every worker's final
tally, quit, and write the sums as JSON to `--chatsim-summary`.
`sim.load.plugin` wires it to Locust's events.
"""

from __future__ import annotations

import json
import time
from typing import Any

import gevent
from locust.env import Environment
from locust.runners import MasterRunner

from sim.load.options import Options, options
from sim.load.tally import Totals

FINAL_GRACE = 30.0  # beyond the settle time, how long the master waits for final tallies


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
