"""The layout rules of the code, read from its imports and class definitions (nothing runs).

- Imports point down: `statecharts` imports nothing of ours, `transport` nothing of `sim`.
- No import cycle among the modules of `statecharts`, `transport` and `sim` (an import
  under `TYPE_CHECKING`, for an annotation only, does not count: it never runs).
- No class overrides a private (`_name`) method it inherits from another module's class.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("statecharts", "transport", "sim")


@dataclass
class Module:
    name: str
    tree: ast.Module
    package: bool  # an __init__.py: relative imports start from itself
    imports: set[str] = field(default_factory=set)  # our modules imported when it runs
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # local -> (module, name)


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _load(packages: tuple[str, ...]) -> dict[str, Module]:
    modules = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            name = _module_name(path)
            tree = ast.parse(path.read_text(encoding="utf-8"))
            modules[name] = Module(name, tree, path.name == "__init__.py")
    for module in modules.values():
        _read_imports(module, modules)
    return modules


def _ours(name: str, modules: dict[str, Module]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _read_imports(module: Module, modules: dict[str, Module]) -> None:
    for node, runs in _import_nodes(module.tree.body, runs=True):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = _absolute(module, node)
            for alias in node.names:
                module.names[alias.asname or alias.name] = (base, alias.name)
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
            ]
        for target in targets:
            ours = _ours(target, modules)
            if runs and ours is not None and ours != module.name:
                module.imports.add(ours)


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.name.split(".")
    parts = parts[: len(parts) - node.level + (1 if module.package else 0)]
    return ".".join([*parts, node.module] if node.module else parts)


def _import_nodes(
    body: list[ast.stmt], *, runs: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import with whether it runs (at import time or in a call); TYPE_CHECKING ones don't."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, runs
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _import_nodes(node.body, runs=False)
            yield from _import_nodes(node.orelse, runs=runs)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    yield from _import_nodes([child], runs=runs)


def _cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for target in sorted(modules[name].imports):
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == name:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(modules):
        if name not in index:
            visit(name)
    return found


# Parsed once: the packages' modules, and the tests (whose classes may subclass ours).
EVERY_MODULE = _load((*PACKAGES, "tests"))
MODULES = {name: m for name, m in EVERY_MODULE.items() if name.split(".")[0] in PACKAGES}


def test_imports_point_down_the_packages() -> None:
    below = {"statecharts": {"statecharts"}, "transport": {"statecharts", "transport"}}
    wrong = [
        f"{m.name} imports {target}"
        for m in MODULES.values()
        for target in sorted(m.imports)
        if target.split(".")[0] not in below.get(m.name.split(".")[0], set(PACKAGES))
    ]
    assert wrong == []


def test_no_import_cycle() -> None:
    assert _cycles(MODULES) == []


def _classes(modules: dict[str, Module]) -> dict[tuple[str, str], ast.ClassDef]:
    return {
        (m.name, node.name): node
        for m in modules.values()
        for node in ast.walk(m.tree)
        if isinstance(node, ast.ClassDef)
    }


def _bases(
    key: tuple[str, str], classes: dict[tuple[str, str], ast.ClassDef], modules: dict[str, Module]
) -> Iterator[tuple[str, str]]:
    """Every ancestor of ours, as (module, class), following each module's imports."""
    module = modules[key[0]]
    for base in classes[key].bases:
        name = ast.unparse(base).split("[")[0]
        origin = module.names.get(name)
        found = (_ours(origin[0], modules) or "", origin[1]) if origin else (key[0], name)
        if found in classes and found != key:
            yield found
            yield from _bases(found, classes, modules)


def _private_methods(node: ast.ClassDef) -> set[str]:
    return {
        item.name
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
        and item.name.startswith("_")
        and not item.name.startswith("__")
    }


def test_no_class_overrides_another_modules_private_methods() -> None:
    modules = EVERY_MODULE
    classes = _classes(modules)
    overrides = [
        f"{key[0]}.{key[1]}.{method} overrides {base[0]}.{base[1]}.{method}"
        for key, node in classes.items()
        for base in _bases(key, classes, modules)
        if base[0] != key[0]
        for method in sorted(_private_methods(node) & _private_methods(classes[base]))
    ]
    assert overrides == []
