"""`chatsim compile`: build the hot path with mypyc, or say whether the build is in use.

The build needs mypy (which brings mypyc; it is in the `test` extra) and a C
compiler with this Python's headers. It compiles copies of the sources in a
temporary directory, then replaces the build directory in one rename, so a
failed build leaves the previous one (or none) and chatsim runs as before.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from statecharts import native
from statecharts.errors import LocalError

_PACKAGES = ("statecharts", "transport", "sim")
_SETUP = """\
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="chatsim-native",
    ext_modules=mypycify({paths!r}, opt_level="3", group_name={group!r}, multi_file=True),
)
"""
_MYPY_INI = "[mypy]\nignore_missing_imports = True\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="only say whether the compiled build is in use (exit 1 if not)",
    )
    parser.add_argument(
        "--if-stale",
        action="store_true",
        help="build only when there is no current build",
    )


def main(args: argparse.Namespace) -> int:
    status = native.activate()
    if args.check:
        print(status.reason)
        return 0 if status.active else 1
    build = native.native_dir()
    if args.if_stale and native.build_state(build) == "current":
        print(f"chatsim compile: the build in {build} is current")
        return 0
    _require_tools()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chatsim-compile-") as scratch:
        work = Path(scratch)
        expected = native.sources_hash()
        _copy_sources(work)
        _run_mypyc(work, build)
        _install(work, build, expected)
    print(
        f"chatsim compile: {len(native.COMPILED)} modules compiled into {build} "
        f"in {time.monotonic() - started:.0f} s; `chatsim compile --check` tells whether "
        f"a run uses them ({native.PURE_ENV}=1 turns them off)"
    )
    return 0


def _require_tools() -> None:
    if importlib.util.find_spec("mypyc") is None:
        raise LocalError("needs mypy (it brings mypyc): pip install 'mypy>=1.10'")
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        raise LocalError(
            f"needs a C compiler ({compiler!r} is not on PATH): on Debian, apt-get install gcc"
        )
    header = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not header.is_file():
        raise LocalError(
            f"needs this Python's headers ({header} is missing): "
            "on Debian, apt-get install python3-dev"
        )


def _copy_sources(work: Path) -> None:
    """The packages' Python files: mypyc reads the whole program to type the modules."""
    root = native.source_of("sim").parent
    for package in _PACKAGES:
        for source in (root / package).rglob("*"):
            if source.suffix in (".py", ".typed") and "__pycache__" not in source.parts:
                target = work / source.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


def _run_mypyc(work: Path, build: Path) -> None:
    paths = [str(Path(*module.split(".")).with_suffix(".py")) for module in native.COMPILED]
    (work / "setup.py").write_text(_SETUP.format(paths=paths, group=native.GROUP))
    (work / "mypy.ini").write_text(_MYPY_INI)
    env = {k: v for k, v in os.environ.items() if k != native.PURE_ENV}
    command = [sys.executable, "setup.py", "build_ext", "--inplace"]
    command += ["--parallel", str(os.cpu_count() or 1)]
    print(f"chatsim compile: compiling {len(paths)} modules with mypyc (about a minute)...")
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        build.parent.mkdir(parents=True, exist_ok=True)
        log = build.parent / "chatsim-compile.log"
        log.write_text(done.stdout + done.stderr)
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise LocalError(f"failed: {last[0]} (the whole log: {log})")


def _install(work: Path, build: Path, expected: str) -> None:
    """Move the libraries into place in one rename, with the manifest that vouches for them."""
    staged = build.with_name(build.name + ".new")
    shutil.rmtree(staged, ignore_errors=True)
    suffix = native.library_suffix()
    names = [native.GROUP + "__mypyc", *native.COMPILED]
    for name in names:
        relative = Path(*name.split(".")).with_name(name.rsplit(".", 1)[-1] + suffix)
        (staged / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / relative, staged / relative)
    manifest = {"sources": expected, "modules": list(native.COMPILED), "python": sys.version}
    (staged / native.MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    old = build.with_name(build.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if build.exists():
        build.rename(old)
    staged.rename(build)
    shutil.rmtree(old, ignore_errors=True)
