"""The README's subclassing recipe, pasted by a user with a planted bug, fails fast."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

from tests.newcomer.docblocks import block_with

PLANTED_BODY = """\
    # planted bug: the legacy error 150 is told twice per interruption
    def take_events(self):
        from statecharts.catalog import ErrorCode
        from statecharts.events import EventError

        out = []
        for t, e in super().take_events():
            out.append((t, e))
            if isinstance(e, EventError) and e.code == ErrorCode.NETWORK_INTERRUPTED:
                out.append((t, e))
        return out
"""
# Seconds of CPU for the whole pytest process (about 2 s on a quiet machine). CPU time,
# not wall time: on a loaded 2-core CI machine the wall clock says more about the
# neighbours than about the recipe.
RECIPE_BUDGET = 10.0


def test_the_readme_recipe_reports_a_planted_bug_in_seconds(tmp_path: Path) -> None:
    recipe = block_with("README.md", "class MyFlow(ChatFlowMachine)")
    assert "    ...\n" in recipe
    (tmp_path / "test_my_flow.py").write_text(recipe.replace("    ...\n", PLANTED_BODY, 1))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_flow.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "1 failed" in run.stdout
    assert "I3" in run.stdout and "inject(outage(" in run.stdout  # rule and shrunk program
    assert cpu < RECIPE_BUDGET, f"the recipe took {cpu:.1f} s of CPU"
