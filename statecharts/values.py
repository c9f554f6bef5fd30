"""`quick_init`: a frozen dataclass built at the cost of a plain one, in pure Python.

A frozen dataclass's generated `__init__` stores each field through
`object.__setattr__` (about 0.1 µs a field), so a nine-field reply costs ~1 µs
to build; the client core builds several for every wire frame. `quick_init`
replaces only that `__init__` with one that stores the fields directly (in the
instance dict, or through the slots' own descriptors): same parameters,
defaults and annotations; equality, hashing, `repr`, the frozen guard and
`dataclasses.fields`/`replace` stay the dataclass's own.

The hot values also write their `__init__` out, so that the compiled build
(`chatsim compile`) builds them natively; `quick_init` leaves compiled classes
alone and, in pure Python, stands in for the written one (the structure tests
check that the two take and set the same fields). Classes it cannot speed up as
they are (an `init=False` or keyword-only field, `__post_init__`) are returned
unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")
_ABSENT = object()  # a field with a default factory was not given


def quick_init(cls: type[T]) -> type[T]:
    """Give the frozen dataclass `cls` a faster `__init__` (see the module docstring)."""
    if not dataclasses.is_dataclass(cls) or is_compiled(cls) or hasattr(cls, "__post_init__"):
        return cls
    fields = dataclasses.fields(cls)
    if any(not f.init or f.kw_only for f in fields):
        return cls
    slotted = "__slots__" in vars(cls)
    namespace: dict[str, Any] = {"_ABSENT": _ABSENT}
    params: list[str] = []
    stores: list[str] = [] if slotted else ["d = self.__dict__"]
    for f in fields:
        value = f.name
        if f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_ABSENT")
            value = f"_factory_{f.name}() if {f.name} is _ABSENT else {f.name}"
        elif f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        else:
            params.append(f.name)
        if slotted:
            namespace[f"_set_{f.name}"] = _slot(cls, f.name).__set__
            stores.append(f"_set_{f.name}(self, {value})")
        else:
            stores.append(f"d[{f.name!r}] = {value}")
    body = "".join(f"\n    {line}" for line in stores or ["pass"])
    source = f"def __init__({', '.join(['self', *params])}):{body}"
    exec(source, namespace)  # code built from the field names only
    init = namespace["__init__"]
    original = cls.__init__
    init.__annotations__ = dict(original.__annotations__)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = original.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def _slot(cls: type, name: str) -> Any:
    """The member descriptor of slot `name` (declared by `cls` or a base)."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    raise AttributeError(f"{cls.__qualname__} has no slot {name!r}")


def quick_init_all(*classes: type) -> None:
    """`quick_init` each of `classes`: a module calls it once, after its classes, so that
    a compiled build (which allows no decorator of its own) sees plain dataclasses."""
    for cls in classes:
        quick_init(cls)


def is_compiled(cls: type) -> bool:
    """Whether `cls` is a native class of the mypyc build (its slots are not a dict's)."""
    return "__mypyc_attrs__" in vars(cls)
