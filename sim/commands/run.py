"""`chatsim run SCENARIO`: play a scenario in virtual time and judge it.

Prints the timeline (unless --quiet), each failure, then the verdict.
Exit 0 when every expectation and invariant held, 1 when one failed (a core
that raises is a failure too, reported with the timeline up to the crash);
a bad scenario file or option raises a LocalError (exit 2 with a one-line
reason). Output paths are checked before the run starts.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from sim import outputs
from sim.cores import load_core
from sim.runner import REPLAY_BUDGET, RunResult, run_scenario
from sim.scenario import Scenario, load_scenario
from transport.core import ClientCore

if TYPE_CHECKING:
    from sim.report import ReportInput


def main(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    trace_path = outputs.writable_file(args.trace, "--trace")
    report_path = outputs.writable_file(args.report, "--report")
    core_spec = args.core if getattr(args, "core", None) else scenario.core
    where = "--core" if getattr(args, "core", None) else f"{scenario.source}: core"
    core = load_core(core_spec, where)
    for warning in scenario.warnings:
        print(f"chatsim run: warning: {warning}", file=sys.stderr)
    replay_check = getattr(args, "replay_check", False)
    result = execute(scenario, args.seed, replay_check=replay_check, core_class=core)
    if not args.quiet:
        from sim import timeline  # noqa: PLC0415 (only when printed: start-up)

        print(f"{scenario.name}  (seed {result.seed}, {scenario.duration:g} virtual seconds)")
        if core_spec is not None:
            print(f"client core: {core_spec}")
        print(timeline.render_text(result.records, scenario.duration), end="")
        print()
    for failure in result.failures:
        print(failure.describe())
    if trace_path is not None:
        outputs.write_lines(trace_path, result.trace_lines())
        print(f"trace: {trace_path}")
    if report_path is not None:
        from sim import report  # noqa: PLC0415 (the HTML report: only when asked)

        outputs.write(report_path, report.render_html(report_input(result)))
        print(f"report: {report_path}")
    if "I8" not in result.checked and result.events > REPLAY_BUDGET:
        print(
            f"I8 not replayed: a second run would repeat {result.events:,} kernel events"
            f" (more than {REPLAY_BUDGET:,}); --replay-check replays it"
        )
    print(result.verdict())
    return 0 if result.ok else 1


def execute(
    scenario: Scenario,
    seed: int | None,
    *,
    replay_check: bool = False,
    core_class: type[ClientCore] = ClientCore,
) -> RunResult:
    """What `chatsim run` does (the bench runs this): I8's second run when it is
    cheap, or always with `replay_check`."""
    return run_scenario(scenario, seed, twice=True if replay_check else None, core_class=core_class)


def report_input(result: RunResult) -> ReportInput:
    from sim import report, timeline  # noqa: PLC0415 (see main)

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
        expectations=report.expectation_verdicts(scenario, result.records),
    )
