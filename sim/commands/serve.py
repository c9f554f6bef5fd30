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
from pathlib import Path

from sim.live.limits import FLAGS, Limits
from sim.server.agent import AgentPolicy
from statecharts.dialects import DIALECTS
from statecharts.errors import UsageError

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_INSTANCES = 64


def check_host(host: str, allow_remote: bool, token: str | None) -> None:
    if host in LOCAL_HOSTS:
        return
    if not (allow_remote and token):
        raise UsageError(
            f"refusing to serve on {host}: the fault API would be open to the network; "
            "pass --allow-remote and --token to do it anyway"
        )


def limits_of(args: argparse.Namespace) -> Limits:
    """The `Limits` the flags ask for (UsageError names a bad one)."""
    return Limits(**{name: getattr(args, name) for name, _, _ in FLAGS.values()})


def check_numbers(args: argparse.Namespace) -> None:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {args.port}")
    if not 1 <= args.instances <= MAX_INSTANCES:
        raise UsageError(f"--instances must be between 1 and {MAX_INSTANCES}, got {args.instances}")
    if not (math.isfinite(args.session_ttl) and args.session_ttl > 0):
        raise UsageError(f"--session-ttl must be positive, got {args.session_ttl}")


async def _serve(args: argparse.Namespace, limits: Limits) -> None:
    from sim.live.guard import quiet_loop_errors  # noqa: PLC0415 (aiohttp only when serving)
    from sim.live.runner import live_server  # noqa: PLC0415

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    quiet_loop_errors(loop)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with live_server(
        args.instances,
        host=args.host,
        port=args.port,
        session_ttl=args.session_ttl,
        token=args.token,
        allow_origins=args.allow_origin,
        agent=agent_policy(args),
        limits=limits,
        trace_dir=Path(args.trace) if args.trace else None,
        dialect=getattr(args, "dialect", None) or "genesys",
    ) as srv:
        print(
            f"chatsim serve: listening on {srv.url} "
            f"(instances {', '.join(srv.urls)}; faults at {srv.faults_url})",
            flush=True,
        )
        used = srv.server.limits
        logging.getLogger("chatsim.live").info(
            "limits: %s",
            ", ".join(f"{flag} {getattr(used, name)}" for flag, (name, _, _) in FLAGS.items()),
        )
        traces = f"; traces in {args.trace}/" if args.trace else ""
        print(
            f"chatsim serve: demo widget {srv.demo_url} · control page {srv.control_url}{traces}",
            flush=True,
        )
        await stop.wait()
        print("chatsim serve: shutting down", file=sys.stderr, flush=True)


def agent_policy(args: argparse.Namespace) -> AgentPolicy:
    return AgentPolicy(say_every=args.agent_every, reply_after=args.agent_reply_after)


def check_agent_and_origins(args: argparse.Namespace) -> None:
    from sim.live.origins import normalise_origin  # noqa: PLC0415 (aiohttp only when serving)

    for flag, value in (
        ("--agent-every", args.agent_every),
        ("--agent-reply-after", args.agent_reply_after),
    ):
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
    check_numbers(args)
    check_agent_and_origins(args)
    limits = limits_of(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        asyncio.run(_serve(args, limits))
    except (OSError, OverflowError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {reason}") from None
    with contextlib.suppress(Exception):
        logging.shutdown()
    return 0
