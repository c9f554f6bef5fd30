"""A catalog of malformed client input for `chatsim serve`: what a hostile or broken client sends.

Each kind builds one frame (text, or raw bytes for bodies that are not
UTF-8) from a context holding a clientId the prober got from a real
handshake, so the frame reaches the checks behind the unknown-client one.
Every kind must be answered with a Bayeux error, an HTTP 4xx or a WebSocket
close code with a reason (`sim.live.hostile` drives and judges them).
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

WEBSOCKET, LONG_POLLING = "websocket", "long-polling"
RAW_WEBSOCKET = "raw websocket"  # frames a WebSocket library would never send
BOTH = frozenset({WEBSOCKET, LONG_POLLING})
RAW_HTTP = "raw http"  # requests an HTTP library would never send
RAW = frozenset({RAW_WEBSOCKET})
HTTP = frozenset({RAW_HTTP})
JSON_TYPE = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class Context:
    client_id: str
    max_frame: int


@dataclass(frozen=True)
class Kind:
    name: str
    make: Callable[[Context], str | bytes]
    transports: frozenset[str] = BOTH
    content_type: str = JSON_TYPE


def ws_frame(
    payload: bytes,
    opcode: int = 0x1,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
) -> bytes:
    """One client frame as RFC 6455 §5.2 lays it out, rules broken on request."""
    first = (0x80 if fin else 0) | rsv | opcode
    size, key = len(payload), os.urandom(4) if mask else b""
    bit = 0x80 if mask else 0
    if size < 126:
        head = bytes([first, bit | size])
    elif size < 1 << 16:
        head = bytes([first, bit | 126]) + struct.pack("!H", size)
    else:
        head = bytes([first, bit | 127]) + struct.pack("!Q", size)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if mask else payload
    return head + key + body


def _request(head: str, body: bytes = b"", path: str = "/cometd") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: localhost\r\n{head}\r\n".encode() + body


def _jsonp(callback: str, message: str) -> bytes:
    query = urlencode({"jsonp": callback, "message": message})
    return f"GET /cometd?{query} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()


def _fault_post(body: bytes, content_type: str = "application/json") -> bytes:
    head = f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return _request(head, body, "/faults")


def _msgs(*messages: dict[str, object]) -> str:
    return json.dumps(list(messages))


def _connect(cid: str, **extra: object) -> dict[str, object]:
    return {"channel": "/meta/connect", "clientId": cid, "connectionType": "long-polling", **extra}


def _chat(cid: str, data: object) -> str:
    return _msgs({"channel": "/service/chat", "clientId": cid, "id": "h1", "data": data})


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


_SEND = {"operation": "sendMessage", "chatId": "chat-1", "secureKey": "0" * 32}

KINDS: tuple[Kind, ...] = (
    Kind("not-json", lambda c: "hello, server"),
    Kind("truncated-json", lambda c: '[{"channel":"/meta/connect","clientId":'),
    Kind("empty-frame", lambda c: ""),
    Kind("json-scalar", lambda c: "42"),
    Kind("json-null", lambda c: "null"),
    Kind("empty-list", lambda c: "[]"),
    Kind("list-of-numbers", lambda c: "[1, 2, 3]"),
    Kind("message-without-channel", lambda c: "[{}]"),
    Kind("channel-not-string", lambda c: '[{"channel": 5}]'),
    Kind("channel-without-slash", lambda c: _msgs({"channel": "meta/connect"})),
    Kind("channel-too-long", lambda c: _msgs({"channel": "/" + "a" * 5000, "data": 1})),
    Kind("clientId-list", lambda c: _msgs({"channel": "/meta/connect", "clientId": [c.client_id]})),
    Kind("clientId-object", lambda c: _msgs({"channel": "/meta/connect", "clientId": {"a": 1}})),
    Kind("clientId-number", lambda c: _msgs({"channel": "/meta/connect", "clientId": 7})),
    Kind("clientId-huge", lambda c: _msgs(_connect("x" * (c.max_frame // 2)))),
    Kind("deep-json-3000", lambda c: _deep(3000)),
    Kind("deep-data-3000", lambda c: _chat(c.client_id, "@").replace('"@"', _deep(3000))),
    Kind("deep-json-40", lambda c: _chat(c.client_id, "@").replace('"@"', _deep(40))),
    Kind(
        "advice-timeout-10e400",
        lambda c: _msgs(_connect(c.client_id)).replace(
            '"long-polling"', '"long-polling","advice":{"timeout":1' + "0" * 400 + "}"
        ),
    ),
    Kind(
        "advice-timeout-1e400",
        lambda c: _msgs(_connect(c.client_id)).replace(
            '"long-polling"', '"long-polling","advice":{"timeout":1e400}'
        ),
    ),
    Kind(
        "nan-literal",
        lambda c: _msgs(_connect(c.client_id)).replace(
            '"long-polling"', '"long-polling","advice":{"timeout":NaN}'
        ),
    ),
    Kind(
        "infinity-literal",
        lambda c: _msgs(_connect(c.client_id)).replace(
            '"long-polling"', '"long-polling","advice":{"interval":-Infinity}'
        ),
    ),
    Kind("5000-digit-integer", lambda c: '[{"channel":"/meta/connect","id":' + "9" * 5000 + "}]"),
    Kind("ack-10e30", lambda c: _msgs(_connect(c.client_id, ext={"ack": 10**30}))),
    Kind("id-object", lambda c: _msgs(_connect(c.client_id, id={"x": 1}))),
    Kind(
        "id-lone-surrogate",
        lambda c: _msgs(_connect(c.client_id)).replace('"clientId"', '"id":"\\ud800","clientId"'),
    ),
    Kind("advice-string", lambda c: _msgs(_connect(c.client_id, advice="now"))),
    Kind("ext-list", lambda c: _msgs(_connect(c.client_id, ext=[1]))),
    Kind(
        "connect-without-type",
        lambda c: _msgs({"channel": "/meta/connect", "clientId": c.client_id, "id": "1"}),
    ),
    Kind(
        "handshake-types-not-list",
        lambda c: _msgs(
            {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": "all"}
        ),
    ),
    Kind(
        "handshake-no-version",
        lambda c: _msgs({"channel": "/meta/handshake", "supportedConnectionTypes": ["websocket"]}),
    ),
    Kind(
        "handshake-unknown-types",
        lambda c: _msgs(
            {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["smoke"]}
        ),
    ),
    Kind(
        "subscribe-nested-list",
        lambda c: _msgs(
            {"channel": "/meta/subscribe", "clientId": c.client_id, "subscription": [["/a"]]}
        ),
    ),
    Kind(
        "subscribe-meta",
        lambda c: _msgs(
            {"channel": "/meta/subscribe", "clientId": c.client_id, "subscription": "/meta/**"}
        ),
    ),
    Kind(
        "subscribe-foreign-chat",
        lambda c: _msgs(
            {"channel": "/meta/subscribe", "clientId": c.client_id, "subscription": "/chat/chat-1"}
        ),
    ),
    Kind(
        "unknown-meta-channel", lambda c: _msgs({"channel": "/meta/smoke", "clientId": c.client_id})
    ),
    Kind(
        "publish-wildcard", lambda c: _msgs({"channel": "/a/*", "clientId": c.client_id, "data": 1})
    ),
    Kind(
        "publish-foreign-chat",
        lambda c: _msgs(
            {"channel": "/chat/chat-1", "clientId": c.client_id, "data": {"text": "hi"}}
        ),
    ),
    Kind("unknown-client", lambda c: _msgs(_connect("nobody-" + "0" * 20))),
    Kind("chat-data-list", lambda c: _chat(c.client_id, [1, 2])),
    Kind("chat-unknown-operation", lambda c: _chat(c.client_id, {"operation": "rm -rf"})),
    Kind("chat-operation-number", lambda c: _chat(c.client_id, {"operation": 3})),
    Kind(
        "chat-wrong-secure-key",
        lambda c: _chat(c.client_id, {**_SEND, "text": "hi", "clientMessageId": "m1"}),
    ),
    Kind(
        "chat-text-object",
        lambda c: _chat(c.client_id, {**_SEND, "text": {"a": 1}, "clientMessageId": "m1"}),
    ),
    Kind(
        "chat-position-negative",
        lambda c: _chat(
            c.client_id,
            {
                "operation": "requestNotifications",
                "chatId": "chat-1",
                "secureKey": "0",
                "transcriptPosition": -1,
            },
        ),
    ),
    Kind(
        "chat-position-float",
        lambda c: _chat(
            c.client_id,
            {
                "operation": "requestNotifications",
                "chatId": "chat-1",
                "secureKey": "0",
                "transcriptPosition": 1.5,
            },
        ),
    ),
    Kind(
        "chat-nickname-number",
        lambda c: _chat(c.client_id, {"operation": "requestChat", "nickname": 5}),
    ),
    Kind(
        "batch-send-then-bad-connect",
        lambda c: _msgs(
            {
                "channel": "/service/chat",
                "clientId": c.client_id,
                "data": {**_SEND, "text": "half", "clientMessageId": "m2"},
            },
            {"channel": "/meta/connect", "clientId": [c.client_id]},
        ),
    ),
    Kind("many-messages", lambda c: json.dumps([{"channel": "/meta/smoke"}] * 2000)),
    Kind("frame-over-limit", lambda c: _msgs(_connect(c.client_id, pad="x" * c.max_frame))),
    Kind("binary-frame", lambda c: b"\x00\x01\x02", frozenset({WEBSOCKET})),
    Kind("ws-invalid-utf8", lambda c: ws_frame(b"[\xff\xfe]"), RAW),
    Kind("ws-reserved-bits", lambda c: ws_frame(b"[]", rsv=0x40), RAW),
    Kind("ws-unknown-opcode", lambda c: ws_frame(b"x", opcode=0x3), RAW),
    Kind("ws-long-ping", lambda c: ws_frame(b"x" * 200, opcode=0x9), RAW),
    Kind("ws-fragmented-ping", lambda c: ws_frame(b"x", opcode=0x9, fin=False), RAW),
    Kind("ws-continuation-first", lambda c: ws_frame(b"x", opcode=0x0), RAW),
    Kind("ws-unmasked", lambda c: ws_frame(b"[1]", mask=False), RAW),
    Kind("ws-close-code-999", lambda c: ws_frame(struct.pack("!H", 999), opcode=0x8), RAW),
    Kind("ws-close-one-byte", lambda c: ws_frame(b"x", opcode=0x8), RAW),
    Kind("ws-length-2-to-62", lambda c: bytes([0x81, 0xFF]) + struct.pack("!Q", 2**62), RAW),
    Kind("http-garbage", lambda c: b"\x00\x01garbage\r\n\r\n", HTTP),
    Kind("http-version-9", lambda c: b"POST /cometd HTTP/9.9\r\nHost: localhost\r\n\r\n", HTTP),
    Kind("http-header-20k", lambda c: _request("X: " + "a" * 20_000 + "\r\n"), HTTP),
    Kind(
        "http-500-headers", lambda c: _request("".join(f"X-{n}: 1\r\n" for n in range(500))), HTTP
    ),
    Kind("http-bad-chunk", lambda c: _request("Transfer-Encoding: chunked\r\n", b"zz\r\n"), HTTP),
    Kind(
        "http-length-and-chunked",
        lambda c: _request("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
        HTTP,
    ),
    Kind("http-negative-length", lambda c: _request("Content-Length: -5\r\n"), HTTP),
    Kind("http-length-10e22", lambda c: _request("Content-Length: 1" + "0" * 22 + "\r\n"), HTTP),
    Kind(
        "http-websocket-bad-key",
        lambda c: (
            b"GET /cometd HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ),
        HTTP,
    ),
    Kind(
        "http-foreign-host",
        lambda c: b"POST /cometd HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 2\r\n\r\n[]",
        HTTP,
    ),
    Kind("jsonp-bad-callback", lambda c: _jsonp("alert(1)//", "[]"), HTTP),
    Kind("jsonp-deep", lambda c: _jsonp("cb", _deep(2000)), HTTP),
    Kind("jsonp-not-json", lambda c: _jsonp("cb", "hello"), HTTP),
    Kind(
        "jsonp-5000-digits",
        lambda c: _jsonp("cb", '[{"channel":"/a","id":' + "9" * 5000 + "}]"),
        HTTP,
    ),
    Kind(
        "agent-deep-json",
        lambda c: _request(
            "Content-Type: application/json\r\nContent-Length: 6000\r\n",
            _deep(3000).encode(),
            "/agent/chat-1/say",
        ),
        HTTP,
    ),
    Kind("faults-deep-json", lambda c: _fault_post(_deep(3000).encode()), HTTP),
    Kind("faults-not-json", lambda c: _fault_post(b"{kind: outage"), HTTP),
    Kind(
        "faults-unknown-charset",
        lambda c: _fault_post(b'{"kind": "expire"}', "application/json; charset=klingon"),
        HTTP,
    ),
    Kind("faults-not-utf8", lambda c: _fault_post(b'{"kind": "\xff"}'), HTTP),
    Kind("faults-nan", lambda c: _fault_post(b'{"kind": "latency", "ms": NaN}'), HTTP),
    Kind(
        "faults-id-5000-digits",
        lambda c: b"GET /faults/" + b"9" * 5000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
        HTTP,
    ),
    Kind(
        "body-not-utf8",
        lambda c: b'[{"channel":"/meta/connect","id":"\xff\xfe"}]',
        frozenset({LONG_POLLING}),
    ),
    Kind(
        "body-unknown-charset",
        lambda c: _msgs(_connect(c.client_id)),
        frozenset({LONG_POLLING}),
        "application/json; charset=klingon",
    ),
    Kind(
        "body-codec-not-text",
        lambda c: _msgs(_connect(c.client_id)),
        frozenset({LONG_POLLING}),
        "application/json; charset=base64",
    ),
    Kind(
        "body-utf16",
        lambda c: _msgs(_connect(c.client_id)).encode("utf-16"),
        frozenset({LONG_POLLING}),
        "application/json; charset=utf-16",
    ),
)
