"""The model of a chat transport: statechart, error catalog, events, traces, checker."""

# ruff: noqa: E402 (the compiled build, if current, must be in place before any module loads)
from statecharts.native import activate

activate()

from statecharts.catalog import CATALOG, ErrorCode
from statecharts.chart import Chart, State, Timers, Trigger
from statecharts.events import (
    AppEvent,
    Continued,
    Ended,
    EventError,
    Interrupted,
    Message,
    Ready,
    Restored,
    StateChanged,
)

__all__ = [
    "CATALOG",
    "AppEvent",
    "Chart",
    "Continued",
    "Ended",
    "ErrorCode",
    "EventError",
    "Interrupted",
    "Message",
    "Ready",
    "Restored",
    "State",
    "StateChanged",
    "Timers",
    "Trigger",
]
