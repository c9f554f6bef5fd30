"""The simulated agent's behaviour: when it joins and whether it answers on its own.

Deterministic by construction: actions happen at fixed delays in virtual time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgentPolicy:
    # Seconds after requestChat until the agent joins (0: in the same step, index 2);
    # None: the agent joins only when it first speaks (`Cluster.agent_say`).
    join_after: float | None = 0.0
    # Seconds after each accepted client message until the agent answers; None: never.
    reply_after: float | None = None
    # The answer; `{text}` is the client's message.
    reply_text: str = "re: {text}"
    nickname: str = "Agent"
    # Seconds between the agent's own messages in every chat (from its start); None: never.
    say_every: float | None = None
    # What it says then; `{n}` counts 1, 2, ... per chat.
    say_text: str = "agent message {n}"

    def answer(self, text: str) -> str:
        return self.reply_text.replace("{text}", text)

    def chatter(self, n: int) -> str:
        return self.say_text.replace("{n}", str(n))
