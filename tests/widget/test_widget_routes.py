"""`chatsim serve`'s browser routes over a real socket: pages, recorder, status, traces."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sim.live.runner import live_server
from transport.aio.session import ChatSession

pytestmark = [pytest.mark.live, pytest.mark.asyncio]

GOOD = {
    "session": "page-0001",
    "events": [{"seq": 0, "t": 0.5, "kind": "chat", "chatId": "chat-1"}],
}


async def post(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    async with http.post(url, data=data, headers={"Content-Type": "text/plain"}) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        return response.status, await response.json()


async def test_pages_scripts_and_the_vendored_client_are_served() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        for path, marker, kind in [
            ("/chatsim/", "chatsim control", "text/html"),
            ("/chatsim", "chatsim control", "text/html"),  # redirected
            ("/chatsim/demo", "/chatsim/recorder.js", "text/html"),
            (
                "/chatsim/assets/demo.js",
                'from "/chatsim/vendor/cometd/cometd.js"',
                "text/javascript",
            ),
            ("/chatsim/vendor/cometd/Client.js", "export class CometD", "text/javascript"),
            ("/chatsim/vendor/cometd/VENDORED.md", "9.0.0", "text/plain"),
        ]:
            async with http.get(srv.base + path) as response:
                assert response.status == 200, path
                assert response.content_type == kind
                assert marker in await response.text()
        async with http.get(srv.base + "/chatsim/recorder.js") as response:
            script = await response.text()
        assert "__CHATSIM_EPOCH_MS__" not in script
        assert re.search(r"const EPOCH_MS = \d+\.\d;", script)
        for path in [
            "/chatsim/assets/nope.js",
            "/chatsim/assets/..%2Fpy.typed",
            "/chatsim/vendor/cometd/LICENSE",
            "/chatsim/trace/page-0001",
        ]:
            async with http.get(srv.base + path) as response:
                assert response.status == 404, path


async def test_the_recorder_endpoint_answers_bad_input_with_a_reason(tmp_path: Path) -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        url = srv.base + "/chatsim/record"
        assert await post(http, url, "not json") == (
            400,
            {"error": 'the body must be JSON {"session", "events"}'},
        )
        status, reply = await post(http, url, {**GOOD, "events": [{"seq": 0, "t": 1, "kind": "x"}]})
        assert status == 400 and reply["event"] == 0 and "kind: expected one of" in reply["error"]
        status, reply = await post(http, url, b"\xff\xfe")
        assert status == 400
        status, reply = await post(http, url, json.dumps(GOOD) + " " * 70_000)
        assert status == 413 and "too large" in reply["error"]
        async with http.options(url) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
        assert await post(http, url, GOOD) == (200, {"session": "page-0001", "recorded": 1})
        assert await post(http, url, GOOD) == (200, {"session": "page-0001", "recorded": 0})


async def test_a_session_trace_joins_the_page_to_its_chat_and_the_faults(tmp_path: Path) -> None:
    async with live_server(trace_dir=tmp_path / "traces") as srv, aiohttp.ClientSession() as http:
        async with await ChatSession.connect(srv.url) as chat:
            await chat.ready()
            await chat.send_message("hello")
        chat_id = "chat-1"  # the first chat of a fresh server
        fault = srv.faults.add(kind="latency", ms=1, duration=0.05)
        await asyncio.sleep(0.1)
        batch = {
            "session": "page-0002",
            "settings": {"interrupt_after": 5},
            "events": [{"seq": 0, "t": 0.01, "kind": "chat", "chatId": chat_id}],
        }
        assert (await post(http, srv.base + "/chatsim/record", batch))[0] == 200
        assert srv.widget is not None
        srv.widget.flush()
        async with http.get(srv.base + "/chatsim/status") as response:
            status = await response.json()
        async with http.get(srv.base + "/chatsim/trace/page-0002") as response:
            served = await response.text()
    text = (tmp_path / "traces" / "page-0002.jsonl").read_text()
    assert text == served
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["interrupt_after"] == 5.0 and lines[0]["scenario"] == "live:page-0002"
    kinds = [(line["src"].split(":")[0], line["kind"]) for line in lines[1:]]
    assert ("server", "session.start") in kinds and ("server", "acked") in kinds
    assert ("client", "chat") in kinds
    assert kinds.count(("fault", "fault.start")) == kinds.count(("fault", "fault.end")) == 1
    (session,) = status["sessions"]
    assert session["chatId"] == chat_id and session["file"].endswith("page-0002.jsonl")
    assert [f["id"] for f in status["faults"]] == [fault]


async def test_serve_with_an_unusable_trace_dir_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from sim.cli import main; sys.exit(main())",
        "serve",
        "--port",
        "0",
        "--trace",
        str(blocker / "traces"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().count("\n") == 1 and "--trace" in err.decode()


async def test_with_a_token_reading_sessions_needs_it() -> None:
    async with live_server(token="s3cret") as srv, aiohttp.ClientSession() as http:
        assert (await post(http, srv.base + "/chatsim/record", GOOD))[0] == 200  # pages record
        for path in ["/chatsim/status", "/chatsim/trace/page-0001"]:
            async with http.get(srv.base + path) as response:
                assert response.status == 401
            bearer = {"Authorization": "Bearer s3cret"}
            async with http.get(srv.base + path, headers=bearer) as response:
                assert response.status == 200
