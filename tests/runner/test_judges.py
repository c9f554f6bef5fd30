"""The runner's judges catch planted bugs: a client core subclass misbehaves on purpose.

The real cluster and network run as always; only the client is made wrong,
through the hooks the core offers for this.
"""

from __future__ import annotations

from sim.runner import RunResult, run_scenario
from sim.scenario import parse_scenario
from statecharts.events import Acked, AppEvent
from transport.core import ClientCore
from transport.replies import TranscriptItem

CHAT = """\
name: judged
seed: 5
duration: 20
traffic: {client_every: 1.0, agent_every: 1.5}
faults:
  - {at: 8, kind: corrupt, count: 1, mode: invalid_json}
"""


def _rules(result: RunResult) -> set[str]:
    return {f.rule for f in result.failures}


def _run(core: type[ClientCore], text: str = CHAT) -> RunResult:
    return run_scenario(parse_scenario(text, "judged.yaml"), core_class=core)


def test_the_real_core_passes() -> None:
    assert _run(ClientCore).ok


class LosesIndexSix(ClientCore):
    def deliver_transcript(self, now: float, item: TranscriptItem) -> None:
        if item.index != 6:
            super().deliver_transcript(now, item)


def test_a_lost_transcript_event_breaks_i6() -> None:
    result = _run(LosesIndexSix)
    assert "I6" in _rules(result)
    assert any("never saw transcript indexes 6" in f.message for f in result.failures)


class DeliversTwice(ClientCore):
    def deliver_transcript(self, now: float, item: TranscriptItem) -> None:
        super().deliver_transcript(now, item)
        if item.index == 4:
            super().deliver_transcript(now, item)


def test_a_duplicate_breaks_i6() -> None:
    result = _run(DeliversTwice)
    assert any("4 more than once" in f.message for f in result.failures)


class SwallowsCorruption(ClientCore):
    def emit_invalid_reply(self, now: float, reason: str) -> None:
        return None


def test_a_silent_corrupt_reply_breaks_i4() -> None:
    result = _run(SwallowsCorruption)
    assert _rules(result) == {"I4"}
    assert "1 corrupt frame(s) received, 0 error 151 reported" in result.failures[0].message


class AcksTwice(ClientCore):
    def emit(self, now: float, event: AppEvent) -> None:
        super().emit(now, event)
        if isinstance(event, Acked) and event.id.endswith("-m3"):
            super().emit(now, event)


def test_a_double_ack_breaks_i6() -> None:
    result = _run(AcksTwice)
    assert any("acknowledged 2 times" in f.message for f in result.failures)


class LateInterruption(ClientCore):
    def emit_interrupted(self, now: float) -> None:
        self._pending_interrupt = now

    def emit_continued(self, now: float, duration: float) -> None:
        super().emit_interrupted(now)
        super().emit_continued(now, duration)


def test_a_late_interrupted_breaks_i2_through_the_checker() -> None:
    text = CHAT + "  - {at: 12, kind: outage, duration: 5}\n"
    result = _run(LateInterruption, text)
    assert "I2" in _rules(result)


def test_the_verdict_names_what_broke() -> None:
    assert _run(SwallowsCorruption).verdict() == "FAIL: I4 broken"


class DeafToClosures(ClientCore):
    """Misses the socket closing: notices the outage only when a request times out."""

    def connection_closed(self, now: float, reason: str = "closed") -> None:
        self.tick(now)


def test_a_late_noticed_outage_breaks_i2_against_the_network_truth() -> None:
    text = CHAT + "  - {at: 12, kind: outage, duration: 20}\n"
    result = _run(DeafToClosures, text.replace("duration: 20\n", "duration: 40\n", 1))
    i2 = [f for f in result.failures if f.rule == "I2"]
    assert any("interrupted was due at t=15" in f.message for f in i2), result.failures
