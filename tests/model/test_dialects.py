"""Every dialect renders each canonical error and reads it back."""

from __future__ import annotations

import pytest

from statecharts.catalog import ErrorCode, describe
from statecharts.dialects import DIALECTS, read_error

SERVER_CODES = [c for c in ErrorCode if c < 150]


@pytest.mark.parametrize("name", sorted(DIALECTS))
@pytest.mark.parametrize("code", SERVER_CODES, ids=lambda c: str(int(c)))
def test_round_trip(name: str, code: ErrorCode) -> None:
    dialect = DIALECTS[name]
    payload = dialect.render(code, {"chatId": "x"} if name == "genesys" else None)
    found = read_error(payload)
    assert found is not None
    back, description, data = found
    assert description == describe(back)
    row = dialect.table.get(code)
    assert back == (int(code) if row is None else int(row.maps_to))
    if name != "genesys" and row is not None:
        assert data["dialect"] == name and data["native"] == payload


def test_seed_shapes() -> None:
    assert DIALECTS["livechat"].render(ErrorCode.EXECUTION_ERROR) == {
        "error": {"type": "internal", "message": "Internal server error"}
    }
    layer = DIALECTS["layer"].render(ErrorCode.SERVER_UNAVAILABLE, {"retry": 1})
    assert (layer["id"], layer["code"], layer["data"]) == ("service_unavailable", 1, {"retry": 1})
    assert DIALECTS["apivideo"].render(ErrorCode.UNKNOWN_SESSION)["status"] == 404
    assert DIALECTS["polyai"].render(ErrorCode.UNKNOWN_SESSION)["message"] == (
        "Error: Session not found"
    )
    assert DIALECTS["polyai"].session_idle_timeout == 600.0
    assert DIALECTS["livechat"].request_timeout == 15.0


def test_unknown_payloads_are_not_errors() -> None:
    assert read_error({"hello": 1}) is None
    assert read_error("text") is None
