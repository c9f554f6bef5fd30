"""The end of a load run as people read it: the summary table and the verdict.

`summary` is the JSON the master writes (`sim.load.plugin`); pure functions,
so `chatsim load` renders it without Locust.
"""

from __future__ import annotations

from typing import Any


def ms(p: dict[str, Any] | None) -> str:
    if not p or p.get("p50") is None:
        return "-"
    return f"p50 {p['p50']:.0f}  p99 {p['p99']:.0f}"


def _counted(summary: dict[str, Any], *keys: str) -> dict[str, Any] | None:
    """The first of `keys` with samples (a chat logs in, pure Bayeux subscribes)."""
    for key in keys:
        value = summary.get(key)
        if isinstance(value, dict) and value.get("count"):
            return value
    return None


def render(summary: dict[str, Any]) -> str:
    errors = "  ".join(f"{code}: {n}" for code, n in summary.get("errors", {}).items()) or "none"
    rows = [
        ("sessions ready", f"{summary['sessions_ready']} / {summary['users']}"),
        (
            "messages sent",
            f"{summary['sent']}  acked {summary['acked']}  failed "
            f"{summary['failed']}  unacked {summary['unacked']}",
        ),
        ("agent messages", str(summary.get("agent_said", 0))),
        ("delivered", str(summary["delivered"])),
        ("lost", str(summary["lost"])),
        ("duplicated", str(summary["duplicated"])),
        ("interrupted", f"{summary['interrupted']}  continued {summary['continued']}"),
        ("restored", f"{summary['restored']}  (sessions {summary.get('sessions_restored', 0)})"),
        ("errors", errors),
        ("invariant breaks", str(summary["violations"])),
        ("send→ack ms", ms(summary.get("ack_ms"))),
        ("handshake ms", ms(summary.get("handshake_ms"))),
        ("login ms", ms(_counted(summary, "login_ms", "subscribe_ms"))),
        ("restore ms", ms(summary.get("restore_ms"))),
        ("workers", f"{summary['workers']} (judged against {summary['truth']} truth)"),
    ]
    for n, worker in enumerate(summary.get("per_worker", []), 1):
        rows.append((f"  worker {n}", _worker_line(worker, summary.get("traffic_s"))))
    return "\n".join(f"  {name:<18} {value}" for name, value in rows)


def _worker_line(worker: dict[str, Any], duration: Any) -> str:
    line = f"{worker.get('sessions_alive', 0)} sessions held, {worker.get('acked', 0)} acked"
    if isinstance(duration, int | float) and duration > 0:
        line += f" ({worker.get('acked', 0) / duration:,.0f}/s)"
    if "cpu_s" in worker:
        line += (
            f", CPU {worker['cpu_s']:.1f} s (sessions' loop {worker.get('loop_cpu_s', 0):.1f} s)"
            f", peak RSS {worker.get('max_rss_mib', 0):.0f} MiB"
        )
    return line


def verdict(summary: dict[str, Any]) -> tuple[int, str]:
    problems = [
        f"{summary[k]} {k}"
        for k in ("lost", "duplicated", "unacked", "violations")
        if summary.get(k)
    ]
    if summary["sessions_ready"] < summary["users"]:
        problems.append(f"{summary['users'] - summary['sessions_ready']} never ready")
    expected = max(summary.get("workers", 0), summary.get("workers_expected", 0))
    if summary.get("workers_final", 0) < expected:
        problems.append(
            f"{expected - summary.get('workers_final', 0)} worker(s) sent no final tally"
        )
    if summary["users"] < 1:
        problems.append("no browser ran")
    if problems:
        return 1, "FAILED: " + ", ".join(problems)
    return 0, "held: no loss, no duplicate, every message acknowledged"
