"""Run `chatsim` as a user's shell would: a fresh process, nothing extra on sys.path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# -I: isolated mode, so neither the current directory nor PYTHONPATH is importable
# unless chatsim itself makes it so (as the console script `chatsim` runs).
CHATSIM = [sys.executable, "-I", "-c", "import sys; from sim.cli import main; sys.exit(main())"]


def chatsim(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHATSIM, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


PLANTED = '''\\
from statecharts.catalog import ErrorCode
from statecharts.errors import IllegalTransition
from statecharts.events import EventError
from transport.core import ClientCore


class Twice150(ClientCore):
    """Tells the application error 150 twice per interruption."""

    def take_events(self):
        out = []
        for t, e in super().take_events():
            out.append((t, e))
            if isinstance(e, EventError) and e.code == ErrorCode.NETWORK_INTERRUPTED:
                out.append((t, e))
        return out


class CrashOnLoss(ClientCore):
    """Raises when a connection closes (a bug in a user's state handling)."""

    def connection_closed(self, now, reason):
        raise IllegalTransition("ready", "connection_lost")
'''


def planted_package(where: Path) -> str:
    """A package `mypkg` in `where` with planted-bug cores; returns its module name."""
    (where / "mypkg").mkdir()
    (where / "mypkg" / "__init__.py").write_text("")
    (where / "mypkg" / "transport.py").write_text(PLANTED)
    return "mypkg.transport"
