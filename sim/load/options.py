"""chatsim's `--chatsim-*` Locust options and their one parse.

Registered with Locust when `sim.load.plugin` is imported (Locust hands the
options to the workers with each spawn); `options(environment)` reads them once
per environment and test.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from locust import events
from locust.env import Environment

from sim.load.tally import SETTLE


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


def forget(environment: Environment) -> None:
    """Drop the options read for `environment`: a new test starts and may bring others."""
    _cache.pop(id(environment), None)


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
