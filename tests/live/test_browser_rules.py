"""The live server's rules for web pages, over plain HTTP: origins, CSRF, JSONP, cookies, agent."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from sim.live.browsers import (
    COOKIE,
    MULTI_INTERVAL_MS,
    advise_multiple_clients,
    ask_no_hold,
    connects_in,
)
from sim.live.origins import normalise_origin
from sim.live.runner import live_server
from sim.server import AgentPolicy

FOREIGN = "http://widget.example:3000"
JSON = {"Content-Type": "application/json"}


def handshake(types: tuple[str, ...] = ("long-polling",)) -> list[dict[str, Any]]:
    return [
        {
            "channel": "/meta/handshake",
            "version": "1.0",
            "id": "1",
            "supportedConnectionTypes": list(types),
        }
    ]


def connect(client_id: str, msg_id: str = "2") -> list[dict[str, Any]]:
    return [
        {
            "channel": "/meta/connect",
            "clientId": client_id,
            "id": msg_id,
            "connectionType": "long-polling",
        }
    ]


def chat(client_id: str, data: dict[str, Any], msg_id: str = "3") -> list[dict[str, Any]]:
    return [{"channel": "/service/chat", "clientId": client_id, "id": msg_id, "data": data}]


async def post(
    http: aiohttp.ClientSession, url: str, frame: Any, headers: dict[str, str] | None = None
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with http.post(url, data=json.dumps(frame), headers={**JSON, **(headers or {})}) as r:
        text = await r.text()
        try:
            return r.status, json.loads(text), r
        except ValueError:
            return r.status, text, r


def jar() -> aiohttp.CookieJar:
    return aiohttp.CookieJar(unsafe=True)  # keep cookies from 127.0.0.1, as a browser does


# -- origins ------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_a_foreign_page_is_refused_clearly_without_allow_origin() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        status, body, _ = await post(http, srv.url, handshake(), {"Origin": FOREIGN})
        assert status == 403 and "--allow-origin http://widget.example:3000" in body["error"]
        async with http.options(
            srv.url,
            headers={
                "Origin": FOREIGN,
                "Access-Control-Request-Method": "POST",
            },
        ) as preflight:
            assert preflight.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(srv.url, origin=FOREIGN)
        assert refused.value.status == 403


@pytest.mark.asyncio
async def test_same_origin_and_non_browser_clients_keep_working() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        for headers in ({}, {"Origin": srv.base}):
            status, body, _ = await post(http, srv.url, handshake(), headers)
            assert status == 200 and body[0]["successful"]
        async with http.ws_connect(srv.url, origin=srv.base) as ws:
            await ws.send_str(json.dumps(handshake(("websocket",))))
            assert json.loads(await ws.receive_str(timeout=2))[0]["successful"]


@pytest.mark.asyncio
@pytest.mark.parametrize("allowed", [FOREIGN, "*"])
async def test_an_allowed_origin_gets_cors_with_credentials_never_a_star(allowed: str) -> None:
    async with live_server(allow_origins=[allowed]) as srv, aiohttp.ClientSession() as http:
        async with http.options(
            srv.url,
            headers={
                "Origin": FOREIGN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        ) as preflight:
            assert preflight.status == 204
            assert preflight.headers["Access-Control-Allow-Origin"] == FOREIGN
            assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
            assert "content-type" in preflight.headers["Access-Control-Allow-Headers"]
        status, body, response = await post(http, srv.url, handshake(), {"Origin": FOREIGN})
        assert status == 200 and body[0]["successful"]
        assert response.headers["Access-Control-Allow-Origin"] == FOREIGN
        assert response.headers["Access-Control-Allow-Credentials"] == "true"
        async with http.ws_connect(srv.url, origin=FOREIGN) as ws:
            await ws.send_str(json.dumps(handshake(("websocket",))))
            assert json.loads(await ws.receive_str(timeout=2))[0]["successful"]


# -- the control API (CSRF) ------------------------------------------------------------
@pytest.mark.asyncio
async def test_the_fault_api_takes_only_json() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        async with http.post(
            srv.faults_url, data='{"kind": "outage"}', headers={"Content-Type": "text/plain"}
        ) as response:
            assert response.status == 415
            assert "application/json" in (await response.json())["error"]
        assert srv.faults.list() == []


@pytest.mark.asyncio
async def test_a_foreign_page_needs_the_token_for_the_fault_api() -> None:
    fault = {"kind": "latency", "ms": 1}
    async with (
        live_server(allow_origins=[FOREIGN], token="s3cret") as srv,
        aiohttp.ClientSession() as http,
    ):
        by_referer = {"Sec-Fetch-Site": "cross-site", "Referer": FOREIGN + "/page.html"}
        for headers in ({"Origin": FOREIGN}, by_referer):
            status, body, _ = await post(http, srv.faults_url, fault, headers)
            assert status == 403 and "token" in body["error"]
        async with http.options(
            srv.faults_url,
            headers={
                "Origin": FOREIGN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        ) as preflight:
            assert preflight.status == 204
            assert "authorization" in preflight.headers["Access-Control-Allow-Headers"]
        status, body, response = await post(
            http,
            srv.faults_url,
            fault,
            {
                "Origin": FOREIGN,
                "Authorization": "Bearer s3cret",
            },
        )
        assert status == 201 and body["fault"]["kind"] == "latency"
        assert response.headers["Access-Control-Allow-Origin"] == FOREIGN
    async with live_server() as srv, aiohttp.ClientSession() as http:
        status, body, _ = await post(http, srv.faults_url, fault, {"Origin": FOREIGN})
        assert status == 403  # not even allowed to connect
        assert srv.faults.list() == []


# -- callback-polling ---------------------------------------------------------------------
@pytest.mark.asyncio
async def test_callback_polling_is_served_as_a_script() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        query = {"jsonp": "_cometd_jsonp_0", "message": json.dumps(handshake())}
        async with http.get(srv.url, params=query) as response:
            assert response.status == 200
            assert response.content_type == "text/javascript"
            script = await response.text()
        assert script.startswith("_cometd_jsonp_0([") and script.endswith("]);")
        reply = json.loads(script[len("_cometd_jsonp_0(") : -2])
        assert reply[0]["successful"] and "callback-polling" in reply[0]["supportedConnectionTypes"]
        async with http.get(srv.url, params={**query, "jsonp": "alert(1)//"}) as response:
            assert response.status == 400


# -- browser cookie, multiple-clients, clientId owners --------------------------------------
@pytest.mark.asyncio
async def test_a_second_long_poll_from_one_browser_is_advised_multiple_clients() -> None:
    async with live_server(hold=5.0) as srv, aiohttp.ClientSession(cookie_jar=jar()) as http:
        _, first, response = await post(http, srv.url, handshake())
        assert COOKIE in response.cookies
        _, second, _ = await post(http, srv.url, handshake())
        held = asyncio.create_task(post(http, srv.url, connect(first[0]["clientId"])))
        await asyncio.sleep(0.3)
        status, reply, _ = await asyncio.wait_for(
            post(http, srv.url, connect(second[0]["clientId"])),
            2.0,
        )
        assert status == 200
        (answer,) = [m for m in reply if m["channel"] == "/meta/connect"]
        assert answer["successful"]
        assert answer["advice"]["multiple-clients"] is True
        assert answer["advice"]["interval"] == MULTI_INTERVAL_MS
        assert not held.done()  # the first tab still holds its connect
        held.cancel()


@pytest.mark.asyncio
async def test_another_browser_cannot_use_a_client_id() -> None:
    async with (
        live_server() as srv,
        aiohttp.ClientSession(cookie_jar=jar()) as mine,
        aiohttp.ClientSession(cookie_jar=jar()) as theirs,
    ):
        await post(mine, srv.url, handshake())  # get the cookie first
        _, hello, _ = await post(mine, srv.url, handshake())
        client_id = hello[0]["clientId"]
        assert len(client_id) > 20  # unguessable, not a counter
        await post(theirs, srv.url, handshake())
        _, stolen, _ = await post(
            theirs, srv.url, chat(client_id, {"operation": "requestChat", "nickname": "x"})
        )
        assert stolen == [
            {
                "channel": "/service/chat",
                "successful": False,
                "id": "3",
                "error": "402::Unknown client",
                "advice": {"reconnect": "handshake", "interval": 0},
            }
        ]
        _, own, _ = await post(
            mine, srv.url, chat(client_id, {"operation": "requestChat", "nickname": "x"})
        )
        assert [m.get("data", {}).get("operation") for m in own] == ["requestChat", None]


@pytest.mark.asyncio
async def test_another_websocket_cannot_use_a_client_id_while_its_own_is_open() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        async with http.ws_connect(srv.url) as first, http.ws_connect(srv.url) as second:
            await first.send_str(json.dumps(handshake(("websocket",))))
            client_id = json.loads(await first.receive_str(timeout=2))[0]["clientId"]
            await second.send_str(json.dumps(connect(client_id)))
            (refused,) = json.loads(await second.receive_str(timeout=2))
            assert refused["error"] == "402::Unknown client"
        async with http.ws_connect(srv.url) as third:  # the owner closed: a reconnect
            await third.send_str(
                json.dumps(chat(client_id, {"operation": "requestChat", "nickname": "x"}))
            )
            replies = json.loads(await third.receive_str(timeout=2))
            assert replies[0]["data"]["operation"] == "requestChat"


# -- the agent ------------------------------------------------------------------------------
async def start_chat(http: aiohttp.ClientSession, url: str) -> tuple[str, dict[str, Any]]:
    _, hello, _ = await post(http, url, handshake())
    client_id = hello[0]["clientId"]
    _, started, _ = await post(
        http, url, chat(client_id, {"operation": "requestChat", "nickname": "me"})
    )
    return client_id, started[0]["data"]["result"]


async def agent_said(http: aiohttp.ClientSession, url: str, client_id: str) -> list[str]:
    _, frame, _ = await post(http, url, connect(client_id))
    events = [m["data"] for m in frame if m["channel"].startswith("/chat/")]
    return [e["text"] for e in events if e.get("party") == "agent" and e["type"] == "Message"]


@pytest.mark.asyncio
async def test_the_agent_speaks_on_demand_and_on_its_own() -> None:
    async with (
        live_server(agent=AgentPolicy(say_every=0.2), hold=0.5) as srv,
        aiohttp.ClientSession() as http,
    ):
        client_id, result = await start_chat(http, srv.url)
        say = f"{srv.base}/agent/{result['chatId']}/say"
        async with http.post(say, json={"text": "hello"}) as response:
            assert response.status == 200 and (await response.json())["index"] >= 1
        async with http.post(f"{srv.base}/agent/nochat/say", json={"text": "x"}) as response:
            assert response.status == 404
        async with http.post(say, data="text=x") as response:
            assert response.status == 415
        await asyncio.sleep(0.5)
        said = await agent_said(http, srv.url, client_id)
        assert said[0] == "hello" and "agent message 1" in said


@pytest.mark.asyncio
async def test_the_agent_answers_each_message_after_a_delay() -> None:
    # a delay well above a loaded machine's hiccups: the first look must come before it
    async with (
        live_server(agent=AgentPolicy(reply_after=1.5), hold=0.5) as srv,
        aiohttp.ClientSession() as http,
    ):
        client_id, result = await start_chat(http, srv.url)
        await post(
            http,
            srv.url,
            chat(
                client_id,
                {
                    "operation": "sendMessage",
                    "chatId": result["chatId"],
                    "secureKey": result["secureKey"],
                    "text": "ping",
                    "clientMessageId": "m1",
                },
            ),
        )
        assert await agent_said(http, srv.url, client_id) == []
        await asyncio.sleep(1.6)
        assert await agent_said(http, srv.url, client_id) == ["re: ping"]


def test_the_origin_flag_is_checked() -> None:
    assert normalise_origin("HTTP://Example.com:8080/") == "http://example.com:8080"
    with pytest.raises(ValueError, match="scheme://host"):
        normalise_origin("example.com")


def test_multiple_clients_advice_leaves_broken_frames_and_other_advice_alone() -> None:
    assert advise_multiple_clients("not json") == "not json"
    assert advise_multiple_clients('{"a": 1}') == '{"a": 1}'
    refused = [
        {"channel": "/meta/connect", "successful": False, "advice": {"reconnect": "handshake"}}
    ]
    assert json.loads(advise_multiple_clients(json.dumps(refused))) == refused
    ok = [{"channel": "/meta/connect", "successful": True, "advice": {"reconnect": "retry"}}]
    assert json.loads(advise_multiple_clients(json.dumps(ok)))[0]["advice"] == {
        "reconnect": "retry",
        "multiple-clients": True,
        "interval": MULTI_INTERVAL_MS,
    }


def test_only_connects_are_asked_not_to_hold() -> None:
    frame: list[dict[str, Any]] = [
        {"channel": "/meta/connect", "advice": {"timeout": 30000}},
        {"channel": "/x"},
    ]
    assert ask_no_hold(frame) == [
        {"channel": "/meta/connect", "advice": {"timeout": 0}},
        {"channel": "/x"},
    ]
    assert connects_in(json.dumps(frame)) and not connects_in("[/meta/connect")


@pytest.mark.asyncio
async def test_routes_under_chatsim_keep_their_own_cross_origin_rules() -> None:
    async with live_server() as srv, aiohttp.ClientSession() as http:
        async with http.get(f"{srv.base}/chatsim/none", headers={"Origin": FOREIGN}) as r:
            assert r.status == 404  # reached the router: not refused as a foreign page
        async with http.get(f"{srv.base}/chatsimulated", headers={"Origin": FOREIGN}) as r:
            assert r.status == 403


@pytest.mark.asyncio
async def test_cookieless_tabs_of_a_cross_site_page_are_recognised_by_origin() -> None:
    async with (
        live_server(hold=5.0, allow_origins=[FOREIGN]) as srv,
        aiohttp.ClientSession() as http,
    ):  # no cookie jar: as a cross-site page
        page = {"Origin": FOREIGN, "User-Agent": "tab"}
        ids = [(await post(http, srv.url, handshake(), page))[1][0]["clientId"] for _ in "ab"]
        held = asyncio.create_task(post(http, srv.url, connect(ids[0]), page))
        await asyncio.sleep(0.3)
        _, reply, _ = await asyncio.wait_for(post(http, srv.url, connect(ids[1]), page), 2.0)
        assert reply[-1]["advice"]["multiple-clients"] is True
        other = {"User-Agent": "python"}  # no Origin: not a browser, never advised
        _, reply, _ = await asyncio.wait_for(
            post(http, srv.url, [{**connect(ids[1])[0], "advice": {"timeout": 0}}], other),
            2.0,
        )
        assert "multiple-clients" not in reply[-1]["advice"]
        held.cancel()
