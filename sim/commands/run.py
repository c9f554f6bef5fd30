"""`chatsim run SCENARIO`: play a scenario in virtual time and judge it.

Prints the timeline (unless --quiet), each failure, then the verdict.
Exit 0 when every expectation and invariant held, 1 when one failed; a bad
scenario file raises BadInput (exit 2 with a one-line reason).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim import report, timeline
from sim.runner import REPLAY_BUDGET, RunResult, run_scenario
from sim.scenario import Scenario, load_scenario
from statecharts.errors import UsageError


def main(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    result = execute(scenario, args.seed, replay_check=getattr(args, "replay_check", False))
    if not args.quiet:
        print(f"{scenario.name}  (seed {result.seed}, {scenario.duration:g} virtual seconds)")
        print(timeline.render_text(result.records, scenario.duration), end="")
        print()
    for failure in result.failures:
        print(failure.describe())
    if args.trace:
        _write(Path(args.trace), result.trace_text)
    if args.report:
        _write(Path(args.report), report.render_html(report_input(result)))
    if "I8" not in result.checked:
        print(
            f"I8 not replayed: a second run would repeat {result.events:,} kernel events"
            f" (more than {REPLAY_BUDGET:,}); --replay-check replays it"
        )
    print(result.verdict())
    return 0 if result.ok else 1


def execute(scenario: Scenario, seed: int | None, *, replay_check: bool = False) -> RunResult:
    """What `chatsim run` does (the bench runs this): I8's second run when it is
    cheap, or always with `replay_check`."""
    return run_scenario(scenario, seed, twice=True if replay_check else None)


def report_input(result: RunResult) -> report.ReportInput:
    scenario = result.scenario
    return report.ReportInput(
        title=scenario.name,
        seed=result.seed,
        duration=scenario.duration,
        records=result.records,
        instances=scenario.cluster.names,
        verdict=result.verdict(),
        failures=[f.describe() for f in result.failures],
        timeline=timeline.render_text(result.records, scenario.duration),
    )


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
