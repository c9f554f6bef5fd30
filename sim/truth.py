"""The simulated world's truth, as the judge takes it (`statecharts.judge.Truth`).

What a trace alone cannot tell: every transcript the server accepted (kept
even for sessions it later forgot), each client's chat, the frames a client
received that no server sent (corruption, for I4), and whether the world
settled after the run.
"""

from __future__ import annotations

from sim.world import World
from statecharts.judge import Accepted, ClientTimers, Settings, Truth, settings_for
from statecharts.trace import Trace


def truth_of(world: World, *, transcripts: bool = True) -> Truth:
    """The world's truth now; `transcripts=False` for the cheap per-step I4 check."""
    accepted = None
    if transcripts:
        accepted = {
            session.chat_id: [
                Accepted(e.index, e.client_message_id, e.party) for e in session.transcript
            ]
            for session in world.sessions()
        }
    chats = {c.src: c.view.chat_id for c in world.clients.values() if c.view.chat_id is not None}
    foreign = {c.src: list(c.view.foreign_frames) for c in world.clients.values()}
    return Truth(
        transcripts=accepted,
        chats=chats,
        foreign=foreign,
        settled=world.settled() if transcripts else None,
    )


def settings_of(world: World, trace: Trace) -> Settings:
    """The trace header's settings, with each client's own thresholds."""
    base = settings_for(trace)
    clients = {
        c.src: ClientTimers(c.spec.interrupt_after, c.spec.interruption_error)
        for c in world.clients.values()
    }
    return Settings(
        base.interrupt_after,
        base.tolerance,
        base.interruption_error,
        virtual=True,
        clients=clients,
    )
