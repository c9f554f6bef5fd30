"""The standard load of `chatsim bench`: figures a user can compare.

The named load (`examples/bench/long-10h.yaml`: one chat, a message from each
side every second, a 6 s outage every half hour, ten virtual hours; `--quick`:
`quick-1h.yaml`, one hour) runs as a whole `chatsim run` with default flags in
a child process, so CPU time and peak memory are the process's own
(`os.wait4`), start-up and judging included. Figures are per CPU second, not
per wall second: the machine may be shared.

When the minimal simulation of the same load (`../shared/perf/baseline.py`,
beside the project, never part of it) is there, it runs in the same way right
after, and the bench prints the ratio of the two CPU times.
"""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sim.commands.run import execute
from sim.runner import run_scenario
from sim.scenario import load_scenario
from statecharts import native

ROOT = Path(__file__).resolve().parents[2]
LOADS = ROOT / "examples" / "bench"
BASELINE = ROOT.parent / "shared" / "perf" / "baseline.py"
# Targets (benchmarks, never timed tests): CPU no more than the baseline's, aim half.
RATIO_TARGET, RATIO_AIM = 1.0, 0.5
MEMORY_TARGET_MIB = 200.0


@dataclass(frozen=True)
class Figures:
    """One whole process running the load."""

    who: str
    cpu: float  # user + system seconds
    peak_mib: float
    duration: float  # virtual seconds
    kernel_events: int
    frames: int
    app_messages: int
    verdict: str = ""

    def per_message_us(self) -> float:
        return 1e6 * self.cpu / max(self.app_messages, 1)

    def per_frame_us(self) -> float:
        return 1e6 * self.cpu / max(self.frames, 1)

    def events_per_s(self) -> float:
        return self.kernel_events / max(self.cpu, 1e-9)

    def real_time(self) -> float:
        return self.duration / max(self.cpu, 1e-9)


def load_path(quick: bool) -> Path:
    return LOADS / ("quick-1h.yaml" if quick else "long-10h.yaml")


def _run_child(cmd: list[str]) -> tuple[str, float, float]:
    """(stdout, CPU seconds, peak RSS MiB) of one child process."""
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        # wait4, not proc.wait(): it gives this child's own CPU time and peak RSS.
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed: {err.read().strip()[-300:]}")
    return out, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def measure_chatsim(path: Path) -> Figures:
    out, cpu, peak = _run_child([sys.executable, "-m", "sim.commands.bench_load", str(path)])
    data = json.loads(out.strip().splitlines()[-1])
    del data["run_cpu"]  # the whole process's CPU time is the figure here
    return Figures("chatsim", cpu, peak, **data)


_BASELINE_COUNTS = re.compile(r"frames ([\d,]+).*acked ([\d,]+)")
_BASELINE_EVENTS = re.compile(r"kernel events ([\d,]+)")


def measure_baseline(duration: float, script: Path = BASELINE) -> Figures | None:
    """The yardstick with stdlib json and a trace, or None when it is not there."""
    if not script.is_file():
        return None
    cmd = [sys.executable, str(script), "--codec", "json", "--trace", "--repeat", "1"]
    out, cpu, peak = _run_child([*cmd, "--duration", f"{duration:g}"])
    counts, events = _BASELINE_COUNTS.search(out), _BASELINE_EVENTS.search(out)
    if counts is None or events is None:
        return Figures("baseline", cpu, peak, duration, 0, 0, 0, "unreadable output")
    frames, acked = (int(g.replace(",", "")) for g in counts.groups())
    agent = int(duration)  # one agent message a second, as in the load
    kernel = int(events.group(1).replace(",", ""))
    return Figures("baseline", cpu, peak, duration, kernel, frames, acked + agent)


