"""The event kernel: virtual clock, queue order, cancellation, RNG streams, tracer."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.bench_kernel import kernel_events_per_second
from sim.kernel import ClockError, Kernel, Simulation, Streams, Tracer, VirtualClock
from statecharts.errors import UsageError
from statecharts.events import Interrupted


def test_clock_moves_forward_and_stays_put() -> None:
    clock = VirtualClock()
    clock.advance_to(1.5)
    clock.advance_to(1.5)
    assert clock.now == 1.5


@pytest.mark.parametrize("target", [1.0, -0.0001, math.nan])
def test_clock_refuses_to_go_back(target: float) -> None:
    clock = VirtualClock(2.0)
    with pytest.raises(ClockError, match="cannot go back"):
        clock.advance_to(target)
    assert clock.now == 2.0


def test_clock_error_is_a_usage_error() -> None:
    assert issubclass(ClockError, UsageError)


def test_scheduling_in_the_past_is_refused() -> None:
    kernel = Kernel()
    kernel.run_until(5.0)
    with pytest.raises(ClockError):
        kernel.call_at(4.999, print)
    with pytest.raises(ClockError):
        kernel.run_until(4.0)
    with pytest.raises(ClockError):
        kernel.call_later(-1.0, print)


def test_events_run_in_time_order_then_insertion_order() -> None:
    kernel = Kernel()
    seen: list[str] = []
    kernel.call_at(2.0, seen.append, "t2-first")
    kernel.call_at(1.0, seen.append, "t1-first")
    kernel.call_at(2.0, seen.append, "t2-second")
    kernel.call_at(1.0, seen.append, "t1-second")
    kernel.call_at(0.0, seen.append, "t0")
    kernel.run()
    assert seen == ["t0", "t1-first", "t1-second", "t2-first", "t2-second"]


def test_event_scheduled_for_now_runs_after_those_already_queued() -> None:
    kernel = Kernel()
    seen: list[str] = []

    def first() -> None:
        seen.append("first")
        kernel.call_at(kernel.now, seen.append, "spawned")

    kernel.call_at(1.0, first)
    kernel.call_at(1.0, seen.append, "second")
    kernel.run()
    assert seen == ["first", "second", "spawned"]


def test_events_see_their_own_time() -> None:
    kernel = Kernel()
    times: list[float] = []
    for t in (0.25, 3.0, 0.5):
        kernel.call_at(t, lambda: times.append(kernel.now))
    kernel.run()
    assert times == [0.25, 0.5, 3.0]


def test_cancel_skips_the_call_and_is_idempotent() -> None:
    kernel = Kernel()
    seen: list[int] = []
    keep = kernel.call_at(1.0, seen.append, 1)
    drop = kernel.call_at(1.0, seen.append, 2)
    kernel.cancel(drop)
    kernel.cancel(drop)
    kernel.cancel(None)
    assert kernel.pending == 1
    kernel.run()
    kernel.cancel(keep)  # after it ran: harmless
    assert seen == [1]
    assert kernel.pending == 0
    assert kernel.next_time() is None


def test_posted_calls_keep_time_and_insertion_order_with_cancellable_ones() -> None:
    kernel = Kernel()
    seen: list[str] = []
    kernel.post(1.0, seen.append, "post-a")
    drop = kernel.call_at(1.0, seen.append, "dropped")
    kernel.call_at(1.0, seen.append, "call")
    kernel.post(0.5, seen.append, "early")
    kernel.post(1.0, seen.append, "post-b")
    kernel.cancel(drop)
    assert kernel.pending == 4
    kernel.run_until(1.0)
    assert seen == ["early", "post-a", "call", "post-b"]
    with pytest.raises(ClockError, match="before now"):
        kernel.post(0.5, seen.append, "late")


def test_many_cancellations_keep_the_queue_consistent() -> None:
    kernel = Kernel()
    seen: list[int] = []
    handles = [kernel.call_at(float(i), seen.append, i) for i in range(1000)]
    for handle in handles[::2] + handles[1:500:2]:
        kernel.cancel(handle)
    assert kernel.pending == 250
    assert kernel.next_time() == 501.0
    kernel.run()
    assert seen == list(range(501, 1000, 2))


def test_run_until_is_inclusive_and_moves_the_clock() -> None:
    kernel = Kernel()
    seen: list[float] = []
    for t in (1.0, 2.0, 3.0):
        kernel.call_at(t, seen.append, t)
    assert kernel.run_until(2.0) == 2
    assert seen == [1.0, 2.0]
    assert kernel.now == 2.0
    kernel.run_until(2.5)
    assert kernel.now == 2.5
    assert kernel.next_time() == 3.0


def test_step_runs_one_event_at_a_time() -> None:
    kernel = Kernel()
    seen: list[str] = []
    kernel.call_at(1.0, seen.append, "a")
    kernel.call_at(2.0, seen.append, "b")
    assert kernel.step()
    assert (seen, kernel.now) == (["a"], 1.0)
    assert kernel.step()
    assert not kernel.step()
    assert kernel.now == 2.0
    assert kernel.executed == 2


def test_streams_are_reproducible_per_name() -> None:
    first = [Streams(7).get("net").random() for _ in range(2)]
    assert first[0] == first[1]
    assert Streams(7)["net"] is not Streams(7)["net"]
    streams = Streams(7)
    assert streams.get("net") is streams.get("net")


def test_adding_a_stream_does_not_change_another() -> None:
    alone = Streams(42)
    expected = [alone.get("client:c1").random() for _ in range(5)]
    crowded = Streams(42)
    crowded.get("net").random()
    crowded.get("server").random()
    got = []
    for _ in range(5):
        crowded.get("client:c2").random()  # interleaved draws of a new component
        got.append(crowded.get("client:c1").random())
    assert got == expected


def test_streams_differ_by_name_and_by_seed() -> None:
    streams = Streams(1)
    assert streams.get("a").random() != streams.get("b").random()
    assert Streams(1).get("a").random() != Streams(2).get("a").random()


PINNED_NET_SEED_MOD = 914065


def test_stream_seed_is_stable_across_processes() -> None:
    # Pinned: a change here breaks every recorded seed's replay (I8).
    assert Streams(7).derive("net") == Streams(7).derive("net")
    assert Streams(7).derive("net") % 1_000_000 == PINNED_NET_SEED_MOD


def test_tracer_stamps_virtual_time_and_marks_the_header() -> None:
    sim = Simulation(seed=3, scenario="demo", header_extra={"interrupt_after": 3.0})
    sim.kernel.call_at(1.25, lambda: sim.tracer.emit("net", "drop", conn="c1/1"))
    sim.kernel.call_at(2.0, sim.tracer.event, "client:c1", Interrupted())
    sim.kernel.run()
    sim.tracer.event("client:c1", Interrupted(), t=1.5)
    lines = [json.loads(line) for line in sim.tracer.text().splitlines()]
    assert lines[0] == {
        "kind": "run",
        "scenario": "demo",
        "seed": 3,
        "version": 1,
        "clock": "virtual",
        "interrupt_after": 3.0,
    }
    assert lines[1] == {"t": 1.25, "src": "net", "kind": "drop", "conn": "c1/1"}
    assert lines[2] == {"t": 2.0, "src": "client:c1", "kind": "interrupted"}
    assert lines[3]["t"] == 1.5
    assert len(sim.tracer.records) == 3


def test_tracer_on_a_bare_clock() -> None:
    tracer = Tracer(VirtualClock(0.5), "s", None)
    tracer.emit("fault", "fault.start", fault={"kind": "loss"})
    assert tracer.text().splitlines()[1] == (
        '{"t":0.5,"src":"fault","kind":"fault.start","fault":{"kind":"loss"}}'
    )


def test_benchmark_reports_a_rate() -> None:
    assert kernel_events_per_second(2_000) > 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.booleans()),  # (time in 1/4 s, cancel it?)
        max_size=40,
    )
)
def test_events_run_sorted_by_time_then_insertion(plan: list[tuple[int, bool]]) -> None:
    kernel = Kernel()
    seen: list[int] = []
    handles = [kernel.call_at(t / 4, seen.append, i) for i, (t, _) in enumerate(plan)]
    for handle, (_, cancel) in zip(handles, plan, strict=True):
        if cancel:
            kernel.cancel(handle)
    kernel.run()
    expected = sorted(
        (i for i, (_, cancel) in enumerate(plan) if not cancel), key=lambda i: (plan[i][0], i)
    )
    assert seen == expected
    assert kernel.pending == 0


def test_compaction_during_a_callback_keeps_time_order() -> None:
    from sim.kernel import Kernel

    kernel = Kernel()
    seen: list[float] = []
    handles = [kernel.call_at(50.0 + i, seen.append, 50.0 + i) for i in range(200)]

    def cancel_most() -> None:
        seen.append(kernel.now)
        for handle in handles[:150]:
            kernel.cancel(handle)
        kernel.call_at(2.0, seen.append, 2.0)

    kernel.call_at(1.0, cancel_most)
    kernel.call_at(3.0, seen.append, 3.0)
    kernel.run_until(400.0)
    assert seen == sorted(seen)
    assert seen[:3] == [1.0, 2.0, 3.0] and len(seen) == 3 + 50
