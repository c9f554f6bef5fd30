"""`quick_init`: a frozen dataclass built at the cost of a plain one.

A frozen dataclass's generated `__init__` stores each field through
`object.__setattr__` (about 0.1 µs a field), so a nine-field reply costs ~1 µs
to build; the client core builds several for every wire frame. `quick_init`
replaces only that `__init__` with one that fills the instance dict directly:
same parameters, defaults and annotations; equality, hashing, `repr`, the
frozen guard and `dataclasses.fields`/`replace` stay the dataclass's own.

Classes it cannot speed up as they are (`__slots__`, a default factory, an
`init=False` or keyword-only field, `__post_init__`) are returned unchanged, and
so are classes compiled by mypyc (`chatsim compile`): their `__init__` is native.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Give the frozen dataclass `cls` a faster `__init__` (see the module docstring)."""
    if not dataclasses.is_dataclass(cls) or "__slots__" in cls.__dict__:
        return cls
    if is_compiled(cls):
        return cls  # built natively already
    if hasattr(cls, "__post_init__"):
        return cls
    fields = dataclasses.fields(cls)
    defaults: dict[str, Any] = {}
    params: list[str] = []
    for f in fields:
        if not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING:
            return cls
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            defaults[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    stores = "".join(f"\n    d[{f.name!r}] = {f.name}" for f in fields)
    body = f"\n    d = self.__dict__{stores}" if fields else "\n    pass"
    source = f"def __init__({', '.join(['self', *params])}):{body}"
    namespace: dict[str, Any] = {}
    exec(source, defaults, namespace)  # code built from the field names only
    init = namespace["__init__"]
    original = cls.__init__
    init.__annotations__ = dict(original.__annotations__)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = original.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def quick_init_all(*classes: type) -> None:
    """`quick_init` each of `classes`: a module calls it once, after its classes, so that
    a compiled build (which allows no decorator of its own) sees plain dataclasses."""
    for cls in classes:
        quick_init(cls)


def is_compiled(cls: type) -> bool:
    """Whether `cls` is a native class of the mypyc build (its slots are not a dict's)."""
    return "__mypyc_attrs__" in vars(cls)
