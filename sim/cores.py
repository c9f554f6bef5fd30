"""Which client core a run uses: `module:Class` naming a ClientCore subclass.

`chatsim run --core`, `chatsim fuzz --core` and a scenario's `core:` key all
name a core this way. The current directory is importable, as it is for
pytest, so a package next to the scenario file works without PYTHONPATH.
"""

from __future__ import annotations

import importlib
import os
import sys

from statecharts.errors import UsageError
from transport.core import ClientCore


def is_core_spec(spec: str) -> bool:
    """Is this of the form `module:Class` (dotted module, one class name)?"""
    module_name, _, class_name = spec.partition(":")
    parts = [*module_name.split("."), class_name]
    return all(part.isidentifier() for part in parts)


def load_core(spec: str | None, where: str = "--core") -> type[ClientCore]:
    """The ClientCore subclass `spec` names; None gives the built-in core.

    `where` names the option or file the spec came from, for the error message.
    """
    if spec is None:
        return ClientCore
    if not is_core_spec(spec):
        raise UsageError(f"{where}: expected module:Class, got {spec!r}")
    module_name, _, class_name = spec.partition(":")
    _cwd_importable()
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a user's module may fail in any way while importing
        raise UsageError(f"{where}: cannot import {module_name}: {exc}") from None
    core = getattr(module, class_name, None)
    if not (isinstance(core, type) and issubclass(core, ClientCore)):
        raise UsageError(f"{where}: {spec} is not a ClientCore subclass")
    return core


def _cwd_importable() -> None:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
