"""The YAML node tree of a scenario file and its typed field readers.

Every value is read from the node tree (`yaml.compose`), which keeps each
node's line, so that a complaint names the file, the line and the key.
Split out of `sim.scenario`, whose section parsers are built on these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import yaml

from sim.scenario_spec import MAX_DURATION, MIN_LATENCY
from statecharts.dialects import DIALECTS
from statecharts.errors import BadInput
from statecharts.trace import is_finite_number
from transport.wire import ConnectionType


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
    if isinstance(value, int) and not is_finite_number(value):
        raise doc.bad(node, key, f"a finite number, not an integer of {len(str(value))} digits")
    if not is_finite_number(value):
        raise doc.bad(node, key, "a finite number", value)
    if value < 0 or (positive and value == 0):
        raise doc.bad(
            node, key, "a positive number" if positive else "a non-negative number", value
        )
    return float(value)


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
