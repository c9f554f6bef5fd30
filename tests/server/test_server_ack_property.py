"""Property: with lost connect replies anywhere, the ack batches lose and reorder nothing."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.server import Cluster, MemoryStore
from tests.server.bayeux_script import ScriptClient, World, transcript
from transport.wire import Operation

# a step: 0 the agent speaks, 1 a connect whose reply arrives, 2 a connect whose reply is lost
steps = st.lists(st.sampled_from([0, 1, 2]), max_size=30)


@settings(max_examples=30, deadline=None)
@given(steps)
def test_every_transcript_event_arrives_once_in_order(plan: list[int]) -> None:
    world = World(Cluster(["i1"], MemoryStore(), rng=random.Random(0)))
    client = ScriptClient(world, "i1")
    client.handshake(0.0)
    chat_id = client.chat(Operation.REQUEST_CHAT, 0.0, nickname="ann")["result"]["chatId"]
    seen: list[int] = []
    now = 0.0
    for step in [*plan, 1]:
        now += 1.0
        if step == 0:
            world.cluster.agent_say(chat_id, f"t{now}", now)
            world.drain()
            continue
        client.connect(now)
        if not world.inbox[client.conn]:  # held: let the hold run out
            world.tick(now + world.cluster.hold)
            now += world.cluster.hold
        if step == 2:
            client.frames()  # the reply is lost: the client's ack stays where it was
            continue
        deliveries, _ = client.connect_reply()
        indexes = [i for i, _, _ in transcript(deliveries)]
        assert indexes == sorted(indexes)
        seen.extend(i for i in indexes if not seen or i > seen[-1])
    session = world.cluster.store.get(chat_id)
    assert session is not None
    assert seen == list(range(1, session.position + 1))
