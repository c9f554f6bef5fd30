"""Hypothesis strategies for chatsim: faults, user actions, configurations, programs.

Everything is bounded so that examples stay small and run fast in virtual
time, and every strategy shrinks towards the simplest value: times on a
tenth-of-a-second grid shrinking to 0, probabilities to 0.0, choices to their
first (default) option, lists to empty. Times are exact decimals so that a
shrunk program prints and replays without float noise.

Public entry points:

- `faults(kind=None, instances=..., clients=...)`: one fault of any DESIGN §6
  kind (or of the kinds named), `at` relative (offset from injection);
- `fault_schedules(horizon)`: a sorted list of faults with absolute `at`;
- `user_actions()`, `waits()`, `steps()`, `programs()`;
- `client_specs()`, `cluster_specs()`, `network_specs()`, `flow_configs()`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from sim.faults import (
    FAULT_TYPES,
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
)
from sim.hypo.program import (
    AgentSay,
    End,
    FlowConfig,
    Inject,
    Program,
    ReloadPage,
    Send,
    Step,
    Typing,
    Wait,
)
from sim.scenario import ClientSpec, ClusterSpec, NetworkSpec
from transport.wire import ConnectionType

ALL_KINDS: tuple[str, ...] = tuple(FAULT_TYPES)
# Server error codes a `command_error` fault may force (DESIGN §3).
SERVER_CODES = (52, 1, 2, 3, 50, 51, 100, 101)
DEFAULT_INSTANCES = ("i1", "i2")
DEFAULT_CLIENTS = ("c1",)


def tenths(low: float, high: float) -> st.SearchStrategy[float]:
    """Decimal seconds on a 0.1 grid in [low, high], shrinking to `low`."""
    lo, hi = round(low * 10), round(high * 10)
    return st.integers(lo, hi).map(lambda n: n / 10)


def probabilities(high: float = 0.5) -> st.SearchStrategy[float]:
    """Probabilities in steps of 0.05, shrinking to 0."""
    return st.integers(0, round(high * 20)).map(lambda n: n / 20)


def durations(high: float = 10.0) -> st.SearchStrategy[float]:
    return tenths(0.1, high)


def directions() -> st.SearchStrategy[Direction]:
    return st.sampled_from([Direction.BOTH, Direction.DOWN, Direction.UP])


def _common(
    instances: Sequence[str], clients: Sequence[str], horizon: float
) -> dict[str, st.SearchStrategy[Any]]:
    """Fields every fault takes: at (relative), direction, optional client/instance."""
    return {
        "at": tenths(0.0, horizon),
        "direction": directions(),
        "client": st.none() | st.sampled_from(list(clients)) if clients else st.none(),
        "instance": st.none() | st.sampled_from(list(instances)) if instances else st.none(),
    }


def _optional_duration(high: float) -> st.SearchStrategy[float | None]:
    return st.one_of(durations(high), st.none())


def _kind_fields(
    instances: Sequence[str], max_duration: float
) -> dict[str, dict[str, st.SearchStrategy[Any]]]:
    """Per kind, the strategies of its own fields (beyond the common ones)."""
    need = durations(max_duration)
    some = _optional_duration(max_duration)
    return {
        Outage.kind: {"duration": need},
        Blackhole.kind: {"duration": need},
        Latency.kind: {
            "duration": some,
            "ms": st.integers(0, 2000).map(float),
            "jitter": st.integers(0, 500).map(float),
        },
        Loss.kind: {"duration": need, "p": probabilities(1.0)},
        Duplicate.kind: {"duration": some, "p": probabilities(1.0)},
        Reorder.kind: {"duration": some, "p": probabilities(1.0)},
        Corrupt.kind: {
            "duration": some,
            "count": st.integers(1, 3),
            "mode": st.sampled_from(list(CorruptMode)),
            "direction": st.sampled_from([Direction.DOWN, Direction.BOTH, Direction.UP]),
        },
        Crash.kind: {
            "duration": need,
            "instance": st.sampled_from(list(instances)) if instances else st.none(),
        },
        Expire.kind: {"duration": st.none()},
        Reload.kind: {"duration": st.none()},
        NotReady.kind: {"duration": need},
        CommandError.kind: {
            "duration": st.none(),
            "code": st.sampled_from(SERVER_CODES),
            "count": st.integers(1, 3),
        },
        Slow.kind: {"duration": some, "ms": st.integers(0, 3000).map(float)},
    }


def faults(
    kinds: Sequence[str] | None = None,
    *,
    instances: Sequence[str] = DEFAULT_INSTANCES,
    clients: Sequence[str] = DEFAULT_CLIENTS,
    horizon: float = 0.0,
    max_duration: float = 10.0,
) -> st.SearchStrategy[Fault]:
    """One fault of the given kinds (default: every DESIGN §6 kind, outage first).

    `at` lies in [0, horizon]: an offset from injection for programs, an
    absolute time for schedules. Faults that need a duration always get one
    (at most `max_duration`), so every run heals.
    """
    chosen = list(kinds) if kinds is not None else list(ALL_KINDS)
    unknown = [k for k in chosen if k not in FAULT_TYPES]
    if unknown:
        raise ValueError(f"unknown fault kinds: {', '.join(unknown)}")
    common = _common(instances, clients, horizon)
    own = _kind_fields(instances, max_duration)
    options = [
        st.builds(FAULT_TYPES[kind], **{**common, **own[kind]}) for kind in chosen
    ]
    return st.one_of(*options)


def fault_schedules(
    horizon: float = 60.0,
    *,
    kinds: Sequence[str] | None = None,
    max_faults: int = 4,
    instances: Sequence[str] = DEFAULT_INSTANCES,
    clients: Sequence[str] = DEFAULT_CLIENTS,
) -> st.SearchStrategy[list[Fault]]:
    """A scenario's fault list: absolute times in [0, horizon], sorted by `at`."""
    one = faults(kinds, instances=instances, clients=clients, horizon=horizon)
    return st.lists(one, max_size=max_faults).map(lambda fs: sorted(fs, key=lambda f: f.at))


