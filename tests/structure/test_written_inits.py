"""A dataclass whose __init__ is written out (for the compiled build) still matches its fields.

The hot values write their `__init__` by hand so that mypyc builds them natively;
the field list then exists twice, and this test keeps the two the same: same
names, same order, same defaults, and every field set.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import sys
import textwrap
from collections.abc import Iterator

import pytest

import sim
import statecharts
import transport

_SKIP = ("sim.live", "sim.load", "sim.hypo", "transport.aio", "sim.pytest_plugin")


def _modules() -> Iterator[str]:
    for package in (statecharts, transport, sim):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.startswith(_SKIP):
                yield info.name


def _written_init(cls: type) -> ast.FunctionDef | None:
    """The `__init__` written in the class's source, if there is one."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0]
    assert isinstance(body, ast.ClassDef)
    for node in body.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            return node
    return None


def _written_inits() -> list[type]:
    found: dict[str, type] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if (
                inspect.isclass(cls)
                and cls.__module__ == name
                and dataclasses.is_dataclass(cls)
                and _written_init(cls) is not None
            ):
                found[f"{name}.{cls.__qualname__}"] = cls
    return list(found.values())


WRITTEN = _written_inits()


def test_the_hot_values_write_their_init() -> None:
    names = {cls.__name__ for cls in WRITTEN}
    assert {"TraceRecord", "MetaReply", "Delivery", "Pending"} <= names


def _sets(cls: type, init: ast.FunctionDef) -> list[str]:
    """The fields the written init sets, in order: `object.__setattr__(self, "name", ...)`
    each, and a base's fields where it calls `Base.__init__(self, ...)`."""
    bases = {base.__name__: base for base in cls.__mro__[1:]}
    names = []
    for node in ast.walk(init):
        if not isinstance(node, ast.Call):
            continue
        callee = ast.unparse(node.func)
        if callee == "object.__setattr__" and isinstance(node.args[1], ast.Constant):
            names.append(str(node.args[1].value))
        elif callee.endswith(".__init__") and callee.split(".")[0] in bases:
            base = bases[callee.split(".")[0]]
            names += [f.name for f in dataclasses.fields(base) if f.init]
    return names


@pytest.mark.parametrize("cls", WRITTEN, ids=lambda cls: cls.__qualname__)
def test_a_written_init_takes_and_sets_exactly_the_fields(cls: type) -> None:
    init = _written_init(cls)
    assert init is not None
    fields = [f for f in dataclasses.fields(cls) if f.init]
    params = init.args.args[1:]
    assert [a.arg for a in params] == [f.name for f in fields]
    with_default = params[len(params) - len(init.args.defaults) :]
    defaults = dict(zip([a.arg for a in with_default], init.args.defaults, strict=True))
    for field in fields:
        written = defaults.get(field.name)
        if field.default is not dataclasses.MISSING:
            assert written is not None, field.name
            namespace = vars(sys.modules[cls.__module__])
            value = eval(ast.unparse(written), namespace)
            assert value == field.default, field.name
        elif field.default_factory is dataclasses.MISSING:
            assert written is None, field.name
    assert _sets(cls, init) == [f.name for f in fields]
