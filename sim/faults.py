"""Faults as values: re-exported from `statecharts.faults`, where they live.

The values and their one validation sit in `statecharts/` so that the aio
client (`transport/aio`, which must not import `sim`) can apply the same
faults to its own links; `sim` code keeps importing them from here.
"""

from statecharts.faults import (
    FAULT_TYPES,
    MAX_COUNT,
    MAX_MS,
    MAX_SECONDS,
    NEEDS_DURATION,
    NETWORK_KINDS,
    Blackhole,
    CommandError,
    Corrupt,
    CorruptMode,
    Crash,
    Direction,
    Duplicate,
    Expire,
    Fault,
    Latency,
    Loss,
    NotReady,
    Outage,
    Reload,
    Reorder,
    Slow,
    parse_fault,
)

__all__ = [
    "FAULT_TYPES",
    "MAX_COUNT",
    "MAX_MS",
    "MAX_SECONDS",
    "NEEDS_DURATION",
    "NETWORK_KINDS",
    "Blackhole",
    "CommandError",
    "Corrupt",
    "CorruptMode",
    "Crash",
    "Direction",
    "Duplicate",
    "Expire",
    "Fault",
    "Latency",
    "Loss",
    "NotReady",
    "Outage",
    "Reload",
    "Reorder",
    "Slow",
    "parse_fault",
]
