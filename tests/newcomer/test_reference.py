"""docs/REFERENCE.md says what the code does: every state, code, fault kind, scenario key
and command is there, its example holds, and no user-facing text cites a document
users do not have."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from sim.cli import build_parser
from sim.faults import FAULT_TYPES
from sim.runner import run_scenario
from sim.scenario import _CLIENT_KEYS, _TOP_KEYS, parse_scenario
from statecharts.catalog import ErrorCode, describe
from statecharts.chart import State
from statecharts.events import APP_KINDS
from tests.newcomer.docblocks import ROOT, blocks

# Commands whose every option the reference lists; the others' are in their --help.
DETAILED = ("run", "check", "fuzz", "diagram", "codes")
REFERENCE = (ROOT / "docs" / "REFERENCE.md").read_text(encoding="utf-8")


def _cells() -> set[str]:
    """The first cells of table rows, without backticks."""
    return {m.strip("` ") for m in re.findall(r"^\| ([^|]+) \|", REFERENCE, re.M)}


def test_states_codes_events_and_faults_are_all_there() -> None:
    cells = _cells()
    assert {s.value for s in State} <= cells
    assert set(APP_KINDS) <= cells
    assert set(FAULT_TYPES) <= cells
    for code in ErrorCode:
        assert f"| {int(code)} | {describe(code)} |" in REFERENCE


def test_every_scenario_key_and_command_is_there() -> None:
    for key in _TOP_KEYS:
        assert f"| `{key}` |" in REFERENCE
    for key in _CLIENT_KEYS:
        assert f"`{key}`" in REFERENCE
    for name, command in _subcommands().items():
        assert f"`chatsim {name}" in REFERENCE
        if name not in DETAILED:
            continue  # the reference sends readers to `chatsim NAME --help`
        for action in command._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in REFERENCE, f"chatsim {name} {option}"


@pytest.mark.parametrize("text", blocks("docs/REFERENCE.md", "yaml"))
def test_the_example_scenario_holds(text: str) -> None:
    assert run_scenario(parse_scenario(text)).ok


def test_no_user_facing_text_cites_the_design_document() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for doc in docs:
        assert "DESIGN" not in doc.read_text(encoding="utf-8"), doc
    help_text = subprocess.run(
        [sys.executable, "-m", "sim.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "DESIGN" not in help_text and "REFERENCE" not in help_text
    for command in _subcommands().values():
        assert "DESIGN" not in command.format_help()


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert isinstance(sub.choices, dict)
    return sub.choices


def test_the_reference_links_resolve() -> None:
    for target in re.findall(r"\]\(([A-Z]+\.md)\)", REFERENCE):
        assert (ROOT / "docs" / target).exists()
    anchors = set(re.findall(r"\]\(#([a-z0-9-]+)\)", REFERENCE))
    headings = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^## (.+)$", REFERENCE, re.M)
    }
    assert anchors <= headings
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/REFERENCE.md" in readme and "docs/GUIDE.md" in readme
