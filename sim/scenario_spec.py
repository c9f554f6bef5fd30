"""What a scenario file becomes: frozen dataclasses, the keys each section takes, and the limits.

Split out of `sim.scenario` (which re-exports every public name here) so
that code using a scenario need not read the YAML parser to see its shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.faults import Fault
from statecharts.chart import Timers
from statecharts.errors import UsageError
from transport.wire import ConnectionType

_TOP_KEYS = (
    "name",
    "seed",
    "duration",
    "cluster",
    "client",
    "clients",
    "network",
    "traffic",
    "faults",
    "actions",
    "expect",
    "core",
)
_CLIENT_KEYS = (
    "id",
    "interrupt_after",
    "interruption_error",
    "max_network_delay",
    "backoff_increment",
    "max_backoff",
    "jitter",
    "transport",
    "start_at",
    "end_at",
)
_CLUSTER_KEYS = ("instances", "session_ttl", "dialect", "max_message_bytes")
_NETWORK_KEYS = ("latency",)
_TRAFFIC_KEYS = ("client_every", "agent_every")
_TIME_KEYS = ("at", "after", "before", "between")
_EXPECT_RESERVED = (*_TIME_KEYS, "kind", "none", "count", "client")
_NAME_KEYS = ("kind", "mode", "direction", "client", "instance")

MAX_CLIENTS = 10_000
MAX_DURATION = 7 * 24 * 3600.0
# Scenario files are written by hand or by `chatsim fuzz`: a few KiB. The limit
# answers a wrong file at once instead of parsing it for minutes.
MAX_SCENARIO_BYTES = 1024 * 1024
# Shorter one-way latencies vanish when added to a time of a week (float
# rounding): retries with no backoff would then run forever at one instant.
MIN_LATENCY = 1e-6


@dataclass(frozen=True)
class ClientSpec:
    id: str = "c1"
    interrupt_after: float = 3.0
    interruption_error: bool = True
    max_network_delay: float = 10.0
    backoff_increment: float = 1.0
    max_backoff: float = 60.0
    jitter: bool = False
    transport: ConnectionType = ConnectionType.WEBSOCKET
    start_at: float = 0.0
    end_at: float | None = None  # the application ends the chat then

    def timers(self) -> Timers:
        return Timers(
            interrupt_after=self.interrupt_after,
            max_network_delay=self.max_network_delay,
            backoff_increment=self.backoff_increment,
            max_backoff=self.max_backoff,
            jitter=self.jitter,
        )


@dataclass(frozen=True)
class ClusterSpec:
    instances: int = 2
    session_ttl: float = 60.0
    dialect: str | None = None
    max_message_bytes: int | None = None  # None: the dialect's own limit (LiveChat 10 MB)

    @property
    def names(self) -> list[str]:
        return [f"i{n}" for n in range(1, self.instances + 1)]


@dataclass(frozen=True)
class NetworkSpec:
    latency: float = 0.01  # one way, seconds

    def __post_init__(self) -> None:
        # Every round trip must cost virtual time, or immediate retries could
        # run forever at one instant.
        if not self.latency > 0:
            raise UsageError(f"network latency must be positive, got {self.latency}")
        if not MIN_LATENCY <= self.latency <= MAX_DURATION:
            raise UsageError(
                f"network latency must be between {MIN_LATENCY:g} and {MAX_DURATION:g} s, "
                f"got {self.latency}"
            )


@dataclass(frozen=True)
class TrafficSpec:
    client_every: float | None = None
    agent_every: float | None = None


ACTIONS = ("send", "typing", "end", "reload", "agent")


@dataclass(frozen=True)
class Action:
    """Something the application (or the agent) does at a virtual time."""

    at: float
    do: str  # one of ACTIONS
    client: str | None = None  # None: every client
    text: str | None = None  # for send and agent
    line: int = 0


@dataclass(frozen=True)
class Expectation:
    """One `expect` item: `kind` events matching `fields` in a time window.

    `none` asserts no such event; `count` asserts exactly that many; otherwise
    at least one must match. `at` is an exact virtual time.
    """

    kind: str
    fields: tuple[tuple[str, Any], ...] = ()
    at: float | None = None
    after: float | None = None
    before: float | None = None
    client: str | None = None
    none: bool = False
    count: int | None = None
    line: int = 0

    def describe(self) -> str:
        parts = [f"no {self.kind}" if self.none else self.kind]
        parts += [f"{k}={v!r}" for k, v in self.fields]
        if self.client is not None:
            parts.append(f"client={self.client}")
        if self.count is not None:
            parts.append(f"count={self.count}")
        if self.at is not None:
            parts.append(f"at {self.at:g}")
        elif self.after is not None and self.before is not None:
            parts.append(f"between {self.after:g} and {self.before:g}")
        elif self.after is not None:
            parts.append(f"after {self.after:g}")
        elif self.before is not None:
            parts.append(f"before {self.before:g}")
        return " ".join(parts)


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: int
    duration: float
    cluster: ClusterSpec = ClusterSpec()
    clients: tuple[ClientSpec, ...] = (ClientSpec(),)
    network: NetworkSpec = NetworkSpec()
    traffic: TrafficSpec = TrafficSpec()
    faults: tuple[Fault, ...] = ()
    expect: tuple[Expectation, ...] = ()
    actions: tuple[Action, ...] = ()
    core: str | None = None  # `module:Class` of the client core to run (None: built-in)
    source: str = field(default="<scenario>", compare=False)
    # Things worth telling the user that do not stop the run (`file:line: ...`).
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def client(self) -> ClientSpec:
        return self.clients[0]
