"""Diagrams of the statechart, drawn from the one table in `chart.py`."""

from __future__ import annotations

import shutil
import subprocess

from statecharts.chart import TERMINAL, TRANSITIONS, State
from statecharts.errors import UsageError

FORMATS = ("mermaid", "dot", "svg")


def _edges() -> list[tuple[str, str, str]]:
    """(source, dest, label) with sources grouped per (trigger, dest) row."""
    edges: list[tuple[str, str, str]] = []
    for row in TRANSITIONS:
        label = row.trigger.value + (f" [{row.guard}]" if row.guard else "")
        edges.extend((source.value, row.dest.value, label) for source in row.sources)
    return edges


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {State.IDLE.value}"]
    lines += [f"    {src} --> {dst}: {label}" for src, dst, label in _edges()]
    lines += [f"    {state.value} --> [*]" for state in sorted(TERMINAL, key=str)]
    return "\n".join(lines) + "\n"


def dot() -> str:
    lines = [
        "digraph transport {",
        "    rankdir=LR;",
        '    node [shape=box, style=rounded, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        '    __start [shape=point, label=""];',
        f"    __start -> {State.IDLE.value};",
    ]
    lines += [f"    {s.value} [shape=doublecircle];" for s in sorted(TERMINAL, key=str)]
    lines += [f'    {src} -> {dst} [label="{label}"];' for src, dst, label in _edges()]
    lines.append("}")
    return "\n".join(lines) + "\n"


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
