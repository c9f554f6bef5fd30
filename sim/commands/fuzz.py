"""`chatsim fuzz [--examples N] [--seed S] [--out DIR]`: a property-based fuzz campaign.

Programs (faults, reloads, ends, traffic, transport and cluster settings) are
drawn from a seeded generator on `--workers` processes (default: the cores);
the runner plays each in virtual time and judges I1-I8; the first failure is
shrunk.
Progress goes to stderr as plain text; the statechart coverage report to
stdout. On a failure: the world seed, the shrunk step program, what broke,
and in --out a scenario file that reproduces it with `chatsim run`, its
trace and its timeline.

Exit 0 when every example held, 1 when one failed, 2 on bad usage.
An optional `core` argument (`module:Class`, a ClientCore subclass) fuzzes
a user's own transport core instead of the built-in one.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import TextIO

from sim import timeline
from sim.hypo.campaign import CampaignResult, FoundFailure, default_workers, run_campaign
from sim.hypo.program import to_scenario, to_yaml
from statecharts.errors import UsageError
from transport.core import ClientCore

BAR_WIDTH = 30


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


def load_core(spec: str | None) -> type[ClientCore]:
    """`module:Class` naming a ClientCore subclass; None gives the built-in core."""
    if spec is None:
        return ClientCore
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise UsageError(f"--core: expected module:Class, got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--core: cannot import {module_name}: {exc}") from None
    core = getattr(module, class_name, None)
    if not (isinstance(core, type) and issubclass(core, ClientCore)):
        raise UsageError(f"--core: {spec} is not a ClientCore subclass")
    return core


def main(args: argparse.Namespace) -> int:
    if args.examples < 1:
        raise UsageError(f"--examples must be at least 1, got {args.examples}")
    core = load_core(getattr(args, "core", None))
    workers = getattr(args, "workers", None)
    workers = default_workers() if workers is None else workers
    out_dir = Path(args.out)
    bar = ProgressBar(sys.stderr)
    try:
        result = run_campaign(
            args.examples, args.seed, core_class=core, progress=bar, workers=workers
        )
    finally:
        bar.close()
    print(result.coverage.report())
    print()
    if result.failure is not None:
        _report_failure(result, result.failure, args.seed, out_dir)
        return 1
    if result.note is not None:
        print(f"FAIL: {result.note}")
        return 1
    print(f"PASS: {result.examples} examples held I1-I8 (seed {args.seed})")
    return 0


def _report_failure(result: CampaignResult, found: FoundFailure, seed: int, out: Path) -> None:
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
    _write(repro, to_yaml(program, found.seed, name=f"fuzz {seed} repro {found.seed}"))
    print(f"reproduce: chatsim run {repro}")
    if found.result is not None:
        trace = base.with_suffix(".trace.jsonl")
        _write(trace, found.result.trace_text)
        duration = to_scenario(program, found.seed).duration
        text = timeline.render_text(found.result.records, duration)
        _write(base.with_suffix(".timeline.txt"), text)
        print(f"trace: {trace}")
        print("timeline:")
        print(text, end="")


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
