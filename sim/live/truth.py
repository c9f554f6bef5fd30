"""The server's truth for load tests: which instances there are, what a chat holds.

`GET /cluster` lists the instances and their endpoints (so `chatsim load`
spreads browsers over them and fails over between them); `GET
/transcripts/{chatId}` is the transcript the server accepted for one chat
(index, party and client message id of each event, no texts), against which
`chatsim load` counts lost and duplicated messages. Both answer JSON only and
want the fault API's bearer token when the server has one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from sim.live.server import LiveServer


def add_truth_routes(app: web.Application, server: LiveServer) -> None:
    authorised: Callable[[web.Request], bool] = server.authorised

    async def cluster(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.json_response({"error": "a bearer token is required"}, status=401)
        names = list(server.cluster.instances)
        return web.json_response({"instances": {n: f"/{n}/cometd" for n in names}})

    async def transcript(request: web.Request) -> web.Response:
        if not authorised(request):
            return web.json_response({"error": "a bearer token is required"}, status=401)
        chat_id = request.match_info["chat"]
        store = getattr(server.cluster, "store", None)
        session = store.get(chat_id) if store is not None else None
        if session is None:
            return web.json_response({"error": f"no chat {chat_id}"}, status=404)
        events: list[dict[str, Any]] = []
        for event in session.transcript:
            item: dict[str, Any] = {"index": event.index, "party": event.party}
            if event.client_message_id is not None:
                item["id"] = event.client_message_id
            events.append(item)
        return web.json_response({"chatId": chat_id, "events": events})

    app.router.add_get("/cluster", cluster)
    app.router.add_get("/transcripts/{chat}", transcript)
