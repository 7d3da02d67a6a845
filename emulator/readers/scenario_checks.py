"""The checks of a flow that span several values: its steps against the vendor's state machine,
and its fixed fields (``coupon:``) against the vendor's types and the number of coupons."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import yaml

from emulator.core import catalogue, coupons, inject, lifecycle
from emulator.core.scenario import Step
from emulator.core.vendor import FixedField
from emulator.readers import schemas
from emulator.readers.yamlread import YamlReader, shape

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
INT64_MAX = 2**63 - 1

EventNodes = list[tuple[str, yaml.Node, str]]  # (event type, its node, its key path)


def check_steps(
    reader: YamlReader,
    machine: lifecycle.Machine,
    steps: Sequence[Step],
    nodes: Sequence[EventNodes],
    path: str,
) -> None:
    """Every path through the steps must be a path of the machine.

    The set of states a coupon can be in is carried from step to step: a step that may be
    skipped keeps the states before it, a repeated one adds the states after each repetition,
    and each possible event must be allowed from each possible state.
    """
    states = {machine.initial}
    main = machine.initial  # where the coupon is when every step happens once, first choice
    for step, events in zip(steps, nodes, strict=True):
        low, high = step.repeat
        after = (
            set(states)
            if low == 0 or (step.probability < 1 and step.otherwise == "skip")
            else set()
        )
        current, seen = frozenset(states), set()
        for k in range(1, high + 1):
            following = set()
            for state in sorted(current, key=str):
                for event, node, where in events:
                    nxt = machine.next(state, event)
                    if nxt is None:
                        raise _impossible(
                            reader, machine, state, event, node, where, k, state != main
                        )
                    following.add(nxt)
            current = frozenset(following)
            if k <= max(low, 1):
                main = machine.next(main, events[0][0]) or main
            if k >= low:
                after |= current
                if current in seen:
                    break
                seen.add(current)
        states = after


def _impossible(reader, machine, state, event, node, where, repetition, elsewhere):
    message = str(lifecycle.TransitionError(machine, state, event))
    if repetition > 1:
        message = f"repetition {repetition} of this step: {message}"
    if elsewhere:
        message += (
            " (the coupon can be in that state here because an earlier step is optional, "
            "repeated or a choice)"
        )
    return reader.fail(node, where, message)


def check_fixed(
    reader: YamlReader, slug: str, node: yaml.Node, path: str, count: int, steps: Sequence[Step]
) -> dict[str, Any]:
    """A flow's ``coupon:`` section: fields of the vendor, of the right type, unique if needed."""
    vendor = catalogue.vendor(slug)
    fields = vendor.fixed_fields
    items = reader.mapping(node, path, f"a mapping of {slug} field to value")
    reader.known(items, path, tuple(fields))
    out: dict[str, Any] = {}
    for name, (_, value_node) in items.items():
        here = f"{path}.{name}"
        spec = fields[name]
        value = _value(reader, spec, value_node, here)
        if spec.unique and count > 1:
            _unique(reader, spec, name, value, value_node, here, count)
        if spec.max_length and isinstance(value, str):
            longest = value.format(n=count)
            if len(longest) > spec.max_length:
                message = f"at most {spec.max_length} characters, got {len(longest)} ({longest!r})"
                raise reader.fail(value_node, here, message)
        out[name] = value
    events = {e for step in steps for e in step.events}
    conflict = vendor.fixed_conflict(out, events)
    if conflict:
        name, why = conflict
        raise reader.fail(items[name][1], f"{path}.{name}", why)
    return out


def _unique(reader, spec, name, value, node, here, count) -> None:
    if spec.kind in ("uuid", "object-id"):
        message = (
            f"every coupon of this flow would get the same {name}; fix it only with coupons: 1"
        )
        raise reader.fail(node, here, message)
    if spec.kind == "int64":
        if value + count - 1 > INT64_MAX:
            raise reader.fail(node, here, f"{value} + {count - 1} coupons passes the int64 maximum")
        return
    if isinstance(value, str) and value.format(n=1) == value.format(n=2):
        message = (
            f"every coupon of this flow would get the same {name}; add {{n}} (the coupon's number "
            f"in the flow, from 1), e.g. {value}-{{n}}"
        )
        raise reader.fail(node, here, message)


# --- bounds: the only templates a fixed value may hold ----------------------------------------

MAX_WIDTH = 20  # {n:0Wd}: digits at most
_SPEC = re.compile(r"^0?([0-9]{1,2})d$")
_TEMPLATE_HELP = (
    "only {n} (the coupon's number in the flow, from 1) may stand in braces, or {n:0Wd} "
    f"(zero-padded to W digits, W at most {MAX_WIDTH}); write {{{{ and }}}} for literal braces"
)


