"""Scenario files (docs/REFERENCE.md, "Scenario files"): YAML in, frozen dataclasses out.

Every complaint about a file names the file, the line and the key, with what
was expected, so a user can fix it without reading a traceback. Lines come
from the YAML node tree (`yaml.compose`), which keeps each node's start mark;
values are built from that tree here rather than by `yaml.safe_load`, so the
two can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from sim.cores import is_core_spec
from sim.expect_schema import unknown_field, unknown_kind
from sim.faults import Fault, parse_fault
from sim.seed import SEED_RULE, is_seed
from statecharts.chart import Timers
from statecharts.dialects import DIALECTS
from statecharts.errors import BadInput, UsageError
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


# -- the YAML node tree -----------------------------------------------------
class _Doc:
    """A YAML document with its node tree, for values and their lines."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            raise BadInput(source, f"valid YAML ({exc.problem})", line=line) from None
        except yaml.YAMLError as exc:
            raise BadInput(source, f"valid YAML ({exc})") from None
        finally:
            loader.dispose()
        self._loader = yaml.SafeLoader("")
        self.root = node

    def bad(
        self, node: yaml.Node | None, key: str | None, expected: str, got: object = None
    ) -> BadInput:
        line = node.start_mark.line + 1 if node is not None else None
        return BadInput(self.source, expected, line=line, field=key, got=got)

    def plain(self, node: yaml.Node) -> Any:
        """The Python value of a node (scalars via the safe constructor)."""
        if isinstance(node, yaml.MappingNode):
            return {self.plain(k): self.plain(v) for k, v in node.value}
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(v) for v in node.value]
        return self._loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, key: str, allowed: tuple[str, ...]) -> dict[str, yaml.Node]:
        """A mapping's key nodes by name; unknown or repeated keys are refused."""
        if not isinstance(node, yaml.MappingNode):
            raise self.bad(node, key, "a mapping", self.plain(node))
        out: dict[str, yaml.Node] = {}
        for knode, vnode in node.value:
            name = self.plain(knode)
            if not isinstance(name, str) or name not in allowed:
                where = "scenario" if key == "" else key
                raise self.bad(knode, str(name), f"a key of {where} ({', '.join(allowed)})")
            if name in out:
                raise self.bad(knode, name, "each key once")
            out[name] = vnode
        return out


# -- typed field readers ----------------------------------------------------
def _positive(doc: _Doc, node: yaml.Node, key: str) -> float:
    return _number(doc, node, key, positive=True)


def _number(doc: _Doc, node: yaml.Node, key: str, *, positive: bool = False) -> float:
    value = doc.plain(node)
    if isinstance(value, str) and _looks_numeric(value):
        # YAML 1.1 reads 1e9 (no dot) as text; say how to write it.
        raise doc.bad(node, key, f"a number (YAML reads {value} as text; write it with a dot)")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise doc.bad(node, key, "a number", value)
    if isinstance(value, int) and not _finite(value):
        raise doc.bad(node, key, f"a finite number, not an integer of {len(str(value))} digits")
    if not _finite(value):
        raise doc.bad(node, key, "a finite number", value)
    if value < 0 or (positive and value == 0):
        raise doc.bad(
            node, key, "a positive number" if positive else "a non-negative number", value
        )
    return float(value)


