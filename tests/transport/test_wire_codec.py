"""The wire codec: a fast JSON library, and the stdlib for what it refuses."""

from __future__ import annotations

import json

import pytest

from statecharts.errors import ProtocolViolation
from transport.wire import decode, encode

STDLIB = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@pytest.mark.parametrize(
    "messages",
    [
        [{"channel": "/meta/connect", "id": "1", "ext": {"ack": -1}, "advice": {"timeout": 0}}],
        [{"channel": "/chat/x", "data": {"text": 'h\u00e9llo \\ " \n \u2028 \x1f', "index": 3}}],
        [{"channel": "/x", "data": 2**70}],  # beyond 64 bits: the stdlib's turn
        [{"channel": "/x", "data": "\ud800"}],  # a lone surrogate: the stdlib's turn
    ],
)
def test_encode_gives_the_stdlib_bytes_and_decode_reads_them_back(
    messages: list[dict[str, object]],
) -> None:
    assert encode(messages) == STDLIB(messages)
    assert decode(encode(messages)) == messages


def test_decode_accepts_what_the_stdlib_accepted_and_refuses_with_its_message() -> None:
    assert decode('[{"channel":"/x","data":NaN}]')[0]["channel"] == "/x"
    assert decode('{"channel":"/x"}') == [{"channel": "/x"}]
    with pytest.raises(ProtocolViolation, match="frame is not JSON: Expecting value"):
        decode('[{"channel": ')
    with pytest.raises(ProtocolViolation, match="non-empty list"):
        decode("[]")
