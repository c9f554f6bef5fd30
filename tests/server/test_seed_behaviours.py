"""The other seeds' server behaviours, switched on by their faults, in each dialect."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sim.faults import ExpireCredential, NoReply, RateLimit, Redirect
from sim.server import Cluster, MemoryStore
from statecharts.dialects import read_error
from tests.server.bayeux_script import ScriptClient, World
from transport.wire import META_HANDSHAKE, SERVICE_CHAT, Operation


def _client(dialect: str = "genesys", instances: tuple[str, ...] = ("i1",)) -> ScriptClient:
    cluster = Cluster(list(instances), MemoryStore(), rng=random.Random(1), dialect=dialect)
    client = ScriptClient(World(cluster), instances[0], conn="c")
    client.handshake(0.0)
    return client


def _login(client: ScriptClient) -> dict[str, Any]:
    return client.chat(Operation.REQUEST_CHAT, 0.0, nickname="n")


@pytest.mark.parametrize(
    ("dialect", "native_key"),
    [("genesys", 100), ("layer", "rate_limit_exceeded"), ("polyai", "Rate limit exceeded")],
)
def test_rate_limit_refuses_count_commands_with_retry_after(
    dialect: str, native_key: object
) -> None:
    client = _client(dialect)
    client.world.cluster.seed_behaviour(RateLimit(count=1, retry_after=2.5), start=True)
    refused = _login(client)["error"]
    code, _, data = read_error(refused) or (0, "", {})
    assert code == 100 and data["retryAfter"] == 2.5
    if dialect != "genesys":
        assert data["dialect"] == dialect and str(native_key) in str(data["native"])
        assert data["native"].get("status", 429) == 429
    assert "result" in _login(client)  # the count is used up


def test_expired_credential_carries_a_nonce_challenge() -> None:
    client = _client("layer")
    client.world.cluster.seed_behaviour(ExpireCredential(), start=True)
    native = _login(client)["error"]
    assert (native["id"], native["code"]) == ("authentication_required", 4)
    assert isinstance(native["data"]["nonce"], str)


def test_redirect_names_the_right_instance_until_it_ends() -> None:
    client = _client("livechat", ("i1", "i2"))
    cluster = client.world.cluster
    cluster.seed_behaviour(Redirect(to="i2"), start=True)
    native = _login(client)["error"]
    assert native["error"]["type"] == "misdirected_request"
    assert native["error"]["data"] == {"region": "i2"}
    cluster.seed_behaviour(Redirect(to="i2"), start=False)
    assert "result" in _login(client)


def test_no_reply_answers_only_the_publish() -> None:
    client = _client()
    client.world.cluster.seed_behaviour(NoReply(), start=True)
    reply = client.request(
        {"channel": SERVICE_CHAT, "data": {"operation": "requestChat", "nickname": "n"}}, 0.0
    )
    assert reply["successful"] is True and "data" not in reply
    assert "result" in _login(client)


def test_a_handshake_answers_an_issued_nonce_once() -> None:
    client = _client("layer")
    cluster = client.world.cluster
    cluster.seed_behaviour(ExpireCredential(), start=True)
    nonce = _login(client)["error"]["data"]["nonce"]
    again = ScriptClient(client.world, "i1", conn="c2")
    answer = {
        "channel": META_HANDSHAKE,
        "version": "1.0",
        "supportedConnectionTypes": ["websocket"],
    }
    assert again.request({**answer, "ext": {"nonce": nonce}}, 0.1)["successful"] is True
    assert again.request({**answer, "ext": {"nonce": nonce}}, 0.2)["successful"] is False
    assert again.request({**answer, "ext": {"nonce": "forged"}}, 0.3)["successful"] is False
    kinds = [kind for _, _, kind, _ in cluster.take_events()]
    assert kinds.count("credential.renewed") == 1 and kinds.count("credential.refused") == 2


def test_livechat_answers_an_unanswered_request_with_request_timeout_after_15_s() -> None:
    client = _client("livechat")
    client.world.cluster.seed_behaviour(NoReply(), start=True)
    data = {"operation": "requestChat", "nickname": "n"}
    client.request({"channel": SERVICE_CHAT, "data": data}, 0.0)  # the publish ack only
    client.frames()
    client.world.run_until(14.9)
    assert client.frames() == []
    client.world.run_until(15.0)
    (late,) = client.one()
    native = late["data"]["error"]["error"]
    assert (native["type"], native["data"]) == ("request_timeout", {"timeout": 15.0})
