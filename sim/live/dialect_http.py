"""HTTP errors in the server's dialect: what api.video, Layer or LiveChat put on the wire.

With a dialect that documents HTTP errors (`Dialect.http_errors`), an error
response of the chat endpoints is rewritten into that API's JSON error with
the same status: an unknown URL (404 `Unrecognized request URL.` in
api.video, `invalid_endpoint` in Layer), a method the endpoint does not take
(405), an undecodable payload (400 `The payload is invalid.`), a frame over
the size limit (413: LiveChat `entity_too_large`), a server error (500), a
request for Layer's media type in a version it does not have (406
`invalid_header`). The
control API (`/faults`), the agent endpoint and the `/chatsim` pages keep
their own answers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from statecharts.dialects import Dialect

log = logging.getLogger("chatsim.live")

# Routes that are not the emulated API: they answer in their own words.
_OWN_ROUTES = ("/faults", "/agent/", "/chatsim")
# What a Bayeux endpoint takes: GET (WebSocket, callback-polling), POST, CORS preflight.
_METHODS = frozenset({"GET", "POST", "OPTIONS", "HEAD"})


def dialect_error_middleware(dialect: Dialect) -> Middleware:
    @web.middleware
    def middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
        # A tail call without http_errors: no frame stays alive as long as a WebSocket.
        if not dialect.http_errors or request.path.startswith(_OWN_ROUTES):
            return handler(request)
        return _rendered(dialect, request, handler)

    return middleware


async def _rendered(dialect: Dialect, request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's answer, its errors rewritten in the dialect."""
    if request.method not in _METHODS:
        return _render(dialect, 405) or await handler(request)
    if not _accepted(dialect, request.headers.get("Accept", "")):
        return _render(dialect, 406) or await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        return _render(dialect, exc.status) or exc
    except Exception:  # a bug of ours: logged, and answered as the dialect's 500
        log.exception("%s %s failed", request.method, request.path)
        return _render(dialect, 500) or web.Response(status=500, text="server error\n")
    if response.status >= 400 and not isinstance(response, web.WebSocketResponse):
        return _render(dialect, response.status) or response
    return response


def _accepted(dialect: Dialect, accept: str) -> bool:
    """False when the request asks for the dialect's media type in a version it does not
    have (Layer: `Accept: application/vnd.layer+json; version=9.9`); any other is fine."""
    media = dialect.accept_media
    if media is None or media not in accept:
        return True
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        if kind == media:
            versions = [p.partition("=")[2].strip() for p in params if p.startswith("version=")]
            return bool(versions) and versions[0] in dialect.accept_versions
    return True


def _render(dialect: Dialect, status: int) -> web.Response | None:
    key = dialect.http_errors.get(status)
    if key is None:
        return None
    return web.json_response(dialect.render_row(dialect.row(key), {}), status=status)
