"""Which web pages may talk to the live server: CORS, the WebSocket Origin check, CSRF.

A request comes from a *foreign page* when a browser says so: its `Origin` is
not the server's own, or (for requests without an Origin, such as a JSONP
script) `Sec-Fetch-Site` says cross-site or same-site. Requests without either
(curl, Python, Node) and same-origin pages are not foreign.

The Bayeux endpoints serve a foreign page only if its origin was allowed
(`chatsim serve --allow-origin ORIGIN`, or `*` for local development); the
answer then names that origin and allows credentials (CometD sends cookies),
never `*`. The control endpoints (`/faults`, `/agent`) take only JSON bodies and
serve a foreign page only with the bearer token, so a page in the same browser
cannot inject faults (CSRF). Routes under `/chatsim` (the widget recorder and
pages) set their own cross-origin rules and are left alone here.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from sim.live.guard import answered

log = logging.getLogger("chatsim.live")
ANY = "*"
CONTROL_PREFIXES = ("/faults", "/agent")
# Routes that set their own cross-origin rules: the widget recorder and pages under /chatsim.
OWN_RULES_PREFIXES = ("/chatsim",)
ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
FOREIGN_FETCH_SITES = frozenset({"cross-site", "same-site"})


def normalise_origin(text: str) -> str:
    """`scheme://host[:port]` of an --allow-origin value, or ValueError saying why."""
    if text == ANY:
        return ANY
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"--allow-origin {text!r}: expected scheme://host[:port] or *")
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class OriginPolicy:
    allowed: frozenset[str] = frozenset()

    @classmethod
    def of(cls, origins: Iterable[str]) -> OriginPolicy:
        return cls(frozenset(normalise_origin(o) for o in origins))

    def allows(self, origin: str) -> bool:
        return ANY in self.allowed or origin.lower() in self.allowed


def own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}".lower()


def foreign_origin(request: web.Request) -> str | None:
    """The origin of the foreign page that sent this request, or None (same origin or no page)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return None if origin.lower() == own_origin(request) else origin
    if request.headers.get("Sec-Fetch-Site", "") in FOREIGN_FETCH_SITES:
        referer = urlsplit(request.headers.get("Referer", ""))
        return f"{referer.scheme}://{referer.netloc}" if referer.netloc else "null"
    return None


def _cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


def _refusal(status: int, reason: str) -> web.Response:
    log.info("refused (%d): %s", status, reason)
    return web.json_response({"error": reason}, status=status)


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def has_token(request: web.Request, token: str | None) -> bool:
    """The request carries `Authorization: Bearer <token>` (compared in constant time)."""
    given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
    return token is not None and hmac.compare_digest(given, f"Bearer {token}".encode())


def _preflight(request: web.Request, origin: str, policy: OriginPolicy) -> web.Response:
    if not policy.allows(origin):
        return _refusal(403, _not_allowed(origin))
    asked = request.headers.get("Access-Control-Request-Headers", "")
    headers = {
        **_cors_headers(origin),
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": asked or "Content-Type, Authorization",
        "Access-Control-Max-Age": "600",
    }
    return web.Response(status=204, headers=headers)


def _not_allowed(origin: str) -> str:
    if origin == "null":
        return "pages of an opaque origin (null) may use this server only with --allow-origin '*'"
    return f"pages from {origin} may not use this server; start it with --allow-origin {origin}"


def _control_refusal(request: web.Request, origin: str | None, token: str | None) -> str | None:
    """Why a control request is refused (CSRF rules), or None."""
    if origin is not None and not has_token(request, token):
        return f"a page from {origin} needs the bearer token to use the control API"
    if request.method in ("POST", "PUT", "PATCH") and request.content_type != "application/json":
        return "the body must be application/json"
    return None


def origin_middleware(policy: OriginPolicy, token: str | None) -> Middleware:
    """Preflights, CORS headers, and refusals of foreign pages, for every route.

    A tail call where nothing is left to do after the handler: no frame of this
    middleware stays alive for the hours a WebSocket may last."""

    @web.middleware
    def middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
        if _under(request.path, OWN_RULES_PREFIXES):
            return handler(request)
        origin = foreign_origin(request)
        refusal = _refusal_of(request, origin, policy, token)
        if refusal is not None:
            return answered(refusal)
        if origin is None:
            return handler(request)
        return _with_cors(request, handler, origin)

    return middleware


def _refusal_of(
    request: web.Request, origin: str | None, policy: OriginPolicy, token: str | None
) -> web.Response | None:
    """The answer that stops a request here (a preflight is answered here too), or None."""
    if request.method == "OPTIONS":
        if origin is None:
            return web.Response(status=204, headers={"Allow": ALLOWED_METHODS})
        return _preflight(request, origin, policy)
    if origin is not None and not policy.allows(origin):
        return _refusal(403, _not_allowed(origin))
    if _under(request.path, CONTROL_PREFIXES):
        reason = _control_refusal(request, origin, token)
        if reason is not None:
            status = 415 if reason.endswith("application/json") else 403
            return _refusal(status, reason)
    return None


async def _with_cors(request: web.Request, handler: Handler, origin: str) -> web.StreamResponse:
    response = await handler(request)
    if not response.prepared:
        response.headers.update(_cors_headers(origin))
    return response
