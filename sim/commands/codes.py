"""`chatsim codes`: the EventError catalog as a table or JSON."""

from __future__ import annotations

import argparse
import json

from statecharts.catalog import CATALOG


def main(args: argparse.Namespace) -> int:
    infos = list(CATALOG.values())
    if args.json:
        print(json.dumps([info.as_json() for info in infos], indent=2))
        return 0
    rows = [("code", "description", "range", "origin", "when")]
    for info in infos:
        cat = info.category
        note = info.when + (" [deprecated]" if info.deprecated else "")
        span = f"{cat.low}-{cat.high}"
        rows.append((str(int(info.code)), info.description, span, info.origin.value, note))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]))
    return 0
