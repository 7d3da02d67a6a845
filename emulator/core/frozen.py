"""``make`` and ``evolve``: construction and ``dataclasses.replace`` for the plain frozen records of
planning, faster where a record has many fields.

Planning makes a coupon record and changes it once or twice an event; a frozen dataclass's generated
``__init__`` stores each field with its own ``object.__setattr__`` call, which costs more than
building the body. A record whose ``__init__`` only stores its fields gets its ``__dict__`` filled in
one step instead; the record equals (``==``, ``hash``, ``repr``, ``__dict__``) what the class makes.
That pays off for a record with many fields (a coupon with a dozen defaults: about twice as fast);
one whose few fields are all given is as quick to make with its class.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")

# Per class: whether a copy of the instance's __dict__ is what its __init__ would make.
_PLAIN: dict[type, bool] = {}
# Per class: every field's default in field order (MISSING where there is no plain default) and
# the names without one; None for a class ``make`` leaves to its own __init__.
_TEMPLATES: dict[type, tuple[dict[str, Any], frozenset[str]] | None] = {}
_UNSEEN = object()


def _plain(cls: type) -> bool:
    """A dataclass with a ``__dict__`` and its generated ``__init__``, which sets every field (no
    ``InitVar``, ``ClassVar``, ``init=False`` field) and calls no ``__post_init__``."""
    if not dataclasses.is_dataclass(cls):
        return False
    fields = dataclasses.fields(cls)
    return (
        cls.__dataclass_params__.init  # type: ignore[attr-defined]
        and cls.__new__ is object.__new__
        # a frozen record's __init__ stores with object.__setattr__; another's with its own
        and (cls.__dataclass_params__.frozen or cls.__setattr__ is object.__setattr__)  # type: ignore[attr-defined]
        and not hasattr(cls, "__slots__")
        and not hasattr(cls, "__post_init__")
        and len(fields) == len(cls.__dataclass_fields__)  # type: ignore[attr-defined]
        and all(f.init for f in fields)
    )


def evolve(obj: T, /, **changes: Any) -> T:
    """``dataclasses.replace(obj, **changes)``: an equal new record, whatever ``obj``'s class."""
    cls = type(obj)
    plain = _PLAIN.get(cls)
    if plain is None:
        plain = _PLAIN[cls] = _plain(cls)
    state = obj.__dict__
    if not plain or not state.keys() >= changes.keys():
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]  # or its TypeError
    new = object.__new__(cls)
    fresh = new.__dict__
    fresh.update(state)
    fresh.update(changes)
    return new


def _template(cls: type) -> tuple[dict[str, Any], frozenset[str]] | None:
    """What ``make`` fills a record of ``cls`` from, None unless ``cls`` is plain: the defaults,
    and the fields without a plain default value, which a call must give (a ``default_factory``
    field left out is made by ``__init__``: ``make`` leaves such a call to it)."""
    if not _plain(cls):
        return None
    fields = dataclasses.fields(cls)
    defaults = {f.name: f.default for f in fields}
    required = frozenset(f.name for f in fields if f.default is dataclasses.MISSING)
    return defaults, required


def make(cls: type[T], /, **values: Any) -> T:
    """``cls(**values)``: an equal new record, whatever ``cls`` (keyword arguments only)."""
    template = _TEMPLATES.get(cls, _UNSEEN)
    if template is _UNSEEN:
        template = _TEMPLATES[cls] = _template(cls)
    if template is None:
        return cls(**values)
    defaults, required = template
    state = defaults.copy()
    state.update(values)  # in field order, as __init__ stores them
    if len(state) != len(defaults) or not values.keys() >= required:
        return cls(**values)  # its TypeError, naming the unknown or missing field
    new = object.__new__(cls)
    new.__dict__.update(state)
    return new
