"""Every server error code, produced through the simulated network by a scripted client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sim.server import Cluster
from statecharts.catalog import CATALOG, ErrorCode
from tests.server.test_server_over_network import Rig
from transport.wire import SERVICE_CHAT, Operation

Setup = Callable[[Cluster], None]


def _nothing(_cluster: Cluster) -> None:
    return None


CASES: list[tuple[ErrorCode, str, dict[str, Any], Setup]] = [
    (ErrorCode.UNKNOWN_COMMAND, "shout", {}, _nothing),
    (ErrorCode.MISSING_PARAMETER, "requestChat", {}, _nothing),
    (ErrorCode.INCORRECT_PARAMETER, "requestChat", {"nickname": 5}, _nothing),
    (ErrorCode.UNKNOWN_SESSION, "sendTyping", {"chatId": "nope", "secureKey": "k"}, _nothing),
    (
        ErrorCode.STOPPED_BY_DECORATOR,
        "requestChat",
        {"nickname": "ann"},
        lambda c: c.register_decorator(
            lambda op, _d: "vetoed" if op is Operation.REQUEST_CHAT else None
        ),
    ),
    (
        ErrorCode.EXECUTION_ERROR,
        "requestChat",
        {"nickname": "ann"},
        lambda c: c.command_errors(52, 1),
    ),
    (ErrorCode.SERVER_UNAVAILABLE, "requestChat", {"nickname": "ann"}, lambda c: c.not_ready(10.0)),
    (
        ErrorCode.LOGIN_FAILED,
        "requestChat",
        {"nickname": "ann"},
        lambda c: c.set_login_policy(lambda _nick, _d: "banned"),
    ),
]


@pytest.mark.parametrize(
    ("code", "operation", "params", "setup"), CASES, ids=[str(int(c[0])) for c in CASES]
)
def test_error_code_over_the_network(
    code: ErrorCode, operation: str, params: dict[str, Any], setup: Setup
) -> None:
    rig = Rig()
    setup(rig.cluster)
    rig.at(0.0, rig.net.connect, "c1", "i1")
    rig.handshake_at(0.1)
    rig.chat_at(0.2, operation, lambda: dict(params))
    rig.kernel.run_until(1.0)
    replies = [m for _, m in rig.client.messages(SERVICE_CHAT) if "data" in m]  # not the ack
    assert len(replies) == 1
    error = replies[0]["data"]["error"]
    assert error["code"] == int(code)
    assert error["description"] == CATALOG[code].description
