"""Payload overrides (``emulator.core.overrides``): RFC 7396 merge patches, set and unset by path."""

from __future__ import annotations

import copy

import pytest

from emulator.core import catalogue
from emulator.core.errors import UsageError
from emulator.core.overrides import (
    OverrideError,
    Patch,
    Unset,
    apply,
    checked,
    dedupe_keys,
    merge_patch,
    parse_path,
    parse_set,
    parse_value,
)

BODY = {
    "id": "e1",
    "payload": {"email": "a@b.c", "location_id": 7, "items": [{"code": "X"}, {"code": "Y"}]},
}

# RFC 7396 Appendix A, every example: (target, patch, result).
RFC_7396 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "result"), RFC_7396)
def test_merge_patch_follows_every_example_of_rfc_7396(target, patch, result):
    before = copy.deepcopy(target)
    assert merge_patch(target, patch) == result
    assert target == before


@pytest.mark.parametrize(
    ("text", "value"),
    [("42", 42), ("4.5", 4.5), ("true", True), ("null", None), ('"42"', "42"),
     ('{"a": [1]}', {"a": [1]}), ("N6ISIGQ8", "N6ISIGQ8"), ("", ""), ("hello world", "hello world")],
)  # fmt: skip
def test_a_value_is_json_when_it_parses_else_a_string(text, value):
    assert parse_value(text) == value


def test_set_unset_and_patch_apply_in_the_order_given_and_leave_the_body_alone():
    before = copy.deepcopy(BODY)
    result = apply(
        BODY,
        [
            parse_set("payload.location_id=42"),
            Unset(parse_path("payload.email")),
            parse_set("payload.items.1.code=Z"),
            parse_set('payload.items.2={"code": "W"}'),  # one past the end appends
            parse_set("payload.new.deep=true"),  # objects on the way are created
            Unset(parse_path("payload.items.0")),
            Patch({"id": None, "extra": {"a": 1}}),
            parse_set("extra.a=2"),
        ],
    )
    assert result == {
        "payload": {
            "location_id": 42,
            "items": [{"code": "Z"}, {"code": "W"}],
            "new": {"deep": True},
        },
        "extra": {"a": 2},
    }
    assert before == BODY


def test_a_whole_number_is_an_ordinary_key_inside_an_object():
    assert apply({"a": {"0": 1}}, [parse_set("a.0=2"), parse_set("a.1=3")]) == {
        "a": {"0": 2, "1": 3}
    }


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: parse_set("payload.location_id", "--set payload.location_id"),
         "--set payload.location_id: expected PATH=VALUE"),
        (lambda: parse_path("payload..email", "--unset payload..email"),
         "--unset payload..email: 'payload..email' is not a key path"),
        (lambda: apply(BODY, [Unset(("payload", "emial"), "--unset payload.emial")]),
         "--unset payload.emial: payload has no key 'emial' (did you mean 'email'?); its keys: "
         "email, items, location_id"),
        (lambda: apply(BODY, [Unset(("nope", "x"), "--unset nope.x")]),
         "(body) has no key 'nope'"),
        (lambda: apply(BODY, [parse_set("payload.email.x=1", "--set payload.email.x=1")]),
         "--set payload.email.x=1: payload.email is a string ('a@b.c'), not an object or a list"),
        (lambda: apply(BODY, [parse_set("payload.items.first=1")]),
         "payload.items is a list; index it with a whole number (0..2), not 'first'"),
        (lambda: apply(BODY, [parse_set("payload.items.5.code=1")]),
         "payload.items has 2 items; index 5 is past its end (valid: 0..1)"),
        (lambda: apply(BODY, [Unset(("payload", "items", "2"))]),
         "payload.items has 2 items; index 2 is past its end (valid: 0..1)"),
        (lambda: apply(BODY, [parse_set("payload.items.-1=1")]),
         "not '-1'"),
    ],
)  # fmt: skip
def test_an_override_that_cannot_apply_names_itself_and_what_was_expected(make, needle):
    with pytest.raises(OverrideError) as caught:
        make()
    assert isinstance(caught.value, UsageError)  # exit code 2 on the command line
    assert needle in str(caught.value)


def test_the_schema_is_checked_only_when_something_changed():
    calls = []

    def errors(body):
        calls.append(body)
        return ["payload: 'email' is a required property"] if "email" not in body["payload"] else []

    assert checked(BODY, [], errors) == (BODY, ())
    assert calls == []
    body, problems = checked(BODY, [Unset(("payload", "email"))], errors)
    assert "email" not in body["payload"]
    assert problems == ("payload: 'email' is a required property",)


@pytest.mark.parametrize("et", catalogue.event_types(), ids=lambda et: f"{et.vendor}-{et.name}")
def test_a_body_without_what_its_keys_are_made_of_is_keyless_not_an_error(et):
    vendor = catalogue.vendor(et.vendor)
    body = catalogue.sample(et.vendor, et.name, seed=1)
    assert dedupe_keys(vendor, body) == tuple(vendor.dedupe_keys(body))
    assert dedupe_keys(vendor, {}) == ()
