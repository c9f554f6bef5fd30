"""Output files of the CLI, checked before any work starts.

A run that prints a whole timeline and then cannot write its trace wastes the
user's time; the folder and the file's writability are checked up front, and
every complaint is one line naming the option.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from statecharts.errors import UsageError


def writable_file(name: str | None, option: str) -> Path | None:
    """The path of an output file if it can be written (None when not asked for)."""
    if name is None:
        return None
    path = Path(name)
    if path.is_dir():
        raise UsageError(f"{option} {name}: is a folder, expected a file name")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{option} {name}: no such folder {folder}")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {name}: not writable")
    return path


def writable_folder(name: str, option: str) -> Path:
    """An output folder that exists or can be created (its nearest existing parent is
    a writable folder)."""
    path = Path(name)
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{option} {name}: {probe} is not a folder")
    if not os.access(probe, os.W_OK):
        raise UsageError(f"{option} {name}: {probe} is not writable")
    return path


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write lines (each without its newline) as they come, in batches."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            batch: list[str] = []
            for line in lines:
                batch.append(line)
                if len(batch) >= 4096:
                    out.write("\n".join(batch) + "\n")
                    batch.clear()
            if batch:
                out.write("\n".join(batch) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