def _finite(value: float) -> bool:
    """Finite as a float: a 400-digit integer is not (float() would overflow)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _latency(doc: _Doc, node: yaml.Node, key: str) -> float:
    value = _number(doc, node, key, positive=True)
    if not MIN_LATENCY <= value <= MAX_DURATION:
        raise doc.bad(node, key, f"a latency between {MIN_LATENCY:g} s and a week", value)
    return value


def _duration(doc: _Doc, node: yaml.Node) -> float:
    value = _number(doc, node, "duration", positive=True)
    if value > MAX_DURATION:
        raise doc.bad(node, "duration", f"at most {MAX_DURATION:g} virtual seconds (a week)", value)
    return value


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _integer(doc: _Doc, node: yaml.Node, key: str, *, low: int = 0) -> int:
    value = doc.plain(node)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise doc.bad(node, key, f"an integer >= {low}", value)
    return value


def _boolean(doc: _Doc, node: yaml.Node, key: str) -> bool:
    value = doc.plain(node)
    if not isinstance(value, bool):
        raise doc.bad(node, key, "true or false", value)
    return value


def _text(doc: _Doc, node: yaml.Node, key: str) -> str:
    value = doc.plain(node)
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise doc.bad(node, key, "a string", value)
    return str(value)


def _dialect(doc: _Doc, node: yaml.Node, key: str) -> str:
    value = doc.plain(node)
    if value not in DIALECTS:
        raise doc.bad(node, key, f"one of {', '.join(DIALECTS)}", value)
    return str(value)


def _transport(doc: _Doc, node: yaml.Node, key: str) -> ConnectionType:
    value = doc.plain(node)
    try:
        return ConnectionType(value)
    except ValueError:
        raise doc.bad(node, key, "websocket or long-polling", value) from None


_Reader = Callable[[_Doc, yaml.Node, str], Any]
_CLIENT_READERS: dict[str, _Reader] = {
    "id": _text,
    "interrupt_after": lambda d, n, k: _number(d, n, k, positive=True),
    "interruption_error": _boolean,
    "max_network_delay": lambda d, n, k: _number(d, n, k, positive=True),
    "backoff_increment": _number,
    "max_backoff": _number,
    "jitter": _boolean,
    "transport": _transport,
    "start_at": _number,
    "end_at": _number,
}


def _section(
    doc: _Doc, node: yaml.Node, key: str, readers: Mapping[str, _Reader]
) -> dict[str, Any]:
    keys = doc.mapping(node, key, tuple(readers))
    return {name: readers[name](doc, vnode, f"{key}.{name}") for name, vnode in keys.items()}


def _client(doc: _Doc, node: yaml.Node, key: str, default_id: str) -> ClientSpec:
    values = _section(doc, node, key, _CLIENT_READERS)
    values.setdefault("id", default_id)
    return ClientSpec(**values)


def _clients(doc: _Doc, top: dict[str, yaml.Node]) -> tuple[ClientSpec, ...]:
    base = _client(doc, top["client"], "client", "c1") if "client" in top else ClientSpec()
    if "clients" not in top:
        return (base,)
    node = top["clients"]
    if isinstance(node, yaml.SequenceNode):
        if not node.value:
            raise doc.bad(node, "clients", "at least one client")
        specs = []
        for n, item in enumerate(node.value, start=1):
            values = _section(doc, item, "clients", _CLIENT_READERS)
            values.setdefault("id", f"c{n}")
            specs.append(_merge(base, values))
        _unique_ids(doc, node, specs)
        return tuple(specs)
    count = _integer(doc, node, "clients", low=1)
    if count > MAX_CLIENTS:
        raise doc.bad(node, "clients", f"at most {MAX_CLIENTS} clients", count)
    return tuple(_merge(base, {"id": f"c{n}"}) for n in range(1, count + 1))


def _merge(base: ClientSpec, values: dict[str, Any]) -> ClientSpec:
    return replace(base, **values)


def _unique_ids(doc: _Doc, node: yaml.Node, specs: list[ClientSpec]) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.id in seen:
            raise doc.bad(node, "clients", "distinct client ids", spec.id)
        seen.add(spec.id)


def _cluster(doc: _Doc, node: yaml.Node) -> ClusterSpec:
    values = _section(
        doc,
        node,
        "cluster",
        {
            "instances": lambda d, n, k: _integer(d, n, k, low=1),
            "session_ttl": lambda d, n, k: _number(d, n, k, positive=True),
            "dialect": _dialect,
            "max_message_bytes": lambda d, n, k: _integer(d, n, k, low=1),
        },
    )
    if "session_ttl" not in values and values.get("dialect") is not None:
        # The profile's own idle expiry (PolyAI: ~10 minutes) unless the file says otherwise.
        values["session_ttl"] = DIALECTS[values["dialect"]].session_idle_timeout
    return ClusterSpec(**values)


def _network(doc: _Doc, node: yaml.Node) -> NetworkSpec:
    return NetworkSpec(**_section(doc, node, "network", {"latency": _latency}))


def _traffic(doc: _Doc, node: yaml.Node) -> TrafficSpec:
    every = lambda d, n, k: _number(d, n, k, positive=True)  # noqa: E731
    return TrafficSpec(
        **_section(doc, node, "traffic", {"client_every": every, "agent_every": every})
    )


def _faults(
    doc: _Doc, node: yaml.Node, instances: list[str], clients: list[str]
) -> tuple[Fault, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise doc.bad(node, "faults", "a list of faults", doc.plain(node))
    out = []
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            raise doc.bad(item, "faults", "a mapping like {at: 10, kind: outage, duration: 5}")
        out.append(_fault(doc, item, instances, clients))
    return tuple(out)


def _fault(
    doc: _Doc, item: yaml.MappingNode, instances: list[str], clients: list[str]
) -> Fault:
    raw = doc.plain(item)
    for knode, vnode in item.value:
        key, value = doc.plain(knode), doc.plain(vnode)
        if key not in _NAME_KEYS and isinstance(value, str) and _looks_numeric(value):
            _number(doc, vnode, str(key))  # raises with the YAML hint
    try:
        line = item.start_mark.line + 1
        return parse_fault(raw, doc.source, line, instances=instances, clients=clients)
    except BadInput as exc:
        # Point at the offending key's own line when the item spans several.
        line = _key_line(item, exc.field) or exc.line
        raise BadInput(doc.source, exc.expected, line=line, field=exc.field, got=exc.got) from None


def _key_line(item: yaml.MappingNode, key: str | None) -> int | None:
    for knode, _ in item.value:
        if isinstance(knode, yaml.ScalarNode) and knode.value == key:
            return int(knode.start_mark.line) + 1
    return None


def _actions(doc: _Doc, node: yaml.Node, clients: list[str]) -> tuple[Action, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise doc.bad(node, "actions", "a list of actions", doc.plain(node))
    return tuple(_action(doc, item, clients) for item in node.value)


def _action(doc: _Doc, item: yaml.Node, clients: list[str]) -> Action:
    keys = doc.mapping(item, "actions", ("at", "do", "client", "text"))
    if "do" not in keys:
        raise doc.bad(item, "do", f"what to do: one of {', '.join(ACTIONS)}")
    do = doc.plain(keys["do"])
    if do not in ACTIONS:
        raise doc.bad(keys["do"], "do", f"one of {', '.join(ACTIONS)}", do)
    if "at" not in keys:
        raise doc.bad(item, "at", "the virtual time of the action")
    client = _text(doc, keys["client"], "client") if "client" in keys else None
    if client is not None and client not in clients:
        raise doc.bad(keys["client"], "client", f"one of {', '.join(clients)}", client)
    text = _text(doc, keys["text"], "text") if "text" in keys else None
    at = _number(doc, keys["at"], "at")
    return Action(at, do, client, text, item.start_mark.line + 1)


def _expectations(doc: _Doc, node: yaml.Node) -> tuple[Expectation, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise doc.bad(node, "expect", "a list of expectations", doc.plain(node))
    return tuple(_expectation(doc, item) for item in node.value)


def _expectation(doc: _Doc, item: yaml.Node) -> Expectation:
    if not isinstance(item, yaml.MappingNode):
        raise doc.bad(
            item, "expect", "a mapping like {kind: interrupted, at: 23.0}", doc.plain(item)
        )
    keys: dict[str, yaml.Node] = {}
    for knode, vnode in item.value:
        name = doc.plain(knode)
        if not isinstance(name, str):
            raise doc.bad(knode, "expect", "string keys", name)
        keys[name] = vnode
    line = item.start_mark.line + 1
    kind, none = _expect_kind(doc, item, keys)
    kind_node = keys.get("none" if none else "kind", item)
    if (expected := unknown_kind(kind)) is not None:
        raise doc.bad(kind_node, "none" if none else "kind", expected, kind)
    count = _integer(doc, keys["count"], "count") if "count" in keys else None
    if none and count is not None:
        raise doc.bad(keys["count"], "count", "either none: or count:, not both")
    client = _text(doc, keys["client"], "client") if "client" in keys else None
    at, after, before = _window(doc, keys)
    fields = tuple(
        (name, _field_value(doc, vnode, name))
        for name, vnode in keys.items()
        if name not in _EXPECT_RESERVED
    )
    for (name, value), vnode in zip(fields, _field_nodes(keys), strict=True):
        if (expected := unknown_field(kind, name, value)) is not None:
            raise doc.bad(vnode, name, expected, value)
    return Expectation(kind, fields, at, after, before, client, none, count, line)


def _expect_kind(doc: _Doc, item: yaml.Node, keys: dict[str, yaml.Node]) -> tuple[str, bool]:
    if "kind" in keys and "none" in keys:
        raise doc.bad(keys["none"], "none", "either kind: or none:, not both")
    if "none" in keys:
        return _text(doc, keys["none"], "none"), True
    if "kind" in keys:
        return _text(doc, keys["kind"], "kind"), False
    raise doc.bad(item, "expect", "a kind: (or none:) naming the event kind")


def _window(
    doc: _Doc, keys: dict[str, yaml.Node]
) -> tuple[float | None, float | None, float | None]:
    used = [k for k in _TIME_KEYS if k in keys]
    if len(used) > 1 and not (set(used) == {"after", "before"}):
        raise doc.bad(keys[used[1]], used[1], f"one time of at/after/before/between, not {used}")
    if "at" in keys:
        return _number(doc, keys["at"], "at"), None, None
    if "between" in keys:
        node = keys["between"]
        if not isinstance(node, yaml.SequenceNode) or len(node.value) != 2:
            raise doc.bad(node, "between", "two times [from, to]", doc.plain(node))
        low, high = (_number(doc, n, "between") for n in node.value)
        if high < low:
            raise doc.bad(node, "between", "[from, to] with from <= to", [low, high])
        return None, low, high
    after = _number(doc, keys["after"], "after") if "after" in keys else None
    before = _number(doc, keys["before"], "before") if "before" in keys else None
    return None, after, before


def _field_nodes(keys: dict[str, yaml.Node]) -> list[yaml.Node]:
    return [vnode for name, vnode in keys.items() if name not in _EXPECT_RESERVED]


def _field_value(doc: _Doc, node: yaml.Node, name: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise doc.bad(
            node, name, "a plain value to match (number, string or boolean)", doc.plain(node)
        )
    return doc.plain(node)


def _seed(doc: _Doc, node: yaml.Node) -> int:
    value = doc.plain(node)
    if not is_seed(value):
        raise doc.bad(node, "seed", SEED_RULE, value)
    assert isinstance(value, int)
    return value


def _core(doc: _Doc, node: yaml.Node) -> str:
    value = doc.plain(node)
    if not isinstance(value, str) or not is_core_spec(value):
        raise doc.bad(node, "core", "module:Class of a ClientCore subclass", value)
    return value


def _late_faults(
    doc: _Doc, node: yaml.Node | None, faults: tuple[Fault, ...], duration: float
) -> tuple[str, ...]:
    """Faults that start after the run's end never act: say so, naming the line."""
    if not isinstance(node, yaml.SequenceNode):
        return ()
    out = []
    for item, fault in zip(node.value, faults, strict=True):
        if fault.at > duration:
            line = _key_line(item, "at") if isinstance(item, yaml.MappingNode) else None
            out.append(
                f"{doc.source}:{line or item.start_mark.line + 1}: {fault.kind} fault at "
                f"t={fault.at:g} starts after the scenario ends (duration {duration:g}); "
                "it will not act as written"
            )
    return tuple(out)


