"""A frame handed over as values (a peer in the same process) does what its text does."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.runner import run_scenario
from sim.scenario import parse_scenario
from statecharts.errors import ProtocolViolation
from transport import wire
from transport.core import ClientCore, Output, SendFrame

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class ValuesCore(ClientCore):
    """Takes every frame that decodes as values; the others (corrupt bytes) as text."""

    def frame_received(self, text: str, now: float) -> None:
        try:
            messages = wire.decode(text)
        except ProtocolViolation:
            super().frame_received(text, now)
        else:
            self.frame_values_received(messages, now)


@pytest.mark.parametrize(
    "example",
    ["chaos.yaml", "corrupt_schema.yaml", "seed_redirect_region.yaml", "failover_crash.yaml"],
)
def test_values_and_text_give_the_same_trace(example: str) -> None:
    path = EXAMPLES / example
    if not path.exists():
        pytest.skip(f"no {example}")
    scenario = parse_scenario(path.read_text())
    as_text = run_scenario(scenario)
    as_values = run_scenario(scenario, core_class=ValuesCore)
    assert as_values.trace_text == as_text.trace_text


def test_a_frame_of_values_is_checked_like_a_decoded_one() -> None:
    core = ClientCore("c1")
    core.start(0.0)
    core.connection_made(0.0)
    core.take_events()
    core.frame_values_received([{"channel": 5}], 0.1)
    [(_, error)] = [(t, e) for t, e in core.take_events() if e.kind == "error"]
    assert error.fields()["code"] == 151


class CheckedSends(ClientCore):
    """Checks that every frame sent carries the very messages its text encodes."""

    frames = 0

    def take_outputs(self) -> list[Output]:
        outputs = super().take_outputs()
        for out in outputs:
            if isinstance(out, SendFrame):
                assert list(out.messages) == wire.decode(out.text)
                CheckedSends.frames += 1
        return outputs


def test_a_frame_sent_carries_its_messages_as_values() -> None:
    scenario = parse_scenario((EXAMPLES / "chaos.yaml").read_text())
    assert run_scenario(scenario, core_class=CheckedSends).ok
    assert CheckedSends.frames > 10
