"""The error catalog and the small CLI commands built on the model."""

from __future__ import annotations

import json
import shutil

import pytest

from sim.cli import main
from statecharts.catalog import CATALOG, Category, ErrorCode, category_of, describe
from statecharts.chart import CHILDREN, TRANSITIONS
from statecharts.diagram import dot, mermaid, render
from statecharts.errors import UsageError

SEED_WORDING = {
    1: "Unknown chat command",
    2: "One or more mandatory parameters are missed in chat command",
    3: "Value of chat command parameter is incorrect",
    50: "Chat session ID is unknown",
    51: "Chat command is stopped by decorator",
    52: "Error during chat command execution",
    100: "Chat Server is not available",
    101: "Login to Chat Server was failed",
    150: "Network connection interrupted",
    151: "Invalid server response",
    152: "Session restoration failed",
}


def test_catalog_has_every_code_with_its_wording() -> None:
    assert {int(c): i.description for c, i in CATALOG.items()} == SEED_WORDING


def test_ranges_and_origins() -> None:
    assert category_of(1) is Category.COMMAND_SYNTAX
    assert category_of(99) is Category.SESSION_RUNTIME
    assert category_of(100) is Category.CHAT_SERVER
    assert category_of(151) is Category.TRANSPORT
    assert category_of(249) is Category.WIDGET
    with pytest.raises(ValueError, match="outside"):
        category_of(250)
    assert CATALOG[ErrorCode.NETWORK_INTERRUPTED].deprecated
    assert not CATALOG[ErrorCode.INVALID_RESPONSE].deprecated
    assert CATALOG[ErrorCode.RESTORE_FAILED].origin.value == "client"
    assert CATALOG[ErrorCode.UNKNOWN_SESSION].origin.value == "server"
    assert describe(7).startswith("Unlisted")


def test_codes_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codes"]) == 0
    out = capsys.readouterr().out
    for code, text in SEED_WORDING.items():
        assert f"{code}" in out and text in out
    assert "[deprecated]" in out


def test_codes_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_code = {row["code"]: row for row in rows}
    assert by_code[150]["deprecated"] is True
    assert by_code[152]["range"] == [150, 199]
    assert by_code[1]["category"] == "chat command syntax"


def test_diagrams_show_every_row() -> None:
    text_m, text_d = mermaid(), dot()
    for row in TRANSITIONS:
        for source in row.sources:
            assert f"{source.value} --> {row.dest.value}: {row.trigger.value}" in text_m
        assert f' -> {row.dest.value} [label="{row.trigger.value}' in text_d


def test_diagrams_draw_compound_states_with_one_edge_per_row() -> None:
    text_m, text_d = mermaid(), dot()
    for compound in CHILDREN:
        assert f"state {compound.value} {{" in text_m
        assert f"subgraph cluster_{compound.value} {{" in text_d
    assert "ltail=cluster_live" in text_d  # end/fail leave the whole live box
    edges = [line for line in text_m.splitlines() if "-->" in line and "[*]" not in line]
    assert len(edges) == sum(len(row.sources) for row in TRANSITIONS) < 20


def test_diagram_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", "--format", "mermaid"]) == 0
    assert capsys.readouterr().out.startswith("stateDiagram-v2")
    assert main(["diagram", "--format", "dot"]) == 0
    assert "digraph transport" in capsys.readouterr().out


def test_svg_without_graphviz_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(UsageError, match="Graphviz"):
        render("svg")
    assert main(["diagram", "--format", "svg"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Graphviz" in err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_svg_with_graphviz() -> None:
    assert "<svg" in render("svg")


def test_unknown_subcommand_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["frobnicate"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