def template_problem(value: str) -> str | None:
    """Why ``value`` is not a valid coupon template, or None: ``{n}``, ``{n:0Wd}``, ``{{``, ``}}``."""
    import string

    try:
        fields = list(string.Formatter().parse(value))
    except ValueError:
        return _TEMPLATE_HELP
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name != "n" or conversion is not None:
            return _TEMPLATE_HELP
        if spec:
            m = _SPEC.match(spec)
            if m is None or int(m.group(1)) > MAX_WIDTH:
                return _TEMPLATE_HELP
    return None


def _value(reader: YamlReader, spec: FixedField, node: yaml.Node, path: str) -> Any:
    kind = spec.kind
    if kind == "discount":
        return _discount(reader, node, path)
    value, _ = reader.scalar(node, path)
    if kind == "choice":
        return reader.choice(node, path, spec.choices, "value")
    if kind in ("uuid", "object-id"):
        pattern, what = (
            (_UUID, "a UUID") if kind == "uuid" else (_OBJECT_ID, "24 lowercase hex digits")
        )
        if not isinstance(value, str) or not pattern.match(value):
            raise reader.fail(node, path, f"expected {what}, got {shape(node, value)}")
        return value
    if kind == "code" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if kind in ("text", "code"):
        if not isinstance(value, str) or not value:
            expected = "a string or a number" if kind == "code" else "a non-empty string"
            raise reader.fail(node, path, f"expected {expected}, got {shape(node, value)}")
        problem = template_problem(value)
        if problem:
            raise reader.fail(node, path, problem)
        return value
    if kind == "int64":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= INT64_MAX:
            raise reader.fail(
                node, path, f"expected an integer id from 1 to 2**63-1, got {shape(node, value)}"
            )
        return value
    top = 100 if kind == "percent" else math.inf
    what = "a percentage above 0, at most 100" if kind == "percent" else "an amount above 0"
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= top:
        raise reader.fail(node, path, f"expected {what}, got {shape(node, value)}")
    return value


def _discount(reader: YamlReader, node: yaml.Node, path: str) -> dict[str, Any]:
    items = reader.mapping(node, path, "{type: fixed, amount, currency} or {type: percent, value}")
    if "type" not in items:
        raise reader.fail(node, f"{path}.type", "required: fixed or percent")
    kind = reader.choice(items["type"][1], f"{path}.type", ("fixed", "percent"), "discount type")
    needed = ("amount", "currency") if kind == "fixed" else ("value",)
    reader.known(items, path, ("type", *needed, "context"))
    for key in needed:
        if key not in items:
            raise reader.fail(node, f"{path}.{key}", f"required for a {kind} discount")
    out: dict[str, Any] = {"type": kind, "context": "items"}
    if "context" in items:
        out["context"] = reader.choice(
            items["context"][1], f"{path}.context", coupons.DISCOUNT_CONTEXTS, "discount context"
        )
    if kind == "fixed":
        amount = reader.number(items["amount"][1], f"{path}.amount", minimum=0.01, what="an amount")
        out["amount"] = int(amount) if amount == int(amount) else amount
        currency = reader.text(items["currency"][1], f"{path}.currency", "a currency code")
        if not _CURRENCY.match(currency):
            message = f"expected a 3-letter ISO 4217 code in capitals (USD), got {currency!r}"
            raise reader.fail(items["currency"][1], f"{path}.currency", message)
        out["currency"] = currency
    else:
        value_node = items["value"][1]
        value = reader.number(value_node, f"{path}.value", minimum=0.01, what="a percentage")
        if value > 100:
            raise reader.fail(value_node, f"{path}.value", f"expected at most 100, got {value:g}")
        out["value"] = int(value) if value == int(value) else value
    return out


NOT_APPLICABLE = {
    "omit_optional": "sends every documented field, so no optional field can be omitted",
    "nullable_null": "has no nullable field that carries a value",
}
# One body of each event type is enough to tell: a schema's optional and nullable fields are the
# same in every body, and the builders always fill what the vendor may leave out or null.
_SAMPLE_SEED = 1


@cache
def applies(slug: str, kind: str) -> bool:
    """Whether edge case ``kind`` can change a body of vendor ``slug``, as its schemas say.

    Only the body mutations that read the schema (``omit_optional``, ``nullable_null``) may do
    nothing to every body of a vendor; the other kinds always apply.
    """
    if kind not in NOT_APPLICABLE:
        return True
    vendor = catalogue.vendor(slug)
    for et in vendor.event_types:
        body = catalogue.sample(slug, et.name, seed=_SAMPLE_SEED)
        _, changed = inject.mutate({kind}, vendor, body, lambda et=et: schemas.of(slug, et.name))
        if changed:
            return True
    return False


def applicable(slug: str, rules: Mapping[str, Any]) -> dict[str, Any]:
    """The rules that can do something to this vendor's events (scenario-wide ones may not)."""
    return {kind: rule for kind, rule in rules.items() if applies(slug, kind)}
