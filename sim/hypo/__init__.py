"""Property-based testing of chat client flows with Hypothesis.

- `sim.hypo.strategies`: faults, fault schedules, user actions, configurations, programs;
- `sim.hypo.program`: step programs as values (print, replay, write as scenario YAML);
- `sim.hypo.machine`: a `RuleBasedStateMachine` over the simulated world, I1-I8 as invariants;
- `sim.hypo.fixtures`: pytest fixtures (re-exported by the `chatsim` pytest plugin);
- `sim.hypo.coverage`: statechart coverage of traces; `sim.hypo.bench`: examples per second.
"""
