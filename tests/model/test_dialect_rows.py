"""Every error row of every seed is in its dialect's table, with its status and code.

The rows are pinned here (the seeds are not shipped with the project); when
the seed documents are at hand (`../shared/seeds`), they are parsed too and
every row they list must be present with the same status and number.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sim.cli import main
from sim.commands.codes import dialect_rows
from statecharts.dialects import DIALECTS, read_error

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

LIVECHAT = {
    "internal": "Internal server error",
    "validation": "Wrong format of request",
    "authorization": "Authorization error",
    "authentication": "Authentication error",
    "request_timeout": "Request timed out",
    "license_expired": "License expired",
    "unsupported_version": "Unsupported version",
    "misdirected_request": "Wrong region",
    "entity_too_large": "Upload limit exceeded (10MB)",
    "wrong_product_version": "Wrong product version",
    "license_not_found": "License not found",
    "requester_offline": "Requester offline",
}
LAYER = {  # id: (code, HTTP status)
    "service_unavailable": (1, 503),
    "invalid_request_id": (3, 400),
    "authentication_required": (4, 401),
    "rate_limit_exceeded": (7, 429),
    "request_timeout": (8, 408),
    "invalid_operation": (9, 422),
    "invalid_request": (10, 400),
    "internal_server_error": (100, 500),
    "access_denied": (101, 403),
    "not_found": (102, 404),
    "missing_property": (104, 422),
    "invalid_property": (105, 422),
    "invalid_endpoint": (106, 404),
    "invalid_header": (107, 406),
    "conflict": (108, 409),
    "method_not_allowed": (109, 405),
}
APIVIDEO = {
    "Invalid attributes.": 400,
    "The payload is invalid.": 400,
    "Your account has reached the webhook urls limit.": 400,
    "The requested resource could not be found.": 404,
    "Unrecognized request URL.": 404,
    "Method is not allowed for this route.": 405,
    "Server error": 500,
}
POLYAI = {  # message: HTTP status (None: a system message on the open socket)
    "Missing authentication headers": 401,
    "Connector token does not exist": 401,
    "Failed to validate connector": 401,
    "Connector missing host domain": 401,
    "Failed to create access token": 500,
    "Missing access token": 400,
    "Invalid access token": 401,
    "Error parsing request": 400,
    "Failed to create session": 500,
    "session not found": 404,
    "authentication failed": 401,
    "connection limit exceeded for session": 429,
    "invalid connection parameters": 400,
    "Unknown event type or invalid message format": None,
    "Event type not allowed: EVENT_TYPE_*": None,
    "Our system is experiencing high load. Please try again in a moment.": None,
    "Sorry, I'm unable to start a conversation right now. Please try again later.": None,
    "Sorry, I'm having trouble responding right now. Please try again.": None,
    "Sorry, I encountered an error. Please try again.": None,
    "Error: Session not found": None,
    "Error: Unable to retrieve session": None,
    "Error: Connector not found": None,
    "Error: Conversation not found": None,
    "Error: Conversation ID not found in session": None,
    "Sorry, we could not connect you to an agent. Please try again.": None,
    "Failed to forward message to live agent": None,
    "Sorry, handoff could not be initiated.": None,
}
POLYAI_HTTP = {400, 401, 404, 429, 500}


def _rows(name: str) -> dict[str, tuple[str, int | None, int | None]]:
    return {r.key: (r.message, r.status, r.number) for r in DIALECTS[name].rows}


def test_livechat_has_all_12_types() -> None:
    rows = _rows("livechat")
    assert {k: v[0] for k, v in rows.items()} == LIVECHAT


def test_layer_has_all_16_ids_with_codes_and_statuses() -> None:
    rows = _rows("layer")
    assert {k: (v[2], v[1]) for k, v in rows.items()} == LAYER


def test_apivideo_has_the_7_general_errors() -> None:
    assert {k: v[1] for k, v in _rows("apivideo").items()} == APIVIDEO


def test_polyai_has_every_error_with_its_status() -> None:
    rows = DIALECTS["polyai"].rows
    by_message = {r.key: r.status for r in rows if r.surface != "http"}
    assert by_message == POLYAI
    assert {r.status for r in rows if r.surface == "http"} == POLYAI_HTTP


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_every_row_reads_back_as_its_mapping(name: str) -> None:
    dialect = DIALECTS[name]
    for row in dialect.rows:
        found = read_error(dialect.render_row(row, {}))
        assert found is not None and found[0] == int(row.maps_to), row.key
        assert name == "genesys" or int(row.maps_to) < 150


def _seed(prefix: str) -> str:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.skip("the seed documents are not at hand")
    return found[0].read_text(encoding="utf-8")


def _first_cells(text: str) -> list[tuple[str, list[str]]]:
    """Markdown table rows whose first cell is `code`: (that code, the other cells)."""
    out = []
    for line in text.splitlines():
        match = re.match(r"\|\s*`([^`]+)`\s*\|(.*)\|\s*$", line)
        if match:
            out.append((match[1], [c.strip().strip("`") for c in match[2].split("|")]))
    return out


def test_the_seed_documents_themselves() -> None:
    livechat = dict(_first_cells(_seed("000")))
    assert {k: v[0] for k, v in livechat.items()} == LIVECHAT
    layer_text = _seed("002")
    found = re.findall(
        r"Element:code\s+(\w+)\s+Element:td\s+(\d+)\s+Element:td\s+(\d{3}) \(", layer_text
    )
    assert {i: (int(c), int(s)) for i, c, s in found} == LAYER
    apivideo = {k: int(v[0]) for k, v in _first_cells(_seed("003"))}
    assert apivideo == APIVIDEO
    polyai = _first_cells(_seed("004"))
    statuses = {k: int(v[0]) for k, v in polyai if v and v[0].isdigit()}
    messages = {k for k, _ in polyai if not k.isdigit()}
    rows = DIALECTS["polyai"].rows
    assert messages == {r.key for r in rows if r.surface != "http"}
    for key, status in statuses.items():
        if key.isdigit():
            assert int(key) in POLYAI_HTTP
        else:
            assert POLYAI[key] == status


@pytest.mark.parametrize("name", ["polyai", "livechat", "layer", "apivideo"])
def test_codes_prints_every_row(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["codes", "--dialect", name]) == 0
    out = capsys.readouterr().out
    for row in DIALECTS[name].rows:
        assert row.key in out
    assert main(["codes", "--dialect", name, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["rows"]
    assert listed == dialect_rows(DIALECTS[name])
    assert len(listed) == len(DIALECTS[name].rows)


def test_unknown_dialect_is_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["codes", "--dialect", "aol"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
