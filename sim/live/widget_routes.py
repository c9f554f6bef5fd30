"""The browser side of `chatsim serve`: recorder, demo widget, control page, traces.

Routes (all under `/chatsim/`, none subject to injected faults):

    GET  /chatsim/                 the control page (sessions, chats, faults; polls status)
    GET  /chatsim/demo             the demo widget (CometD 9, vendored)
    GET  /chatsim/recorder.js      the recorder a page includes (window.chatsim)
    POST /chatsim/record           a batch of recorded events (`sim.live.recorder`)
    GET  /chatsim/status           the control page's data (`sim.live.status`)
    GET  /chatsim/trace/{session}  one session's trace so far (JSON Lines)
    GET  /chatsim/assets/{file}, /chatsim/vendor/cometd/{file}   static files

`/chatsim/record` accepts any origin (the recorder of a widget served
elsewhere posts there without credentials); it only appends to bounded
traces. With `chatsim serve --token`, reading them (`status`, `trace`) needs
the bearer token, as the control API does. With a trace directory, every
changed session is rewritten as `DIR/<session>.jsonl` at most every
`FLUSH_EVERY` seconds and at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sim.live.recorder import BadEvent, parse_batch
from sim.live.status import build_status
from sim.live.tracebook import SessionRetired, TooManySessions, TraceBook
from sim.server.outputs import ServerEvent
from statecharts.errors import BadInput, UsageError

if TYPE_CHECKING:
    from sim.live.server import LiveServer

log = logging.getLogger("chatsim.live")

FLUSH_EVERY = 0.5
_FILE = re.compile(r"^[A-Za-z0-9_-]+\.(js|css|html|md)$")
_TYPES = {"js": "text/javascript", "css": "text/css", "html": "text/html", "md": "text/plain"}
_OPEN_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}
_NO_STORE = {"Cache-Control": "no-store"}


class WidgetHub:
    """Keeps the per-session traces and serves the pages; a listener of the live server."""

    def __init__(self, server: LiveServer, trace_dir: Path | None = None) -> None:
        self.server = server
        self.book = TraceBook()
        self.trace_dir = trace_dir
        if trace_dir is not None:
            try:
                trace_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(
                    f"--trace {trace_dir}: cannot create it ({exc.strerror})"
                ) from None
        self._assets = resources.files("sim") / "assets"
        self._flusher: asyncio.Task[None] | None = None
        self._write_failed = False
        server.listeners.append(self)

    # -- the live server's listener -----------------------------------------------------
    def server_events(self, events: list[ServerEvent]) -> None:
        for event in events:
            self.book.server_event(event)

    def fault_started(self, fault_id: int, fault: dict[str, Any], now: float) -> None:
        self.book.fault_started(fault_id, fault, now)

    def fault_ended(self, fault_id: int, now: float) -> None:
        self.book.fault_ended(fault_id, now)

    # -- traces on disk ---------------------------------------------------------------------
    def trace_path(self, session: str) -> Path | None:
        return None if self.trace_dir is None else self.trace_dir / f"{session}.jsonl"

    def flush(self) -> None:
        """Rewrite the files of the sessions that changed (whole, ordered by time)."""
        texts = {session: self.book.render(session) for session in self.book.take_dirty()}
        texts.update(self.book.take_final())
        for session, text in texts.items():
            path = self.trace_path(session)
            if path is not None:
                self._write(path, text)

    def _write(self, path: Path, text: str) -> None:
        partial = path.with_suffix(".jsonl.part")
        try:
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, path)
        except OSError as exc:
            if not self._write_failed:
                log.warning("cannot write %s: %s", path, exc.strerror)
            self._write_failed = True

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            self.flush()

    async def _start(self, _app: web.Application) -> None:
        self._flusher = asyncio.create_task(self._flush_loop())

    async def _stop(self, _app: web.Application) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        self.flush()

    # -- routes -------------------------------------------------------------------------------
    def install(self, app: web.Application) -> None:
        add = app.router.add_route
        add("GET", "/chatsim", self._to_control)
        add("GET", "/chatsim/", self._page("control.html"))
        add("GET", "/chatsim/demo", self._page("demo.html"))
        add("GET", "/chatsim/recorder.js", self._recorder)
        add("POST", "/chatsim/record", self._record)
        add("OPTIONS", "/chatsim/record", self._preflight)
        add("GET", "/chatsim/status", self._status)
        add("GET", "/chatsim/trace/{session}", self._trace)
        add("GET", "/chatsim/assets/{name}", self._static("widget"))
        add("GET", "/chatsim/vendor/cometd/{name}", self._static("vendor/cometd"))
        app.on_startup.append(self._start)
        app.on_cleanup.append(self._stop)

    def _read(self, folder: str, name: str) -> str | None:
        if not _FILE.match(name):
            return None
        path = self._assets.joinpath(folder, name)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def _page(self, name: str) -> Any:
        async def handle(_request: web.Request) -> web.Response:
            text = self._read("widget", name) or ""
            return web.Response(text=text, content_type="text/html", headers=_NO_STORE)

        return handle

    def _static(self, folder: str) -> Any:
        async def handle(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            text = self._read(folder, name)
            if text is None:
                return web.Response(status=404, text=f"no file {name}\n")
            kind = _TYPES[name.rsplit(".", 1)[1]]
            # Public files: a page on another origin may load them as modules (CORS mode).
            headers = {**_NO_STORE, "Access-Control-Allow-Origin": "*"}
            return web.Response(text=text, content_type=kind, headers=headers)

        return handle

    async def _to_control(self, _request: web.Request) -> web.Response:
        raise web.HTTPFound("/chatsim/")

    async def _recorder(self, _request: web.Request) -> web.Response:
        epoch_ms = (time.time() - self.server.now()) * 1000.0
        text = (self._read("widget", "recorder.js") or "").replace(
            "__CHATSIM_EPOCH_MS__", f"{epoch_ms:.1f}"
        )
        return web.Response(
            text=text,
            content_type="text/javascript",
            headers={**_NO_STORE, "Access-Control-Allow-Origin": "*"},
        )

    async def _preflight(self, _request: web.Request) -> web.Response:
        return web.Response(status=204, headers=_OPEN_CORS)

    async def _record(self, request: web.Request) -> web.Response:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _reply({"error": "batch too large: send fewer events at once"}, 413)
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _reply({"error": 'the body must be JSON {"session", "events"}'}, 400)
        now = self.server.now()
        try:
            batch = parse_batch(raw, now)
            added = self.book.record(batch, now)
        except BadEvent as exc:
            return _reply({"error": str(exc), "event": exc.index}, 400)
        except BadInput as exc:
            return _reply({"error": str(exc)}, 400)
        except TooManySessions as exc:
            return _reply({"error": str(exc)}, 429)
        except SessionRetired as exc:
            return _reply({"error": str(exc)}, 410)
        return _reply({"session": batch.session, "recorded": added})

    async def _status(self, request: web.Request) -> web.Response:
        if not self.server.authorised(request):
            return _token_required()
        now = self.server.now()
        status = build_status(
            self.book,
            now,
            list(self.server.cluster.instances),
            self.server.faults.listing(now),
            self.trace_dir,
        )
        return web.json_response(status, headers=_NO_STORE)

    async def _trace(self, request: web.Request) -> web.Response:
        if not self.server.authorised(request):
            return _token_required()
        session = request.match_info["session"]
        if session not in self.book.sessions:
            return web.Response(status=404, text=f"no recorder session {session[:64]}\n")
        return web.Response(
            text=self.book.render(session), content_type="application/x-ndjson", headers=_NO_STORE
        )


def _token_required() -> web.Response:
    return web.json_response({"error": "a bearer token is required"}, status=401)


def _reply(data: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers=_OPEN_CORS)
