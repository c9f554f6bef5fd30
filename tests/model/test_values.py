"""`quick_init`: the fast __init__ keeps every dataclass behaviour but the speed."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass, field

import pytest

from statecharts.values import quick_init


@dataclass(frozen=True)
class Plain:
    a: int
    b: str | None = None
    c: int = field(default=3, metadata={"wire": "x"})


@quick_init
@dataclass(frozen=True)
class Quick:
    a: int
    b: str | None = None
    c: int = field(default=3, metadata={"wire": "x"})


def test_a_quick_value_is_built_compared_hashed_and_replaced_like_a_dataclass() -> None:
    value = Quick(1, c=5)
    assert value == Quick(1, None, 5) == Quick(a=1, b=None, c=5)
    assert hash(value) == hash(Quick(1, None, 5))
    assert repr(value) == "Quick(a=1, b=None, c=5)"
    assert dataclasses.replace(value, b="q") == Quick(1, "q", 5)
    assert [f.name for f in dataclasses.fields(value)] == ["a", "b", "c"]
    assert str(inspect.signature(Quick)) == str(inspect.signature(Plain))
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.a = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Quick()  # type: ignore[call-arg]


@quick_init
@dataclass(frozen=True, slots=True)
class Slotted:
    a: int
    items: list[int] = field(default_factory=list)
    b: str = "b"


def test_a_slotted_value_with_a_factory_is_built_like_a_dataclass() -> None:
    value = Slotted(1)
    assert value == Slotted(1, [], "b") and value.items is not Slotted(1).items
    assert Slotted(2, [3], b="c") == Slotted(a=2, items=[3], b="c")
    assert not hasattr(value, "__dict__")
    assert dataclasses.replace(value, b="q") == Slotted(1, [], "q")
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.a = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Slotted()  # type: ignore[call-arg]


def test_classes_it_cannot_speed_up_are_left_as_they_are() -> None:
    @dataclass(frozen=True)
    class Checked:
        n: int

        def __post_init__(self) -> None:
            assert self.n >= 0

    @dataclass(frozen=True)
    class Keywords:
        n: int = field(kw_only=True)

    classes: tuple[type, ...] = (Checked, Keywords)
    for cls in classes:
        init = vars(cls)["__init__"]
        assert vars(quick_init(cls))["__init__"] is init
