"""Step programs: what a property test did, as values that replay and print.

A program is a flow configuration (client, cluster, network settings) plus a
list of steps. Steps are frozen dataclasses in virtual time: `Wait` moves the
clock, the others act at the current time. Faults in an `Inject` step carry
`at` as an offset from the moment of injection, so a program shrinks without
its times going stale. `to_scenario` turns a program into absolute times (the
form `chatsim run` reads), and `to_yaml` writes that scenario file.

User and agent steps become scenario `actions`, played by the same
`World.act` the stepwise machine calls, so a program and its scenario file
do the same things at the same virtual times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from sim.faults import Fault
from sim.scenario import Action, ClientSpec, ClusterSpec, NetworkSpec, Scenario, TrafficSpec

# A scenario needs a positive duration even when a program never waits.
MIN_DURATION = 1.0


class Step:
    """One step of a program; `show()` is its short, readable form."""

    def show(self) -> str:
        raise NotImplementedError

    def action(self, at: float) -> Action | None:
        """The scenario action this step is at time `at` (None: not an action)."""
        return None


@dataclass(frozen=True)
class Wait(Step):
    dt: float

    def show(self) -> str:
        return f"wait({self.dt:g})"


@dataclass(frozen=True)
class Inject(Step):
    fault: Fault

    def show(self) -> str:
        body = self.fault.as_dict()
        kind = body.pop("kind")
        args = ", ".join(f"{k}={_value(v)}" for k, v in body.items())
        return f"inject({kind}({args}))"


@dataclass(frozen=True)
class Send(Step):
    client: str = "c1"
    text: str = "hi"

    def show(self) -> str:
        return f"send({self.client}, {self.text!r})"

    def action(self, at: float) -> Action:
        return Action(at, "send", self.client, self.text)


@dataclass(frozen=True)
class Typing(Step):
    client: str = "c1"

    def show(self) -> str:
        return f"typing({self.client})"

    def action(self, at: float) -> Action:
        return Action(at, "typing", self.client, None)


@dataclass(frozen=True)
class ReloadPage(Step):
    client: str = "c1"

    def show(self) -> str:
        return f"reload({self.client})"

    def action(self, at: float) -> Action:
        return Action(at, "reload", self.client, None)


@dataclass(frozen=True)
class End(Step):
    client: str = "c1"

    def show(self) -> str:
        return f"end({self.client})"

    def action(self, at: float) -> Action:
        return Action(at, "end", self.client, None)


@dataclass(frozen=True)
class AgentSay(Step):
    """The simulated agent writes into every live chat (inbound traffic for I6)."""

    text: str = "hello"

    def show(self) -> str:
        return f"agent_say({self.text!r})"

    def action(self, at: float) -> Action:
        return Action(at, "agent", None, self.text)


def _value(v: object) -> str:
    return f"{v:g}" if isinstance(v, int | float) and not isinstance(v, bool) else repr(v)


USER_ACTIONS: tuple[type[Step], ...] = (Send, Typing, ReloadPage, End)


@dataclass(frozen=True)
class FlowConfig:
    """The settings a program runs under (the scenario minus faults and actions)."""

    client: ClientSpec = field(default_factory=ClientSpec)
    cluster: ClusterSpec = field(default_factory=ClusterSpec)
    network: NetworkSpec = field(default_factory=NetworkSpec)
    traffic: TrafficSpec = field(default_factory=TrafficSpec)

    def scenario(self, name: str = "property", seed: int = 0, duration: float = 1.0) -> Scenario:
        return Scenario(
            name=name,
            seed=seed,
            duration=duration,
            cluster=self.cluster,
            clients=(self.client,),
            network=self.network,
            traffic=self.traffic,
        )


@dataclass(frozen=True)
class Program:
    config: FlowConfig = field(default_factory=FlowConfig)
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def show(self) -> str:
        return "\n".join(step.show() for step in self.steps)

    @property
    def length(self) -> float:
        """Virtual seconds the steps span."""
        return round(sum(s.dt for s in self.steps if isinstance(s, Wait)), 6)


def absolute_fault(fault: Fault, now: float) -> Fault:
    """A fault injected at `now`: its relative `at` becomes absolute."""
    return replace(fault, at=round(now + fault.at, 6))


def timeline(steps: Iterable[Step], start: float = 0.0) -> tuple[list[Fault], list[Action]]:
    """The faults and actions of the steps, at absolute virtual times."""
    now = start
    faults: list[Fault] = []
    actions: list[Action] = []
    for step in steps:
        if isinstance(step, Wait):
            now = round(now + step.dt, 6)
        elif isinstance(step, Inject):
            faults.append(absolute_fault(step.fault, now))
        else:
            action = step.action(now)
            if action is not None:
                actions.append(action)
    return faults, actions


def to_scenario(program: Program, seed: int, name: str = "fuzz repro") -> Scenario:
    """The scenario `chatsim run` plays for this program: the steps' span, then the drain."""
    faults, actions = timeline(program.steps)
    scenario = program.config.scenario(name, seed, max(program.length, MIN_DURATION))
    return replace(scenario, faults=tuple(faults), actions=tuple(actions))


def to_yaml(program: Program, seed: int, name: str = "fuzz repro", core: str | None = None) -> str:
    """A scenario file for `chatsim run` that replays the program (with this client
    core, `module:Class`, when it is not the built-in one)."""
    scenario = to_scenario(program, seed, name)
    doc: dict[str, Any] = {
        "name": scenario.name,
        "seed": seed,
        "duration": round(scenario.duration, 6),
        "cluster": _cluster_dict(scenario.cluster),
        "client": _client_dict(scenario.client),
        "network": {"latency": scenario.network.latency},
    }
    traffic = {k: v for k, v in vars(scenario.traffic).items() if v is not None}
    if traffic:
        doc["traffic"] = traffic
    if scenario.faults:
        doc["faults"] = [fault_dict(f) for f in scenario.faults]
    if scenario.actions:
        doc["actions"] = [_action_dict(a) for a in scenario.actions]
    if core is not None:
        doc["core"] = core
    text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)
    lines = ["# Found by chatsim fuzz. Replay: chatsim run <this file>", "# Steps:"]
    lines += [f"#   {step.show()}" for step in program.steps]
    return "\n".join(lines) + "\n" + text


def _action_dict(action: Action) -> dict[str, Any]:
    out: dict[str, Any] = {"at": action.at, "do": action.do}
    if action.client is not None:
        out["client"] = action.client
    if action.text is not None:
        out["text"] = action.text
    return out


def fault_dict(fault: Fault) -> dict[str, Any]:
    """A fault as a scenario mapping that parses back to an equal value."""
    body = fault.as_dict()
    out = {"at": body.pop("at", 0.0), "kind": body.pop("kind"), **body}
    # as_dict leaves out direction=both, which is not every kind's default.
    if fault.direction != type(fault).__dataclass_fields__["direction"].default:
        out["direction"] = fault.direction.value
    return out


def _cluster_dict(spec: ClusterSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"instances": spec.instances, "session_ttl": spec.session_ttl}
    if spec.dialect is not None:
        out["dialect"] = spec.dialect
    return out


def _client_dict(spec: ClientSpec) -> dict[str, Any]:
    return {
        "interrupt_after": spec.interrupt_after,
        "interruption_error": spec.interruption_error,
        "max_network_delay": spec.max_network_delay,
        "backoff_increment": spec.backoff_increment,
        "max_backoff": spec.max_backoff,
        "jitter": spec.jitter,
        "transport": spec.transport.value,
    }
