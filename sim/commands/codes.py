"""`chatsim codes`: the EventError catalog, or a dialect's error table, as a table or JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from statecharts.catalog import CATALOG, describe
from statecharts.dialects import DIALECTS, Dialect


def main(args: argparse.Namespace) -> int:
    name = getattr(args, "dialect", None)
    if name is not None:
        return _dialect(DIALECTS[name], as_json=args.json)
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
    _print_table(rows)
    return 0


def dialect_rows(dialect: Dialect) -> list[dict[str, Any]]:
    """Every error row of the dialect's seed, with the EventError code it maps to."""
    rendered = {
        key: sorted(int(c) for c, k in dialect.renders.items() if k == key)
        for key in set(dialect.renders.values())
    }
    behaviours = {
        key: sorted(b for b, k in dialect.behaviours.items() if k == key)
        for key in set(dialect.behaviours.values())
    }
    return [
        {
            "key": row.key,
            "message": row.message,
            "status": row.status,
            "number": row.number,
            "surface": row.surface,
            "event_error": int(row.maps_to),
            "event_error_description": describe(row.maps_to),
            "sent_for": rendered.get(row.key, []),
            "behaviours": behaviours.get(row.key, []),
            "note": row.note,
        }
        for row in dialect.rows
    ]


def _dialect(dialect: Dialect, *, as_json: bool) -> int:
    rows = dialect_rows(dialect)
    if as_json:
        print(json.dumps({"dialect": dialect.name, "seed": dialect.seed, "rows": rows}, indent=2))
        return 0
    print(f"{dialect.name}: {dialect.seed}")
    table = [("key", "status", "number", "surface", "EventError", "sent for", "message / note")]
    for row in rows:
        text = " - ".join(t for t in (row["message"], row["note"]) if t)
        sent = ",".join(str(c) for c in row["sent_for"]) + (
            (" " if row["sent_for"] else "") + ",".join(row["behaviours"])
        )
        table.append(
            (
                row["key"],
                "" if row["status"] is None else str(row["status"]),
                "" if row["number"] is None else str(row["number"]),
                row["surface"],
                str(row["event_error"]),
                sent.strip(),
                text,
            )
        )
    _print_table(table)
    return 0


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())
