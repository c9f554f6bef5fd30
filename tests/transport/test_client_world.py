"""The real client core against the real server core over the simulated network.

Each scenario runs in virtual time through `sim.runner` (World glue, kernel,
network, cluster); the runner also judges I1-I7 on the trace, so every test
asserts that nothing failed besides what it checks itself.
"""

from __future__ import annotations

from collections import Counter

import pytest

from sim.runner import RunResult, play, run_scenario
from sim.scenario import parse_scenario
from statecharts.trace import TraceRecord
from transport.core import ClientCore
from transport.replies import TranscriptItem

BASE = """
name: {name}
seed: {seed}
duration: {duration}
client: {{interrupt_after: 3.0, transport: {transport}}}
traffic: {{client_every: 1.0, agent_every: 2.0}}
faults: {faults}
"""


def run(
    faults: str = "[]",
    *,
    duration: float = 30,
    transport: str = "websocket",
    seed: int = 7,
    core_class: type[ClientCore] = ClientCore,
) -> RunResult:
    text = BASE.format(
        name="client world", seed=seed, duration=duration, transport=transport, faults=faults
    )
    result = run_scenario(parse_scenario(text), core_class=core_class)
    assert result.failures == (), [f.describe() for f in result.failures]
    assert result.settled
    return result


def client_events(result: RunResult, kind: str) -> list[TraceRecord]:
    return [r for r in result.records if r.src == "client:c1" and r.kind == kind]


def codes(result: RunResult) -> list[int]:
    return [r.data["code"] for r in client_events(result, "error")]


def states(result: RunResult) -> list[str]:
    return [r.data["to"] for r in client_events(result, "state")]


@pytest.fixture(params=["websocket", "long-polling"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_start_send_ack_and_echo(transport: str) -> None:
    result = run(duration=10, transport=transport)
    assert states(result)[:3] == ["connecting", "opening", "ready"]
    sent = [r.data["id"] for r in client_events(result, "message") if r.data["direction"] == "out"]
    acked = Counter(r.data["id"] for r in client_events(result, "ack"))
    assert sent and all(acked[m] == 1 for m in sent)
    echoed = {r.data.get("id") for r in client_events(result, "message")}
    assert set(sent) <= echoed  # each client message comes back in the transcript
    assert codes(result) == []


def test_short_outage_is_silent(transport: str) -> None:
    result = run("[{at: 10, kind: outage, duration: 0.5}]", transport=transport)
    assert client_events(result, "loss") and "reconnecting" in states(result)
    assert client_events(result, "interrupted") == []
    assert client_events(result, "continued") == []


def test_long_outage_interrupts_at_loss_plus_3_and_continues(transport: str) -> None:
    result = run("[{at: 10, kind: outage, duration: 5}]", transport=transport)
    loss = client_events(result, "loss")[0].t
    [interrupted] = client_events(result, "interrupted")
    assert interrupted.t == pytest.approx(loss + 3.0, abs=1e-6)
    assert [r.t for r in client_events(result, "error") if r.data["code"] == 150] == [interrupted.t]
    [continued] = client_events(result, "continued")
    assert continued.t >= 15.0
    assert continued.data["duration"] == pytest.approx(continued.t - loss, abs=1e-6)


@pytest.mark.parametrize("mode", ["invalid_json", "schema", "truncated"])
def test_corrupt_replies_give_151_and_the_session_goes_on(mode: str) -> None:
    result = run(f"[{{at: 10, kind: corrupt, count: 3, mode: {mode}, direction: down}}]")
    assert codes(result).count(151) == 3
    assert states(result)[-1] == "ready"
    assert client_events(result, "interrupted") == []


def test_reload_restores_without_loss_or_duplicates(transport: str) -> None:
    result = run("[{at: 10, kind: reload}]", transport=transport)
    assert states(result)[-2:] == ["restoring", "ready"]
    [restored] = client_events(result, "restored")
    assert restored.data["instance"] == "i1"


def test_expire_ends_the_session_with_152() -> None:
    result = run("[{at: 10, kind: expire}]")
    assert codes(result)[-1] == 152
    kinds = [r.kind for r in result.records if r.src == "client:c1"]
    after = kinds[len(kinds) - 1 - kinds[::-1].index("error") :]
    assert after == ["error", "state", "ended"]
    assert states(result)[-1] == "failed"


def test_crash_fails_over_with_a_100_notice(transport: str) -> None:
    result = run("[{at: 10, kind: crash, instance: i1, duration: 30}]", transport=transport)
    notices = [r for r in client_events(result, "error") if r.data["code"] == 100]
    assert [n.data["data"] for n in notices] == [{"from": "i1", "to": "i2"}]
    assert "failover" in [r.data["trigger"] for r in client_events(result, "state")]
    [restored] = client_events(result, "restored")
    assert restored.data["instance"] == "i2"


@pytest.mark.parametrize(
    "faults",
    [
        "[{at: 5, kind: duplicate, p: 0.5, duration: 20}]",
        "[{at: 5, kind: reorder, p: 0.5, duration: 20}]",
        "[{at: 5, kind: loss, p: 0.2, duration: 20}]",
        "[{at: 5, kind: blackhole, duration: 12}]",
        "[{at: 5, kind: latency, ms: 300, jitter: 200, duration: 20}]",
        "[{at: 0, kind: not_ready, duration: 4}]",
        "[{at: 8, kind: command_error, code: 52, count: 2}]",
        "[{at: 8, kind: outage, duration: 15}, {at: 30, kind: reload}]",
    ],
)
def test_faults_never_lose_or_duplicate_transcript_events(faults: str, transport: str) -> None:
    result = run(faults, duration=40, transport=transport)
    delivered = [
        r.data["index"] for r in client_events(result, "message") if r.data["direction"] == "in"
    ]
    assert delivered == list(range(1, len(delivered) + 1))


def test_same_seed_same_trace() -> None:
    text = BASE.format(
        name="again",
        seed=3,
        duration=20,
        transport="websocket",
        faults="[{at: 5, kind: loss, p: 0.3, duration: 10}]",
    )
    scenario = parse_scenario(text)
    assert play(scenario).trace.text() == play(scenario).trace.text()


# -- planted bugs: the hooks let a subclass break one rule, and the judges see it ----
class ForgetsContinued(ClientCore):
    def emit_continued(self, now: float, duration: float) -> None:
        pass


class DeliversTwice(ClientCore):
    def deliver_transcript(self, now: float, item: TranscriptItem) -> None:
        super().deliver_transcript(now, item)
        super().deliver_transcript(now, item)


class InterruptsLate(ClientCore):
    def interrupt_deadline(self) -> float | None:
        deadline = super().interrupt_deadline()
        return None if deadline is None else deadline + 0.5


@pytest.mark.parametrize(
    ("core_class", "rule"),
    [(ForgetsContinued, "I1"), (DeliversTwice, "I6"), (InterruptsLate, "I2")],
)
def test_planted_bugs_are_caught(core_class: type[ClientCore], rule: str) -> None:
    text = BASE.format(
        name="planted",
        seed=1,
        duration=40,
        transport="websocket",
        faults="[{at: 10, kind: outage, duration: 5}, {at: 25, kind: outage, duration: 5}]",
    )
    result = run_scenario(parse_scenario(text), core_class=core_class)
    assert rule in {f.rule for f in result.failures}
