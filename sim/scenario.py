"""Scenario files (docs/REFERENCE.md, "Scenario files"): YAML in, frozen dataclasses out.

Every complaint about a file names the file, the line and the key, with what
was expected, so a user can fix it without reading a traceback. Lines come
from the YAML node tree (`yaml.compose`), which keeps each node's start mark;
values are built from that tree here rather than by `yaml.safe_load`, so the
two can never disagree.

The dataclasses and limits live in `sim.scenario_spec`, the node tree and
the typed field readers in `sim.scenario_yaml`; the public names of both
are re-exported here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from sim.cores import is_core_spec
from sim.expect_schema import unknown_field, unknown_kind
from sim.faults import Fault, parse_fault
from sim.scenario_spec import (
    _CLIENT_KEYS,
    _EXPECT_RESERVED,
    _NAME_KEYS,
    _TIME_KEYS,
    _TOP_KEYS,
    ACTIONS,
    MAX_CLIENTS,
    MAX_DURATION,
    MAX_SCENARIO_BYTES,
    MIN_LATENCY,
    Action,
    ClientSpec,
    ClusterSpec,
    Expectation,
    NetworkSpec,
    Scenario,
    TrafficSpec,
)
from sim.scenario_yaml import (
    _CLIENT_READERS,
    _dialect,
    _Doc,
    _duration,
    _integer,
    _latency,
    _looks_numeric,
    _number,
    _section,
    _text,
)
from sim.seed import SEED_RULE, is_seed
from statecharts.dialects import DIALECTS
from statecharts.errors import BadInput

# Re-exported so that old import paths keep working.
__all__ = [
    "ACTIONS",
    "MAX_CLIENTS",
    "MAX_DURATION",
    "MAX_SCENARIO_BYTES",
    "MIN_LATENCY",
    "_CLIENT_KEYS",
    "_TOP_KEYS",
    "Action",
    "ClientSpec",
    "ClusterSpec",
    "Expectation",
    "NetworkSpec",
    "Scenario",
    "TrafficSpec",
    "load_scenario",
    "parse_scenario",
]


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
    doc: _Doc, node: yaml.Node, instances: list[str], clients: list[str], rows: list[str]
) -> tuple[Fault, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise doc.bad(node, "faults", "a list of faults", doc.plain(node))
    out = []
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            raise doc.bad(item, "faults", "a mapping like {at: 10, kind: outage, duration: 5}")
        out.append(_fault(doc, item, instances, clients, rows))
    return tuple(out)


def _fault(
    doc: _Doc, item: yaml.MappingNode, instances: list[str], clients: list[str], rows: list[str]
) -> Fault:
    raw = doc.plain(item)
    for knode, vnode in item.value:
        key, value = doc.plain(knode), doc.plain(vnode)
        if key not in _NAME_KEYS and isinstance(value, str) and _looks_numeric(value):
            _number(doc, vnode, str(key))  # raises with the YAML hint
    try:
        line = item.start_mark.line + 1
        return parse_fault(raw, doc.source, line, instances=instances, clients=clients, rows=rows)
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
    rows = [r.key for r in DIALECTS[cluster.dialect or "genesys"].rows]
    faults = _faults(doc, top["faults"], cluster.names, ids, rows) if "faults" in top else ()
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
