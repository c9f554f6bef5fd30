"""A hand-run `call_later` for the live fault path, so it runs on virtual time in tests."""

from __future__ import annotations

from collections.abc import Callable


class FakeTimers:
    """call_later for FaultPath, run by hand."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[tuple[float, Callable[[], None], list[bool]]] = []

    def call_later(self, delay: float, action: Callable[[], None]) -> FakeTimers.Handle:
        cancelled = [False]
        self.timers.append((self.now + delay, action, cancelled))
        return FakeTimers.Handle(cancelled)

    class Handle:
        def __init__(self, flag: list[bool]) -> None:
            self.flag = flag

        def cancel(self) -> None:
            self.flag[0] = True

    def run_until(self, t: float) -> None:
        while True:
            live = sorted((w, i) for i, (w, _a, c) in enumerate(self.timers) if not c[0])
            if not live or live[0][0] > t:
                break
            when, i = live[0]
            self.now = max(self.now, when)
            _, action, flag = self.timers[i]
            flag[0] = True
            action()
        self.now = t