# -- entry points -----------------------------------------------------------
def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_SCENARIO_BYTES:
            raise BadInput(
                str(path),
                f"a scenario file of at most {MAX_SCENARIO_BYTES // 1024} KiB",
                got=f"{size} bytes",
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(str(path), "an existing scenario file", got="no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(str(path), "a readable UTF-8 text file", got=str(exc)) from None
    return parse_scenario(text, source=str(path))


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    if len(text) > MAX_SCENARIO_BYTES:
        limit = f"at most {MAX_SCENARIO_BYTES // 1024} KiB of scenario"
        raise BadInput(source, limit, got=f"{len(text)} characters")
    doc = _Doc(text, source)
    if doc.root is None:
        raise BadInput(source, "a scenario mapping (name, seed, duration, ...)", line=1)
    if not isinstance(doc.root, yaml.MappingNode):
        raise doc.bad(doc.root, None, "a scenario mapping (name, seed, duration, ...)")
    top = doc.mapping(doc.root, "", _TOP_KEYS)
    if "duration" not in top:
        raise doc.bad(doc.root, "duration", "the run's length in virtual seconds")
    cluster = _cluster(doc, top["cluster"]) if "cluster" in top else ClusterSpec()
    clients = _clients(doc, top)
    ids = [c.id for c in clients]
    duration = _duration(doc, top["duration"])
    faults = _faults(doc, top["faults"], cluster.names, ids) if "faults" in top else ()
    return Scenario(
        name=_text(doc, top["name"], "name") if "name" in top else Path(source).stem,
        seed=_seed(doc, top["seed"]) if "seed" in top else 0,
        duration=duration,
        cluster=cluster,
        clients=clients,
        network=_network(doc, top["network"]) if "network" in top else NetworkSpec(),
        traffic=_traffic(doc, top["traffic"]) if "traffic" in top else TrafficSpec(),
        faults=faults,
        expect=_expectations(doc, top["expect"]) if "expect" in top else (),
        actions=_actions(doc, top["actions"], ids) if "actions" in top else (),
        core=_core(doc, top["core"]) if "core" in top else None,
        source=source,
        warnings=_late_faults(doc, top.get("faults"), faults, duration),
    )