def report(quick: bool) -> list[str]:
    path = load_path(quick)
    ours = measure_chatsim(path)
    base = measure_baseline(ours.duration)
    lines = [
        f"standard load {path.stem} ({path.relative_to(ROOT)}): {ours.duration:g} virtual s,"
        f" {ours.app_messages:,} chat messages, {ours.frames:,} wire frames",
        f"chatsim's hot path: {native.activate().reason}",
        f"{'':<34} {'chatsim':>12} {'baseline':>12}",
    ]
    rows: list[tuple[str, Callable[[Figures], str]]] = [
        ("CPU, whole process (s)", lambda f: f"{f.cpu:.2f}"),
        ("us of CPU per chat message", lambda f: f"{f.per_message_us():.1f}"),
        ("us of CPU per wire frame", lambda f: f"{f.per_frame_us():.1f}"),
        ("kernel events per CPU second", lambda f: f"{f.events_per_s():,.0f}"),
        ("x real time (per CPU second)", lambda f: f"{f.real_time():,.0f}"),
        ("peak memory (MiB)", lambda f: f"{f.peak_mib:.0f}"),
    ]
    for label, fmt in rows:
        lines.append(f"{label:<34} {fmt(ours):>12} {fmt(base) if base else '-':>12}")
    lines.append(f"chatsim run verdict: {ours.verdict}")
    memory = "ok" if ours.peak_mib <= MEMORY_TARGET_MIB else "ABOVE"
    lines.append(f"peak memory target <= {MEMORY_TARGET_MIB:.0f} MiB: {memory}")
    if base is None:
        lines.append(f"baseline: {BASELINE} not found, no ratio")
    else:
        ratio = ours.cpu / max(base.cpu, 1e-9)
        status = "ok" if ratio <= RATIO_TARGET else "ABOVE"
        lines.append(
            f"CPU ratio chatsim/baseline: {ratio:.2f} (target <= {RATIO_TARGET:g},"
            f" aim {RATIO_AIM:g}): {status}"
        )
    return lines


FUZZ_TARGET = 200.0  # examples per wall second, `chatsim fuzz` as a whole process


def fuzz_report(quick: bool) -> list[str]:
    """`chatsim fuzz --examples N` as a whole process, on the default workers."""
    examples = 500 if quick else 2000
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "sim.cli", "fuzz", "--examples", str(examples)]
        began = time.perf_counter()
        _, cpu, peak = _run_child([*cmd, "--out", out])
        wall = time.perf_counter() - began
    rate = examples / max(wall, 1e-9)
    status = "ok" if rate >= FUZZ_TARGET else "BELOW"
    return [
        f"chatsim fuzz --examples {examples} ({_workers()} workers): {wall:.1f} s wall,"
        f" {cpu:.1f} s CPU, peak {peak:.0f} MiB",
        f"  {rate:,.0f} examples per wall second (target >= {FUZZ_TARGET:g}): {status};"
        f" {examples / max(cpu, 1e-9):,.0f} per CPU second",
    ]


SCALING_LIMIT = 2.0  # CPU per message at 1,000 clients / at 10 clients


def scaling_report() -> list[str]:
    """10 and 1,000 clients for 60 s: CPU of the run (no replay) per chat message."""
    per_message = {}
    for n in (10, 1000):
        out, _, _ = _run_child(
            [sys.executable, "-m", "sim.commands.bench_load", str(LOADS / f"clients-{n}.yaml"), "1"]
        )
        data = json.loads(out.strip().splitlines()[-1])
        per_message[n] = 1e6 * data["run_cpu"] / max(data["app_messages"], 1)
    ratio = per_message[1000] / max(per_message[10], 1e-9)
    status = "ok" if ratio <= SCALING_LIMIT else "ABOVE"
    return [
        f"clients-10 / clients-1000 (60 s each, one run, judged): {per_message[10]:.1f} /"
        f" {per_message[1000]:.1f} us of CPU per chat message;"
        f" ratio {ratio:.2f} (target <= {SCALING_LIMIT:g}): {status}",
    ]


def _workers() -> int:
    # Imported here: the measured child (this module) must not pay for Hypothesis.
    from sim.hypo.campaign import default_workers  # noqa: PLC0415

    return default_workers()


def _child(path: str, single: bool) -> None:
    """Run the load as `chatsim run FILE --quiet` does (`single`: without the I8
    replay) and print its counts, and the CPU time of the run itself, as JSON."""
    scenario = load_scenario(path)
    began = time.process_time()
    result = run_scenario(scenario, twice=False) if single else execute(scenario, None)
    run_cpu = time.process_time() - began
    stats = result.stats
    print(
        json.dumps(
            {
                "duration": scenario.duration,
                "kernel_events": stats.kernel_events,
                "frames": stats.frames,
                "app_messages": stats.app_messages,
                "verdict": result.verdict(),
                "run_cpu": run_cpu,
            }
        )
    )
    gc.freeze()  # and exits as `chatsim run` does: without a last pass of the collector


if __name__ == "__main__":
    _child(sys.argv[1], single=len(sys.argv) > 2)
