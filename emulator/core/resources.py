"""Vendor resources: the routes a vendor's payload links point at, declared by its package.

A vendor declares each resource it links to as a ``ResourceRoute``: a path template under
``/vendors/<slug>/`` (where ``Context.link`` points), a summary, the schema of its answer and a
pure ``render`` function. The service routes requests to it and hands it ``history``, which
yields the vendor's events that have happened so far; ``render`` derives the resource's current
state from them, as the vendor's own API would answer after those events, or raises
``ResourceGone``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.core.errors import ResourceGone

JSON = "application/json"

# (needle, type prefix) -> (event type, body) of the vendor's events that have happened, oldest
# first: those whose stored body contains ``needle`` and whose type starts with the prefix. Bodies
# that are not valid under their event type's schema (broken on purpose) are left out.
History = Callable[[str, str], Iterable[tuple[str, Mapping[str, Any]]]]
# (path parameters, history) -> the resource: a JSON value, or bytes for another media type.
Render = Callable[[Mapping[str, str], History], Any]

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ResourceRoute:
    """One resource a vendor serves, at ``/vendors/<slug>/<path>``.

    ``path`` is a template in OpenAPI style (``coupons/{coupon_id}``); each parameter matches one
    path segment. ``schema`` is the JSON Schema of a 200 answer (None: not JSON); a ``$ref`` of the
    form ``schemas/<slug>/<file>#/$defs/<name>`` points into the vendor's schema files.
    ``answer`` describes a 200 answer in the OpenAPI document.
    """

    path: str
    summary: str
    render: Render
    schema: Mapping[str, Any] | None = None
    media_type: str = JSON
    answer: str = "OK"

    @property
    def parameters(self) -> tuple[str, ...]:
        """The path parameters' names, in the order the path names them."""
        return tuple(_PARAMETER.findall(self.path))


def needle(key: str, value: Any) -> str:
    """The text ``"key":value`` as it appears in a stored body (compact JSON, ``encode``'s form)."""
    return json.dumps(key) + ":" + json.dumps(value, ensure_ascii=False)


def unseen(vendor: str, what: str, ident: str) -> ResourceGone:
    """The error for a resource no event that has happened names."""
    return ResourceGone(f"no {vendor} {what} {ident!r} in any event that has happened")
