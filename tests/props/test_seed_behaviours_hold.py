"""I1-I8 hold through the seeds' behaviours and the client's reactions, in every dialect."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.faults import Fault
from sim.hypo import strategies as cs
from sim.hypo.program import fault_dict
from sim.runner import run_scenario
from sim.scenario import parse_scenario
from statecharts.dialects import DIALECTS, read_error

# `reject` names a row of one dialect: tests/server/test_seed_rows.py runs every row.
SEEDS = [k for k in cs.SEED_KINDS if k != "reject"]
KINDS = [*SEEDS, *SEEDS, "outage", "crash", "reload", "blackhole"]


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    faults=st.lists(cs.faults(KINDS, horizon=20.0), min_size=1, max_size=4),
    dialect=st.sampled_from(sorted(DIALECTS)),
    transport=st.sampled_from(["websocket", "long-polling"]),
    patience=st.sampled_from([10.0, 20.0]),  # 20: past LiveChat's 15 s request timeout
)
def test_invariants_hold_through_seed_behaviours(
    faults: list[Fault], dialect: str, transport: str, patience: float
) -> None:
    doc = {
        "name": "seed behaviours",
        "seed": 3,
        "duration": 40,
        "cluster": {"instances": 2, "dialect": dialect},
        "client": {"transport": transport, "max_network_delay": patience},
        "traffic": {"client_every": 1.0, "agent_every": 1.5},
        "faults": [fault_dict(f) for f in sorted(faults, key=lambda f: f.at)],
    }
    result = run_scenario(parse_scenario(yaml.safe_dump(doc), "<seed behaviours>"))
    assert result.ok, [f.describe() for f in result.failures]
    for rec in result.records:  # the application sees the documented mapping
        native = (rec.data.get("data") or {}).get("native") if rec.kind == "error" else None
        if native is not None:
            found = read_error(native)
            assert found is not None and found[0] == rec.data["code"], rec
