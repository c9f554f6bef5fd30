"""`chatsim fuzz [--examples N] [--seed S] [--out DIR]`: a property-based fuzz campaign.

Programs (faults, reloads, ends, traffic, transport and cluster settings) are
drawn from a seeded generator on `--workers` processes (default: the cores);
the runner plays each in virtual time and judges I1-I8; the first failure is
shrunk. Progress goes to stderr: a bar redrawn in place on a terminal,
otherwise a plain line every `LOG_EVERY` examples (no carriage returns in a CI
log); the statechart coverage report goes to stdout. On a failure: the world
seed, the shrunk step program, what broke, and in --out a scenario file that
reproduces it with `chatsim run`, its trace and its timeline.

Exit 0 when every example held, 1 when one failed, 2 on bad usage.
An optional `core` argument (`module:Class`, a ClientCore subclass, importable
from the current directory) fuzzes a user's own transport core instead of the
built-in one; the reproduction file records it as `core:`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from sim import outputs, timeline
from sim.cores import load_core
from sim.hypo.campaign import (
    CampaignResult,
    FoundFailure,
    Progress,
    default_workers,
    run_campaign,
)
from sim.hypo.program import to_scenario, to_yaml
from statecharts.errors import UsageError

BAR_WIDTH = 30
LOG_EVERY = 100  # examples between progress lines when stderr is not a terminal


class ProgressBar:
    """A one-line text progress bar on a stream (redrawn with a carriage return)."""

    def __init__(self, out: TextIO, label: str = "fuzz") -> None:
        self.out = out
        self.label = label
        self.drawn = False
        self._last = ""

    def __call__(self, runs: int, wanted: int, shrinking: bool) -> None:
        if shrinking:
            text = f"{self.label}: failure found; shrinking (run {runs})"
        else:
            done = min(runs, wanted)
            filled = BAR_WIDTH * done // wanted
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            text = f"{self.label}: [{bar}] {done}/{wanted} examples"
        if text != self._last:
            self.out.write("\r" + text.ljust(len(self._last)))
            self.out.flush()
            self._last, self.drawn = text, True

    def close(self) -> None:
        if self.drawn:
            self.out.write("\n")
            self.out.flush()


class ProgressLog:
    """Progress as plain lines, for a stream that is not a terminal (a CI log)."""

    def __init__(self, out: TextIO, label: str = "fuzz", every: int = LOG_EVERY) -> None:
        self.out = out
        self.label = label
        self.every = every
        self.shrinking = False

    def __call__(self, runs: int, wanted: int, shrinking: bool) -> None:
        if shrinking and not self.shrinking:
            self.shrinking = True
            self.out.write(f"{self.label}: failure found after {runs - 1} examples; shrinking\n")
        elif not shrinking and (runs % self.every == 0 or runs == wanted):
            self.out.write(f"{self.label}: {min(runs, wanted)}/{wanted} examples\n")
        else:
            return
        self.out.flush()

    def close(self) -> None:
        pass


def progress_for(stream: TextIO) -> ProgressBar | ProgressLog:
    """A redrawn bar on a terminal, plain lines elsewhere."""
    isatty = getattr(stream, "isatty", None)
    return ProgressBar(stream) if isatty is not None and isatty() else ProgressLog(stream)


def main(args: argparse.Namespace) -> int:
    if args.examples < 1:
        raise UsageError(f"--examples must be at least 1, got {args.examples}")
    core_spec = getattr(args, "core", None)
    core = load_core(core_spec)
    out_dir = outputs.writable_folder(args.out, "--out")
    workers = getattr(args, "workers", None)
    workers = default_workers() if workers is None else workers
    bar = progress_for(sys.stderr)
    progress: Progress = bar
    try:
        result = run_campaign(
            args.examples, args.seed, core_class=core, progress=progress, workers=workers
        )
    finally:
        bar.close()
    print(result.coverage.report())
    print()
    if result.failure is not None:
        _report_failure(result, result.failure, args.seed, out_dir, core_spec)
        return 1
    if result.note is not None:
        print(f"FAIL: {result.note}")
        return 1
    print(f"PASS: {result.examples} examples held I1-I8 (seed {args.seed})")
    return 0


def _report_failure(
    result: CampaignResult, found: FoundFailure, seed: int, out: Path, core: str | None
) -> None:
    program = found.program
    steps = len(program.steps)
    print(
        f"FAIL after {result.examples} examples ({result.runs} runs with shrinking), "
        f"campaign seed {seed}"
    )
    print(f"seed: {found.seed}")
    print(f"shrunk program ({steps} step{'s' if steps != 1 else ''}):")
    for line in program.show().splitlines() or ["(no steps)"]:
        print(f"  {line}")
    print("broken:")
    for line in found.describe():
        print(f"  {line}")
    base = out / f"fuzz-{seed}-{found.seed}"
    repro = base.with_suffix(".yaml")
    name = f"fuzz {seed} repro {found.seed}"
    outputs.write(repro, to_yaml(program, found.seed, name=name, core=core))
    print(f"reproduce: chatsim run {repro}")
    if found.result is not None:
        trace = base.with_suffix(".trace.jsonl")
        outputs.write_lines(trace, found.result.trace_lines())
        duration = to_scenario(program, found.seed).duration
        text = timeline.render_text(found.result.records, duration)
        outputs.write(base.with_suffix(".timeline.txt"), text)
        print(f"trace: {trace}")
        print("timeline:")
        print(text, end="")
    else:
        print("timeline: none (the core raised while the world was being built)")
