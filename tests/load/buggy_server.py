"""A test-only chat server with a planted bug: a session that fails over to another
instance loses the last message it had accepted (and acknowledged), as a replica that
missed it would. `chatsim load` must report the loss.

Run as a script: prints `listening on URL`, serves until killed.
"""

from __future__ import annotations

import asyncio
import random
import sys
from typing import Any

from aiohttp import web

from sim.live.server import LiveServer
from sim.server import Cluster, MemoryStore
from sim.server.bayeux import BayeuxClient
from sim.server.chat import ChatService
from transport.wire import Message


class DropsOnFailover(ChatService):
    """The new instance's copy of a moved session lacks its last client message."""

    def handle(
        self, instance: str, client: BayeuxClient, data: dict[str, Any], now: float
    ) -> Message | None:
        session = self.cluster.store.get(str(data.get("chatId")))
        if data.get("operation") == "requestNotifications" and session is not None:
            last = session.transcript[-1] if session.transcript else None
            if session.instance != instance and last is not None and last.type == "Message":
                session.transcript.pop()
                session.message_ids.pop(last.client_message_id or "", None)
                self.cluster.store.put(session)
                position = min(data["transcriptPosition"], session.position)
                data = {**data, "transcriptPosition": position}
        return super().handle(instance, client, data, now)


async def serve(instances: int) -> None:
    cluster = Cluster(
        [f"i{n}" for n in range(1, instances + 1)], MemoryStore(), rng=random.Random(0)
    )
    cluster.chat = DropsOnFailover(cluster)
    runner = web.AppRunner(LiveServer(cluster).app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"listening on http://127.0.0.1:{port}/cometd", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
