"""The client core's layers: the timer table, the pure recovery policy, the layering rules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sim.runner import run_scenario
from sim.scenario import parse_scenario
from statecharts.chart import State
from tests.transport.client_script import Script
from transport import recovery
from transport.core import ClientCore
from transport.timers import TIMER_TABLE, Wake

TRANSPORT = Path(__file__).resolve().parents[2] / "transport"
EXAMPLES = TRANSPORT.parent / "examples"


def test_the_timer_table_names_each_timer_once_in_tie_order() -> None:
    assert [wake for wake, _, _ in TIMER_TABLE] == list(Wake)


def test_armed_timers_follow_the_session() -> None:
    script = Script.new()
    script.open_chat(0.0)
    assert set(script.core.deadlines()) == {Wake.REQUEST}  # the held connect
    script.core.connection_closed(1.0, "outage")
    armed = script.core.deadlines()
    assert armed[Wake.INTERRUPT] == 4.0  # loss + interrupt_after
    assert Wake.OPEN in armed  # the first retry went out at once


def test_the_inline_timer_scan_agrees_with_the_table() -> None:
    script = Script.new()
    core = script.core
    seen: list[dict[Wake, float]] = []

    def agree() -> None:
        armed = core.deadlines()
        seen.append(armed)
        row, when = core.earliest_timer()
        if not armed:
            assert row < 0 and core.next_deadline() is None
            return
        first = min(armed.values())
        assert when == first == core.next_deadline()
        assert TIMER_TABLE[row][0] == next(w for w in Wake if armed.get(w) == first)

    agree()
    script.open_chat(0.0)
    agree()
    core.connection_closed(1.0, "outage")
    agree()
    for now in (1.5, 2.0, 4.0, 9.0):
        core.tick(now)
        agree()
    assert any(Wake.INTERRUPT in armed for armed in seen)


def test_failures_count_towards_failover_only_for_attempts_that_never_worked() -> None:
    outage = recovery.NO_OUTAGE
    first = recovery.after_failure(outage, 1.0, attempting=False, failover_after=2, instances=2)
    assert first.starts and not first.failover and first.outage.since == 1.0
    second = recovery.after_failure(
        first.outage, 2.0, attempting=True, failover_after=2, instances=2
    )
    assert not second.starts and not second.failover and second.outage.instance_failures == 1
    third = recovery.after_failure(
        second.outage, 3.0, attempting=True, failover_after=2, instances=2
    )
    assert third.failover and third.outage.instance_failures == 0
    assert third.outage.since == 1.0 and third.outage.failures == 3
    alone = recovery.after_failure(
        second.outage, 3.0, attempting=True, failover_after=2, instances=1
    )
    assert not alone.failover


def test_the_interruption_deadline_runs_only_where_the_chart_arms_it() -> None:
    lost = recovery.Outage(since=10.0)
    assert recovery.interrupt_deadline(lost, State.RECONNECTING, 3.0) == 13.0
    assert recovery.interrupt_deadline(lost, State.RESTORING, 3.0) == 13.0
    assert recovery.interrupt_deadline(lost, State.INTERRUPTED, 3.0) is None
    assert recovery.interrupt_deadline(lost, State.READY, 3.0) is None
    told = recovery.Outage(since=10.0, told=True)
    assert recovery.interrupt_deadline(told, State.RECONNECTING, 3.0) is None


def _modules() -> dict[str, ast.Module]:
    return {
        ".".join(path.relative_to(TRANSPORT.parent).with_suffix("").parts): ast.parse(
            path.read_text()
        )
        for path in TRANSPORT.rglob("*.py")
    }


def test_no_import_cycle_in_the_transport() -> None:
    modules = _modules()
    graph = {
        name: {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module in modules
        }
        for name, tree in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, " -> ".join((*path, name))
        if name in done:
            return
        for imported in graph[name]:
            visit(imported, (*path, name))
        done.add(name)

    for name in graph:
        visit(name, ())


def test_no_class_overrides_a_private_method_of_a_class_in_another_module() -> None:
    private: dict[str, set[str]] = {}  # class name -> its private methods
    for tree in _modules().values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                private[node.name] = {
                    f.name
                    for f in node.body
                    if isinstance(f, ast.FunctionDef)
                    and f.name.startswith("_")
                    and not f.name.startswith("__")
                }
    for name, tree in _modules().items():
        local = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            mine = {f.name for f in node.body if isinstance(f, ast.FunctionDef)}
            for base in node.bases:
                if isinstance(base, ast.Name) and base.id in private and base.id not in local:
                    assert not mine & private[base.id], f"{name}.{node.name}"


def test_transport_modules_stay_small() -> None:
    sizes = {path.name: len(path.read_text().splitlines()) for path in TRANSPORT.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes


class _CheckedDeadline(ClientCore):
    """Checks every remembered earliest timer against a fresh scan of the table."""

    remembered = 0

    def advance(self, now: float) -> None:
        if self.settled:
            assert (self.settled_row, self.settled_at) == self.earliest_timer()
        super().advance(now)

    def next_deadline(self) -> float | None:
        if self.settled:
            _CheckedDeadline.remembered += 1
        found = super().next_deadline()
        row, when = self.earliest_timer()
        assert found == (when if row >= 0 else None)
        return found


@pytest.mark.parametrize(
    "example",
    [
        "chaos.yaml",
        "reload_restore.yaml",
        "failover_crash.yaml",
        "lifecycle_end.yaml",
        "seed_no_reply_request_timeout.yaml",
        "corrupt_truncated.yaml",
        "three_clients_crash.yaml",
    ],
)
def test_the_remembered_next_deadline_is_the_one_a_scan_finds(example: str) -> None:
    scenario = parse_scenario((EXAMPLES / example).read_text())
    before = _CheckedDeadline.remembered
    assert run_scenario(scenario, core_class=_CheckedDeadline).ok
    assert _CheckedDeadline.remembered > before
