"""Where `--host` points: the endpoints of the browsers and the server's truth.

`http://host:port` (no path) asks the server for its instances (`GET
/cluster`, as `chatsim serve` answers) and spreads the browsers over them;
a server that does not answer gets `/cometd`. A URL with a path (e.g.
`http://host:8000/bayeux` for Faye) is the one endpoint.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp

from sim.load.session import Mode, Target
from statecharts.chart import Timers
from statecharts.errors import UsageError
from transport.wire import ConnectionType


def check_url(url: str) -> tuple[str, str]:
    """(base `scheme://netloc`, path) of an http(s) URL, or UsageError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--host must be an http:// or https:// URL, got {url!r}")
    try:
        _ = parts.port
    except ValueError:
        raise UsageError(f"--host has a bad port: {url!r}") from None
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


async def discover(
    url: str,
    mode: Mode,
    *,
    token: str | None = None,
    transport: ConnectionType = ConnectionType.WEBSOCKET,
    timers: Timers | None = None,
) -> Target:
    base, path = check_url(url)
    timers = timers or Timers(jitter=True)
    if path:
        return Target({"i1": url}, mode, base if mode == "chat" else None, token, transport, timers)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    endpoints = {"i1": f"{base}/cometd"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10.0)) as http,
            http.get(f"{base}/cluster", headers=headers) as response,
        ):
            if response.status == 200:
                listed = (await response.json()).get("instances", {})
                if listed:
                    endpoints = {str(n): f"{base}{p}" for n, p in listed.items()}
    except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError):
        pass
    return Target(endpoints, mode, base if mode == "chat" else None, token, transport, timers)
