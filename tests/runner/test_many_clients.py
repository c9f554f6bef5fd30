"""Many clients: the loader takes 10,000; a run with many is judged per client, once."""

from __future__ import annotations

import pytest

from sim.runner import run_scenario
from sim.scenario import MAX_CLIENTS, parse_scenario
from statecharts.errors import BadInput


def test_the_loader_takes_ten_thousand_clients_and_refuses_more() -> None:
    scenario = parse_scenario("name: crowd\nduration: 1\nclients: 10000\n")
    assert len(scenario.clients) == 10_000 == MAX_CLIENTS
    assert scenario.clients[-1].id == "c10000"
    with pytest.raises(BadInput, match="at most 10000 clients"):
        parse_scenario("name: crowd\nduration: 1\nclients: 10001\n")


def test_fifty_clients_through_an_outage_are_each_judged() -> None:
    scenario = parse_scenario(
        "name: fifty\nseed: 3\nduration: 20\nclients: 50\n"
        "traffic: {client_every: 2.0, agent_every: 2.0}\n"
        "faults:\n  - {at: 8, kind: outage, duration: 5}\n"
    )
    result = run_scenario(scenario)
    assert result.ok, result.failures
    srcs = {r.src for r in result.records if r.kind == "interrupted"}
    assert len(srcs) == 50  # every client was cut and told
    assert result.stats.app_messages >= 50 * 10
