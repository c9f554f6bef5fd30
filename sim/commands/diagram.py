"""`chatsim diagram`: the statechart as Mermaid, DOT or SVG."""

from __future__ import annotations

import argparse
import sys

from statecharts.diagram import render


def main(args: argparse.Namespace) -> int:
    sys.stdout.write(render(args.format))
    return 0
