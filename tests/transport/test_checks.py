"""Advice is parsed once per shape: the cache never changes what a shape means."""

from __future__ import annotations

from transport.checks import AdviceUpdate, Invalid, parse_advice
from transport.wire import Reconnect


def test_cached_advice_keeps_each_shape_apart() -> None:
    ok = {"reconnect": "retry", "interval": 1, "timeout": 30000}
    for _ in range(2):  # the second round reads the cache
        assert parse_advice(ok) == AdviceUpdate(Reconnect.RETRY, 0.001, 30.0)
        assert isinstance(parse_advice({**ok, "interval": True}), Invalid)
        assert isinstance(parse_advice({**ok, "timeout": 86_400_001}), Invalid)
        assert isinstance(parse_advice({**ok, "reconnect": "later"}), Invalid)
        assert parse_advice({**ok, "interval": 1.0}) == AdviceUpdate(Reconnect.RETRY, 0.001, 30.0)
        assert parse_advice({}) == AdviceUpdate()
        assert isinstance(parse_advice({"interval": [1]}), Invalid)


def test_the_cache_is_bounded() -> None:
    for interval in range(500):
        assert parse_advice({"interval": interval}) == AdviceUpdate(interval=interval / 1000)
    from transport import checks

    assert len(checks._ADVICE_CACHE) <= checks._ADVICE_CACHE_MAX
