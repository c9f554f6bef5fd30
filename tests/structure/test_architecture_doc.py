"""docs/ARCHITECTURE.md names modules that exist: a split or a rename updates it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"


def test_every_python_file_the_architecture_names_exists() -> None:
    files = [p.relative_to(ROOT).as_posix() for p in ROOT.glob("[st]*/**/*.py")]
    files = [f for f in files if "node_modules" not in f]
    named = set(re.findall(r"[\w/]+\.py\b", DOC.read_text(encoding="utf-8")))
    missing = sorted(n for n in named if not any(f == n or f.endswith("/" + n) for f in files))
    assert missing == []
