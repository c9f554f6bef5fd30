"""Callback-polling (JSONP): long-polling over `GET ?jsonp=NAME&message=[...]`.

CometD JS falls back to it when long-polling fails cross-origin (during an
outage, say) and only goes back when a handshake succeeds, so serving it is
what lets such a page recover. The answer is `NAME(<frame>)` as JavaScript;
the callback name must be a plain identifier, so nothing else can be injected.
"""

from __future__ import annotations

import re

from aiohttp import web

_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,63}")


def is_jsonp(request: web.Request) -> bool:
    return request.method == "GET" and "jsonp" in request.query


def callback_name(request: web.Request) -> str | None:
    """The callback to call, or None when the name is not a plain identifier."""
    name = request.query.get("jsonp", "")
    return name if _NAME.fullmatch(name) else None


def body(request: web.Request) -> str:
    return request.query.get("message", "")


def wrap(name: str, response: web.Response) -> web.Response:
    """The frame of a successful poll as a script call; errors stay plain HTTP errors."""
    if response.status != 200 or not isinstance(response.text, str):
        return response
    return web.Response(
        text=f"{name}({response.text});",
        content_type="text/javascript",
        headers={"Cache-Control": "no-store"},
    )