# -- user actions and steps ----------------------------------------------------
def waits(high: float = 10.0) -> st.SearchStrategy[Wait]:
    """Clock steps; small ones first, with the interesting 3 s boundary reachable."""
    return st.builds(Wait, tenths(0.1, high))


def user_actions(clients: Sequence[str] = DEFAULT_CLIENTS) -> st.SearchStrategy[Step]:
    """send, typing, reload, end, wait (in shrinking order: wait and send first)."""
    who = st.sampled_from(list(clients))
    return st.one_of(
        waits(),
        st.builds(Send, who, st.sampled_from(["hi", "hello", "are you there?"])),
        st.builds(Typing, who),
        st.builds(ReloadPage, who),
        st.builds(End, who),
    )


def steps(
    *,
    kinds: Sequence[str] | None = None,
    instances: Sequence[str] = DEFAULT_INSTANCES,
    clients: Sequence[str] = DEFAULT_CLIENTS,
    agent: bool = True,
) -> st.SearchStrategy[Step]:
    """Any step: waits, sends, agent messages, faults, then the rarer actions."""
    who = st.sampled_from(list(clients))
    fault = faults(kinds, instances=instances, clients=clients)
    options: list[st.SearchStrategy[Step]] = [
        waits(),
        st.builds(Send, who, st.just("hi")),
    ]
    if agent:
        options.append(st.builds(AgentSay, st.just("hello")))
    options += [
        st.builds(Inject, fault),
        st.builds(Typing, who),
        st.builds(ReloadPage, who),
        st.builds(End, who),
    ]
    return st.one_of(*options)


# -- configurations ------------------------------------------------------------
def client_specs(
    transports: Sequence[ConnectionType] = (ConnectionType.WEBSOCKET, ConnectionType.LONG_POLLING),
) -> st.SearchStrategy[ClientSpec]:
    """Transport settings; defaults first (3 s interruption, 150 on, websocket)."""
    return st.builds(
        ClientSpec,
        id=st.just("c1"),
        interrupt_after=st.sampled_from([3.0, 1.0, 0.5, 5.0]),
        interruption_error=st.sampled_from([True, False]),
        max_network_delay=st.sampled_from([10.0, 2.0, 5.0]),
        backoff_increment=st.sampled_from([1.0, 0.0, 0.5, 2.0]),
        max_backoff=st.sampled_from([60.0, 5.0, 10.0]),
        jitter=st.sampled_from([False, True]),
        transport=st.sampled_from(list(transports)),
        start_at=st.just(0.0),
    )


def cluster_specs(max_instances: int = 3) -> st.SearchStrategy[ClusterSpec]:
    return st.builds(
        ClusterSpec,
        instances=st.sampled_from([n for n in (2, 1, 3) if n <= max_instances] or [1]),
        session_ttl=st.sampled_from([60.0, 10.0, 30.0]),
        dialect=st.none(),
    )


def network_specs() -> st.SearchStrategy[NetworkSpec]:
    """One-way latency: 10 ms first, then none and up to 300 ms."""
    return st.builds(NetworkSpec, st.sampled_from([0.01, 0.0, 0.05, 0.3]))


def flow_configs(max_instances: int = 3) -> st.SearchStrategy[FlowConfig]:
    return st.builds(FlowConfig, client_specs(), cluster_specs(max_instances), network_specs())


def programs(
    *,
    config: FlowConfig | st.SearchStrategy[FlowConfig] | None = None,
    max_steps: int = 20,
    kinds: Sequence[str] | None = None,
) -> st.SearchStrategy[Program]:
    """A configuration and a list of steps that shrinks to the few that matter."""
    if config is None:
        configs: st.SearchStrategy[FlowConfig] = flow_configs()
    elif isinstance(config, FlowConfig):
        configs = st.just(config)
    else:
        configs = config

    chosen = tuple(kinds) if kinds is not None else None

    @st.composite
    def build(draw: st.DrawFn) -> Program:
        cfg = draw(configs)
        names = tuple(cfg.cluster.names)
        body = draw(_step_lists(chosen, names, max_steps))
        return Program(cfg, tuple(body))

    return build()


@functools.lru_cache(maxsize=64)
def _step_lists(
    kinds: tuple[str, ...] | None, instances: tuple[str, ...], max_steps: int
) -> st.SearchStrategy[list[Step]]:
    # Built once per shape: building strategies is far dearer than drawing from them.
    return st.lists(steps(kinds=kinds, instances=instances), max_size=max_steps)

