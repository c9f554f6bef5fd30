"""Diagrams of the statechart, drawn from the one table in `chart.py`.

Compound states are drawn as boxes around their leaves (Mermaid `state X { }`,
Graphviz clusters); a row that leaves a compound state is one edge from its
box, so the picture has one edge per row and source, not per leaf.
"""

from __future__ import annotations

import shutil
import subprocess

from statecharts.chart import (
    CHILDREN,
    IGNORED,
    ROOTS,
    TERMINAL,
    TRANSITIONS,
    Compound,
    Node,
    State,
    leaves,
)
from statecharts.errors import UsageError

FORMATS = ("mermaid", "dot", "svg")


def _edges() -> list[tuple[Node, State, str]]:
    """(source, dest, label): one per row and source as written (a compound stays one)."""
    edges: list[tuple[Node, State, str]] = []
    for row in TRANSITIONS:
        label = row.trigger.value + (f" [{row.guard}]" if row.guard else "")
        edges.extend((source, row.dest, label) for source in row.sources)
    return edges


def _ignored_items() -> list[str]:
    return [f"{i.trigger.value} in {', '.join(s.value for s in i.sources)}" for i in IGNORED]


def _ignored_note() -> str:
    return "ignored (no-op): " + "; ".join(_ignored_items())


# -- Mermaid -------------------------------------------------------------------
def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {State.IDLE.value}"]
    for root in ROOTS:
        lines += _mermaid_node(root, "    ")
    lines += [f"    {src.value} --> {dst.value}: {label}" for src, dst, label in _edges()]
    lines += [f"    {state.value} --> [*]" for state in sorted(TERMINAL, key=str)]
    lines.append(f"    note right of {State.IDLE.value}: {_ignored_note()}")
    return "\n".join(lines) + "\n"


def _mermaid_node(node: Node, indent: str) -> list[str]:
    if isinstance(node, State):
        return [f"{indent}{node.value}"]
    lines = [f"{indent}state {node.value} {{"]
    for child in CHILDREN[node]:
        lines += _mermaid_node(child, indent + "    ")
    lines.append(f"{indent}}}")
    return lines


# -- Graphviz ------------------------------------------------------------------
def _anchor(node: Node) -> State:
    """The leaf an edge of a compound state is attached to (the box clips it)."""
    while isinstance(node, Compound):
        node = CHILDREN[node][0]
    return node


def dot() -> str:
    lines = [
        "digraph transport {",
        "    rankdir=LR; compound=true; newrank=true;",
        '    node [shape=box, style=rounded, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        '    __start [shape=point, label=""];',
        f"    __start -> {State.IDLE.value};",
    ]
    for root in ROOTS:
        lines += _dot_node(root, "    ")
    for src, dst, label in _edges():
        attrs = f'label="{label}"'
        tail = _anchor(src).value
        if isinstance(src, Compound) and dst in leaves(src):
            tail = f"{src.value}__any"  # "from any state in here": a marker inside the box
        elif isinstance(src, Compound):
            attrs += f", ltail=cluster_{src.value}"
        lines.append(f"    {tail} -> {dst.value} [{attrs}];")
    note = "".join(f"{item}\\l" for item in ["ignored (no-op):", *_ignored_items()])
    lines.append(f'    __note [shape=note, fontsize=9, label="{note}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node(node: Node, indent: str) -> list[str]:
    if isinstance(node, State):
        shape = " [shape=doublecircle]" if node in TERMINAL else ""
        return [f"{indent}{node.value}{shape};"]
    lines = [
        f"{indent}subgraph cluster_{node.value} {{",
        f'{indent}    label="{node.value}"; style=rounded; color=gray40; fontname="Helvetica";',
    ]
    if any(src == node and dst in leaves(node) for src, dst, _ in _edges()):
        lines.append(f'{indent}    {node.value}__any [shape=plaintext, fontsize=9, label="(any)"];')
    for child in CHILDREN[node]:
        lines += _dot_node(child, indent + "    ")
    lines.append(f"{indent}}}")
    return lines


def svg() -> str:
    exe = shutil.which("dot")
    if exe is None:
        raise UsageError(
            "svg needs Graphviz 'dot' on PATH (apt-get install graphviz); "
            "use --format dot or mermaid"
        )
    done = subprocess.run([exe, "-Tsvg"], input=dot(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise UsageError(f"Graphviz dot failed: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


def render(fmt: str) -> str:
    if fmt == "mermaid":
        return mermaid()
    if fmt == "dot":
        return dot()
    if fmt == "svg":
        return svg()
    raise UsageError(f"unknown diagram format '{fmt}': expected one of {', '.join(FORMATS)}")
