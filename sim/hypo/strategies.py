"""Hypothesis strategies for chatsim: faults, user actions, configurations, programs.

Everything is bounded so that examples stay small and run fast in virtual
time, and every strategy shrinks towards the simplest value: times on a
tenth-of-a-second grid shrinking to 0, probabilities to 0.0, choices to their
first (default) option, lists to empty. Times are exact decimals so that a
shrunk program prints and replays without float noise.

Public entry points:

- `faults(kind=None, instances=..., clients=...)`: one fault of any
  kind (or of the kinds named), `at` relative (offset from injection);
- `fault_schedules(horizon)`: a sorted list of faults with absolute `at`;
- `user_actions()`, `waits()`, `steps()`, `programs()`, `scenario_programs()`;
- `client_specs()`, `cluster_specs()`, `network_specs()`, `traffic_specs()`, `flow_configs()`.

The fault half (values, faults, templates, schedules) lives in
`sim.hypo.fault_strategies` and is re-exported here; this module keeps the
user actions, steps, configurations and programs built on it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from hypothesis import strategies as st

from sim.hypo.fault_strategies import (
    ALL_KINDS,
    DEFAULT_CLIENTS,
    DEFAULT_INSTANCES,
    LOSS_KINDS,
    SEED_KINDS,
    SERVER_CODES,
    TELLING_SECONDS,
    UNTIMED,
    directions,
    durations,
    fault_schedules,
    fault_table,
    fault_templates,
    faults,
    optional,
    probabilities,
    rule_faults,
    seconds,
    seconds_table,
    tenths,
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
from sim.scenario import ClientSpec, ClusterSpec, NetworkSpec, TrafficSpec
from transport.wire import ConnectionType

# Fault strategies are re-exported: `from sim.hypo.strategies import faults` keeps working.
__all__ = [
    "ALL_KINDS",
    "DEFAULT_CLIENTS",
    "DEFAULT_INSTANCES",
    "LOSS_KINDS",
    "SEED_KINDS",
    "SERVER_CODES",
    "STEP_ACTIONS",
    "TELLING_SECONDS",
    "UNTIMED",
    "client_specs",
    "cluster_specs",
    "directions",
    "durations",
    "fault_schedules",
    "fault_templates",
    "faults",
    "flow_configs",
    "machine_steps",
    "network_specs",
    "optional",
    "probabilities",
    "programs",
    "rule_faults",
    "scenario_programs",
    "seconds",
    "steps",
    "tenths",
    "traffic_specs",
    "user_actions",
    "waits",
]

STEP_ACTIONS = ("send", "agent_say", "typing", "reload", "end")


def machine_steps(
    kinds: Sequence[str] | None = None,
    *,
    actions: Sequence[str] = STEP_ACTIONS,
    instances: Sequence[str] = DEFAULT_INSTANCES,
    client: str = "c1",
    max_seconds: float = 10.0,
) -> st.SearchStrategy[Step]:
    """One step of a stateful program, drawn with two choices: a category and an item.

    Categories are wait and fault (twice as likely), then the actions in `actions`;
    the item indexes an ordered table (telling values first), so a step
    shrinks to `wait(5)`. Few choices per step are what lets Hypothesis
    delete stateful steps while shrinking (see `rule_faults`).
    """
    unknown = [a for a in actions if a not in STEP_ACTIONS]
    if unknown:
        raise ValueError(f"unknown actions: {', '.join(unknown)}")
    waits_table: list[Step] = [Wait(v) for v in seconds_table(0.1, max_seconds)]
    faults_table: list[Step] = [
        Inject(f) for f in fault_table(fault_templates(kinds, instances), max_seconds)
    ]
    made: dict[str, Step] = {
        "send": Send(client, "hi"),
        "agent_say": AgentSay("hello"),
        "typing": Typing(client),
        "reload": ReloadPage(client),
        "end": End(client),
    }
    # Waits and faults twice: programs spend time and break things more often
    # than they act; a shrunk step is still a wait (category 0, item 0).
    tables: list[list[Step]] = [waits_table, faults_table, waits_table, faults_table]
    tables += [[made[a]] for a in STEP_ACTIONS if a in actions]

    def pick(pair: tuple[int, int]) -> Step:
        table = tables[pair[0]]
        return table[pair[1] % len(table)]

    biggest = max(len(t) for t in tables)
    return st.tuples(st.integers(0, len(tables) - 1), st.integers(0, biggest - 1)).map(pick)


# -- user actions and steps ----------------------------------------------------
def waits(high: float = 10.0) -> st.SearchStrategy[Wait]:
    """Clock steps: telling values first, any tenth of a second up to `high`."""
    return st.builds(Wait, seconds(0.1, high))


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
    timed: bool = True,
) -> st.SearchStrategy[Step]:
    """Any step: waits, faults, (timed: sends, agent messages, typing), reloads, ends.

    `timed=False` leaves out single sends, agent messages and typing (for
    flows that get their messages from periodic traffic).
    """
    who = st.sampled_from(list(clients))
    wait = waits()
    inject = st.builds(Inject, faults(kinds, instances=instances, clients=clients))
    # Listed twice: waits and faults are drawn more often than the rest, so that
    # programs get somewhere before an `end`; shrinking still goes to a wait.
    options: list[st.SearchStrategy[Step]] = [wait, inject, wait, inject]
    if timed:
        options += [
            st.builds(Send, who, st.just("hi")),
            st.builds(AgentSay, st.just("hello")),
            st.builds(Typing, who),
        ]
    options += [st.builds(ReloadPage, who), st.builds(End, who)]
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
        # No 0: with no latency either, retries would take no virtual time at all.
        backoff_increment=st.sampled_from([1.0, 0.5, 2.0]),
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
    """One-way latency: 10 ms first, then 1 ms up to 300 ms (never 0: time must pass)."""
    return st.builds(NetworkSpec, st.sampled_from([0.01, 0.001, 0.05, 0.3]))


def traffic_specs(quiet: bool = True) -> st.SearchStrategy[TrafficSpec]:
    """Periodic client and agent messages; `quiet` puts no traffic first."""
    every = [None, 1.0, 2.0, 0.5] if quiet else [1.0, 2.0, 0.5, None]
    return st.builds(TrafficSpec, st.sampled_from(every), st.sampled_from(every))


def flow_configs(max_instances: int = 3, *, traffic: bool = False) -> st.SearchStrategy[FlowConfig]:
    """Client, cluster and network settings; `traffic` adds periodic messages (on first)."""
    traffics = traffic_specs(quiet=False) if traffic else st.just(TrafficSpec())
    return st.builds(
        FlowConfig, client_specs(), cluster_specs(max_instances), network_specs(), traffics
    )


def programs(
    *,
    config: FlowConfig | st.SearchStrategy[FlowConfig] | None = None,
    max_steps: int = 20,
    kinds: Sequence[str] | None = None,
    timed: bool = True,
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
        body = draw(_step_lists(chosen, names, max_steps, timed))
        return Program(cfg, tuple(body))

    return build()


@functools.lru_cache(maxsize=64)
def _step_lists(
    kinds: tuple[str, ...] | None, instances: tuple[str, ...], max_steps: int, timed: bool
) -> st.SearchStrategy[list[Step]]:
    # Built once per shape: building strategies is far dearer than drawing from them.
    return st.lists(steps(kinds=kinds, instances=instances, timed=timed), max_size=max_steps)


def scenario_programs(
    *, max_steps: int = 20, kinds: Sequence[str] | None = None
) -> st.SearchStrategy[Program]:
    """Programs for campaigns: periodic traffic (on first) and table-drawn steps.

    Steps come from `machine_steps` (telling fault variants and durations,
    shrinking to a wait), the same steps the stateful machine takes.
    """
    configs = flow_configs(traffic=True)
    chosen = tuple(kinds) if kinds is not None else None

    @st.composite
    def build(draw: st.DrawFn) -> Program:
        cfg = draw(configs)
        body = draw(_table_step_lists(chosen, tuple(cfg.cluster.names), max_steps))
        return Program(cfg, tuple(body))

    return build()


@functools.lru_cache(maxsize=64)
def _table_step_lists(
    kinds: tuple[str, ...] | None, instances: tuple[str, ...], max_steps: int
) -> st.SearchStrategy[list[Step]]:
    return st.lists(machine_steps(kinds, instances=instances), min_size=1, max_size=max_steps)
