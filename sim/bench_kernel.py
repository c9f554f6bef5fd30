"""Micro-benchmark of the event kernel (DESIGN §10: ≥ 100,000 events per wall second).

The one place in the kernel's neighbourhood that reads the wall clock, and
only to time the run: the simulated workload itself is virtual.
"""

from __future__ import annotations

import time

from sim.kernel import Handle, Kernel

# Like a run of many clients: each periodic task re-arms itself, and one
# timer in four is re-armed before it fires (a watchdog pushed back).
_TASKS = 100


def kernel_events_per_second(n: int) -> float:
    """Run `n` scheduled events through a fresh kernel; events per wall second."""
    kernel = Kernel()
    budget = [n]
    watchdogs: list[Handle | None] = [None] * _TASKS

    def fire(task: int) -> None:
        if budget[0] <= 0:
            return
        budget[0] -= 1
        period = 0.001 * (1 + task % 7)
        kernel.call_later(period, fire, task)
        if task % 4 == 0:
            kernel.cancel(watchdogs[task])
            watchdogs[task] = kernel.call_later(3.0, fire, task)

    for task in range(_TASKS):
        kernel.call_at(0.0, fire, task)
    start = time.perf_counter()
    kernel.run()
    elapsed = time.perf_counter() - start
    return kernel.executed / elapsed if elapsed > 0 else float("inf")


if __name__ == "__main__":
    print(f"{kernel_events_per_second(200_000):,.0f} events/s")
