"""`POST /agent/{chatId}/say {"text": ...}`: the agent speaks in a chat now.

JSON only, and a foreign page needs the bearer token, like the fault API
(`sim.live.origins`); with `chatsim serve --token`, every caller needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from sim.live.guard import read_json

if TYPE_CHECKING:
    from sim.live.server import LiveServer

MAX_TEXT = 4000


def agent_routes(server: LiveServer) -> list[web.RouteDef]:
    async def say(request: web.Request) -> web.Response:
        if not server.authorised(request):
            return _error("a bearer token is required", 401)
        raw: Any = await read_json(request, server.limits)
        if isinstance(raw, web.Response):
            return raw
        text = raw.get("text") if isinstance(raw, dict) else None
        if not isinstance(text, str) or not text or len(text) > MAX_TEXT:
            return _error(f"'text' must be a string of 1 to {MAX_TEXT} characters", 400)
        chat_id = request.match_info["chat_id"]
        index = server.agent_say(chat_id, text)
        if index is None:
            return _error(f"no chat {chat_id}", 404)
        return web.json_response({"chatId": chat_id, "index": index})

    return [web.post("/agent/{chat_id}/say", say)]


def _error(reason: str, status: int) -> web.Response:
    return web.json_response({"error": reason}, status=status)
