"""Run the live server in-process: `async with live_server(instances=2) as srv:`.

For users' own tests and for `chatsim serve`. `srv.url` is the first
instance's `/cometd` endpoint, `srv.urls` one per instance, `srv.faults` adds,
lists and removes faults directly (the same board the HTTP API edits).
Binds 127.0.0.1 unless told otherwise by `chatsim serve --allow-remote`.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from sim.live.guard import LOOPBACK_NAMES, GuardedSite, loopback_host_middleware
from sim.live.limits import DEFAULT_LIMITS, Limits
from sim.live.server import LiveServer
from sim.live.widget_routes import WidgetHub
from sim.server import AgentPolicy, Cluster, MemoryStore
from sim.server.secrets import SystemSecrets
from statecharts.errors import UsageError

LOOPBACK = "127.0.0.1"


def instance_names(count: int) -> list[str]:
    if count < 1:
        raise UsageError(f"--instances must be at least 1, got {count}")
    return [f"i{n}" for n in range(1, count + 1)]


class Faults:
    """The fault board of a running live server, from Python."""

    def __init__(self, server: LiveServer) -> None:
        self._server = server

    def add(self, spec: Mapping[str, Any] | None = None, /, **fields: Any) -> int:
        """Add a fault like `add(kind="outage", duration=2)`; returns its id."""
        return self._server.add_fault({**(spec or {}), **fields}).id

    def remove(self, fault_id: int) -> bool:
        return self._server.remove_fault(fault_id)

    def clear(self) -> None:
        self._server.clear_faults()

    def list(self) -> list[dict[str, Any]]:
        return self._server.faults.listing(self._server.now())


@dataclass
class RunningServer:
    host: str
    port: int
    instances: list[str]
    server: LiveServer
    faults: Faults
    widget: WidgetHub | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/cometd"

    @property
    def urls(self) -> list[str]:
        return [f"{self.base}/{name}/cometd" for name in self.instances]

    @property
    def faults_url(self) -> str:
        return f"{self.base}/faults"

    @property
    def demo_url(self) -> str:
        return f"{self.base}/chatsim/demo"

    @property
    def control_url(self) -> str:
        return f"{self.base}/chatsim/"


def build_server(
    instances: int = 1,
    *,
    session_ttl: float = 60.0,
    client_timeout: float = 10.0,
    hold: float = 30.0,
    seed: int = 0,
    token: str | None = None,
    websocket: bool = True,
    allow_origins: Sequence[str] = (),
    agent: AgentPolicy | None = None,
    limits: Limits = DEFAULT_LIMITS,
    dialect: str = "genesys",
) -> LiveServer:
    """`client_timeout`: a Bayeux client with no connect for that long is forgotten (402).

    `allow_origins`: web pages from these origins (`*`: any) may connect;
    `agent`: when the agent speaks on its own (default: it only joins);
    `limits`: the bounds on what clients may make the server hold. `seed` drives
    the fault board only: secureKeys and clientIds come from `secrets`;
    `dialect`: the error format (and profile) of another seed the server speaks."""
    names = instance_names(instances)
    cluster = Cluster(
        names,
        MemoryStore(),
        session_ttl=session_ttl,
        hold=hold,
        max_interval=min(client_timeout, session_ttl),
        rng=random.Random(seed),
        agent=agent,
        secrets=SystemSecrets(),
        truth_events=True,
        dialect=dialect,
    )
    return LiveServer(
        cluster,
        seed=seed,
        token=token,
        websocket=websocket,
        allow_origins=allow_origins,
        limits=limits,
    )


@asynccontextmanager
async def live_server(
    instances: int = 1,
    *,
    host: str = LOOPBACK,
    port: int = 0,
    session_ttl: float = 60.0,
    client_timeout: float = 10.0,
    hold: float = 30.0,
    seed: int = 0,
    token: str | None = None,
    websocket: bool = True,
    allow_origins: Sequence[str] = (),
    agent: AgentPolicy | None = None,
    limits: Limits = DEFAULT_LIMITS,
    trace_dir: Path | None = None,
    dialect: str = "genesys",
) -> AsyncIterator[RunningServer]:
    """`trace_dir`: write each browser (recorder) session's trace there."""
    limits = limits.within_fd_limit()
    server = build_server(
        instances,
        session_ttl=session_ttl,
        client_timeout=client_timeout,
        hold=hold,
        seed=seed,
        token=token,
        websocket=websocket,
        allow_origins=allow_origins,
        agent=agent,
        limits=limits,
        dialect=dialect,
    )
    widget = WidgetHub(server, trace_dir)
    app = server.app()
    widget.install(app)
    if host in LOOPBACK_NAMES:
        app.middlewares.append(loopback_host_middleware())
    # keepalive_timeout closes a connection that has no complete request head
    # for that long: idle ones and slowloris ones alike.
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=1.0,
        keepalive_timeout=limits.idle_timeout,
    )
    await runner.setup()
    # The server's own limits: a dialect's message size may have raised the frame (limits.py).
    site = GuardedSite(runner, host, port, server.limits.max_connections)
    try:
        await site.start()
        bound = runner.addresses[0][1]
        yield RunningServer(
            host,
            bound,
            instance_names(instances),
            server,
            Faults(server),
            widget,
        )
    finally:
        await runner.cleanup()
