"""`chatsim serve`: the chat server emulator on a real socket, with a fault control API.

Binds 127.0.0.1 by default; any other host needs --allow-remote and --token
(the fault API then asks for `Authorization: Bearer <token>`). Stops cleanly
on SIGINT/SIGTERM. Logs one line per connection and per fault on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal
import sys

from sim.server.agent import AgentPolicy
from statecharts.dialects import DIALECTS
from statecharts.errors import UsageError

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def check_host(host: str, allow_remote: bool, token: str | None) -> None:
    if host in LOCAL_HOSTS:
        return
    if not (allow_remote and token):
        raise UsageError(
            f"refusing to serve on {host}: the fault API would be open to the network; "
            "pass --allow-remote and --token to do it anyway"
        )


async def _serve(args: argparse.Namespace) -> None:
    from sim.live.runner import live_server  # noqa: PLC0415 (aiohttp only when serving)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with live_server(
        args.instances, host=args.host, port=args.port, session_ttl=args.session_ttl,
        token=args.token, allow_origins=args.allow_origin, agent=agent_policy(args),
        dialect=getattr(args, "dialect", None) or "genesys",
    ) as srv:
        print(
            f"chatsim serve: listening on {srv.url} "
            f"(instances {', '.join(srv.urls)}; faults at {srv.faults_url})",
            flush=True,
        )
        await stop.wait()
        print("chatsim serve: shutting down", file=sys.stderr, flush=True)


def agent_policy(args: argparse.Namespace) -> AgentPolicy:
    return AgentPolicy(say_every=args.agent_every, reply_after=args.agent_reply_after)


def check_agent_and_origins(args: argparse.Namespace) -> None:
    from sim.live.origins import normalise_origin  # noqa: PLC0415 (aiohttp only when serving)

    for flag, value in (("--agent-every", args.agent_every),
                        ("--agent-reply-after", args.agent_reply_after)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise UsageError(f"{flag} must be a positive number of seconds, got {value}")
    for origin in args.allow_origin:
        try:
            normalise_origin(origin)
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def main(args: argparse.Namespace) -> int:
    if args.session_ttl is None:  # the dialect's own idle expiry (PolyAI: ~10 minutes)
        dialect = DIALECTS[getattr(args, "dialect", None) or "genesys"]
        args.session_ttl = dialect.session_idle_timeout
    check_host(args.host, args.allow_remote, args.token)
    if args.session_ttl <= 0:
        raise UsageError(f"--session-ttl must be positive, got {args.session_ttl}")
    check_agent_and_origins(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        asyncio.run(_serve(args))
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    with contextlib.suppress(Exception):
        logging.shutdown()
    return 0
