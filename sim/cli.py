"""The `chatsim` command line: simulate chat transport faults, check traces, fuzz client flows.

Exit status: 0 everything held, 1 an expectation or invariant failed, 2 bad
input or usage, with a one-line reason on stderr and never a traceback.
Each subcommand lives in its own module under `sim.commands` and is imported
only when used, so `chatsim codes` does not pay for aiohttp.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import NoReturn

from sim.live.limits import DEFAULT_LIMITS
from sim.live.limits import FLAGS as LIMIT_FLAGS
from sim.seed import SEED_RULE, is_seed
from statecharts.errors import LocalError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"chatsim: {message} (see chatsim --help)\n")


def _version() -> str:
    try:
        return metadata.version("chatsim")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def seed(text: str) -> int:
    """A seed on the command line obeys the rule of a scenario file's `seed:`."""
    try:
        value: object = int(text)
    except ValueError:
        value = None
    if not is_seed(value):
        raise argparse.ArgumentTypeError(f"expected {SEED_RULE}, got {text!r}")
    assert isinstance(value, int)
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chatsim", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"chatsim {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run a scenario file in virtual time")
    run.add_argument("scenario", help="scenario YAML file")
    run.add_argument("--seed", type=seed, help="override the scenario's seed")
    run.add_argument(
        "--core", help="module:Class of a ClientCore subclass to run (default: the scenario's)"
    )
    run.add_argument("--trace", help="write the JSON Lines trace to this file")
    run.add_argument("--report", help="write a self-contained HTML report to this file")
    run.add_argument("--quiet", action="store_true", help="print only the verdict")
    run.add_argument(
        "--replay-check",
        action="store_true",
        help="always run a second time to check I8 (default: only when the run is small)",
    )

    check = sub.add_parser("check", help="judge a trace against the statechart and invariants")
    check.add_argument("trace", help="JSON Lines trace file")
    check.add_argument("--interrupt-after", type=float, help="interruption threshold, seconds")
    check.add_argument("--tolerance", type=float, help="time tolerance, seconds")

    diagram = sub.add_parser("diagram", help="draw the transport statechart")
    diagram.add_argument("--format", default="mermaid", choices=("mermaid", "dot", "svg"))

    codes = sub.add_parser("codes", help="print the EventError catalog")
    codes.add_argument("--json", action="store_true", help="as JSON")
    from statecharts.dialects import DIALECTS  # noqa: PLC0415 (the seeds' server dialects)

    dialect_names = sorted(DIALECTS)
    codes.add_argument(
        "--dialect",
        choices=dialect_names,
        help="a server dialect's error table and its mapping to EventError codes",
    )

    serve = sub.add_parser("serve", help="serve the chat server emulator live")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--instances", type=int, default=1)
    serve.add_argument("--session-ttl", type=float, help="seconds (default: the dialect's, 60)")
    serve.add_argument("--allow-remote", action="store_true")
    serve.add_argument("--token", help="bearer token for the fault control API")
    serve.add_argument(
        "--trace", metavar="DIR", help="write each browser session's trace to DIR/<session>.jsonl"
    )
    serve.add_argument(
        "--dialect",
        choices=dialect_names,
        help="speak another seed's error format and profile (e.g. polyai, livechat)",
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages from ORIGIN (scheme://host:port, or * for any) connect; repeatable",
    )
    serve.add_argument(
        "--agent-every",
        type=float,
        metavar="S",
        help="the agent says something every S seconds in each chat",
    )
    serve.add_argument(
        "--agent-reply-after",
        type=float,
        metavar="S",
        help="the agent answers each client message S seconds later",
    )
    for flag, (name, kind, text) in LIMIT_FLAGS.items():
        default = getattr(DEFAULT_LIMITS, name)
        serve.add_argument(flag, type=kind, default=default, help=f"{text} (default {default})")

    fuzz = sub.add_parser("fuzz", help="property-based fuzz campaign of client flows")
    fuzz.add_argument("--examples", type=int, default=200)
    fuzz.add_argument("--seed", type=seed, default=0)
    fuzz.add_argument("--out", default="fuzz-out", help="folder for reproductions")
    fuzz.add_argument("--core", help="module:Class of your own ClientCore subclass to fuzz instead")
    fuzz.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: the machine's cores); each takes its own examples",
    )

    load = sub.add_parser("load", help="emulated browsers at scale on Locust (distributed)")
    from sim.commands.load import add_arguments  # noqa: PLC0415 (argparse only, no Locust)

    add_arguments(load)

    _add_bench(sub.add_parser("bench", help="measure the performance targets"))
    compile_ = sub.add_parser("compile", help="compile the hot path with mypyc (about 1.5x faster)")
    from sim.commands.compile import add_arguments as add_compile  # noqa: PLC0415

    add_compile(compile_)
    return parser


def _add_bench(bench: argparse.ArgumentParser) -> None:
    bench.add_argument("--live", action="store_true", help="live throughput vs a Faye server")
    bench.add_argument("--quick", action="store_true", help="shorter runs")
    bench.add_argument(
        "--sessions",
        type=int,
        metavar="N",
        help="with --live: WebSocket sessions to hold for the memory figure (default 20000)",
    )
    bench.add_argument(
        "--hostile",
        type=int,
        metavar="N",
        help="send N malformed frames to a chatsim serve process and judge every answer",
    )
    bench.add_argument(
        "--load-only", action="store_true", help="only the standard load and its baseline"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = importlib.import_module(f"sim.commands.{args.command}")
    try:
        status: int = module.main(args)
    except LocalError as exc:
        print(f"chatsim {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"chatsim {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    return status


if __name__ == "__main__":
    sys.exit(main())
