"""The compiled build of the hot path: found, checked against the sources, and used.

`chatsim compile` builds the modules in `COMPILED` with mypyc into one directory
(`native_dir()`). Each package's `__init__` calls `activate()` before any of its
modules loads; `activate` puts a finder first on `sys.meta_path` that loads
those modules from the build, but only when the build was made from exactly
the sources beside it (a hash of their bytes) for this Python. Otherwise, or
with `CHATSIM_PURE=1` in the environment, every module runs as pure Python:
same behaviour, same trace bytes, about 1.5x slower.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

# The modules a build compiles: the simulation's hot path (client core, server core,
# kernel, network, world, trace and judge). Everything else stays Python.
COMPILED: tuple[str, ...] = (
    "statecharts.trace",
    "statecharts.judge.facts",
    "statecharts.judge.i1_alternation",
    "statecharts.judge.i2_timing",
    "statecharts.judge.i3_legacy_error",
    "statecharts.judge.i4_invalid_reply",
    "statecharts.judge.i5_restore_failed",
    "statecharts.judge.i6_delivery",
    "statecharts.judge.i6_rule",
    "statecharts.judge.i7_chart_path",
    "statecharts.judge.judge",
    "statecharts.judge.live",
    "statecharts.judge.order",
    "statecharts.judge.settings",
    "statecharts.judge.truth",
    "statecharts.judge.verdict",
    "statecharts.judge.windows",
    "transport.bayeux",
    "transport.chat",
    "transport.checks",
    "transport.connection",
    "transport.core",
    "transport.frames",
    "transport.meta",
    "transport.outputs",
    "transport.reactions",
    "transport.recovery",
    "transport.replies",
    "transport.reply_values",
    "transport.service",
    "transport.session",
    "transport.state",
    "transport.timers",
    "transport.wire",
    "sim.kernel",
    "sim.network",
    "sim.network_parts",
    "sim.world",
    "sim.world_actors",
    "sim.server.agent",
    "sim.server.bayeux",
    "sim.server.bounds",
    "sim.server.channels",
    "sim.server.chat",
    "sim.server.cluster",
    "sim.server.envelope",
    "sim.server.instance",
    "sim.server.outputs",
    "sim.server.ports",
    "sim.server.replies",
    "sim.server.routing",
    "sim.server.secrets",
    "sim.server.services",
    "sim.server.store",
)
GROUP = "chatsim_native"  # the shared library every compiled module loads
MANIFEST = "manifest.json"
PURE_ENV = "CHATSIM_PURE"
DIR_ENV = "CHATSIM_NATIVE_DIR"
_ROOT = Path(__file__).resolve().parent.parent  # the directory holding the packages


@dataclass(frozen=True)
class Status:
    """Whether this process runs the compiled build, and why (or why not)."""

    active: bool
    reason: str


def native_dir() -> Path:
    """Where `chatsim compile` puts the build: beside this Python's packages (the venv)."""
    override = os.environ.get(DIR_ENV)
    return Path(override) if override else Path(sys.prefix) / "chatsim-native"


def source_of(module: str) -> Path:
    return _ROOT.joinpath(*module.split(".")).with_suffix(".py")


def sources_hash(modules: Sequence[str] = COMPILED) -> str:
    """One hash of the compiled modules' sources and this Python's ABI."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    for module in modules:
        digest.update(module.encode() + b"\0" + source_of(module).read_bytes() + b"\0")
    return digest.hexdigest()


def library_suffix() -> str:
    return importlib.machinery.EXTENSION_SUFFIXES[0]


def _libraries(build: Path) -> dict[str, Path]:
    """Module name -> its compiled file, for every module the manifest promises."""
    suffix = library_suffix()
    found = {GROUP + "__mypyc": build / (GROUP + "__mypyc" + suffix)}
    for module in COMPILED:
        found[module] = build.joinpath(*module.split(".")).with_name(
            module.rsplit(".", 1)[-1] + suffix
        )
    return found


def build_state(build: Path) -> str:
    """ "current" when `build` was made from exactly these sources and has every
    library; otherwise "absent" (no readable manifest) or "stale"."""
    try:
        manifest = json.loads((build / MANIFEST).read_text())
    except (OSError, ValueError):
        return "absent"
    if manifest.get("sources") != sources_hash():
        return "stale"
    return "current" if all(p.is_file() for p in _libraries(build).values()) else "stale"


def _check(build: Path) -> tuple[Status, dict[str, Path]]:
    if os.environ.get(PURE_ENV, "") not in ("", "0"):
        return Status(False, f"pure Python ({PURE_ENV} is set)"), {}
    state = build_state(build)
    if state == "absent":
        return Status(False, "pure Python (no compiled build: run `chatsim compile`)"), {}
    if state == "stale":
        return Status(False, "pure Python (the compiled build is stale: `chatsim compile`)"), {}
    return Status(True, f"compiled with mypyc ({len(COMPILED)} modules, {build})"), _libraries(
        build
    )


class _Finder(importlib.abc.MetaPathFinder):
    """Loads the compiled modules from the build directory, and nothing else."""

    def __init__(self, libraries: dict[str, Path]) -> None:
        self.libraries = libraries

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        library = self.libraries.get(fullname)
        if library is None:
            return None
        return importlib.util.spec_from_file_location(fullname, library)


_STATUS: list[Status] = []  # this process's decision, made once


def activate() -> Status:
    """Use the compiled build if it is current (once per process; later calls report)."""
    if not _STATUS:
        status, libraries = _check(native_dir())
        if status.active:
            already = [name for name in COMPILED if name in sys.modules]
            if already:  # imported as Python before the finder: mixing would break types
                status = Status(False, f"pure Python ({already[0]} was imported first)")
            else:
                sys.meta_path.insert(0, _Finder(libraries))
        _STATUS.append(status)
    return _STATUS[0]
