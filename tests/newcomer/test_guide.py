"""docs/GUIDE.md runs as written: each Python block is a pytest module, each YAML block
a scenario that holds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.runner import run_scenario
from sim.scenario import parse_scenario
from tests.newcomer.docblocks import blocks

GUIDE = "docs/GUIDE.md"


def test_every_python_block_of_the_guide_passes_as_a_test_module(tmp_path: Path) -> None:
    modules = blocks(GUIDE)
    assert len(modules) >= 6
    for n, code in enumerate(modules, start=1):
        (tmp_path / f"test_guide_{n}.py").write_text(code)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            ".",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    tests = sum(len(re.findall(r"^(?:async )?def test_", c, re.M)) for c in modules)
    classes = sum(len(re.findall(r"^Test\w+ = ", c, re.M)) for c in modules)
    assert f"{tests + classes} passed" in run.stdout


@pytest.mark.parametrize("text", blocks(GUIDE, "yaml"))
def test_every_scenario_of_the_guide_holds(text: str) -> None:
    result = run_scenario(parse_scenario(text, source="GUIDE.md"))
    assert result.ok, [f.describe() for f in result.failures]
    assert result.expectations > 0
