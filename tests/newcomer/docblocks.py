"""Code blocks of the Markdown docs, so tests run what users read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(doc: str, language: str = "python") -> list[str]:
    """The fenced code blocks of one language in `doc` (a path under the repository)."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    return [body for lang, body in _BLOCK.findall(text) if lang == language]


def block_with(doc: str, marker: str, language: str = "python") -> str:
    """The one block of `doc` that contains `marker`."""
    [found] = [b for b in blocks(doc, language) if marker in b]
    return found
