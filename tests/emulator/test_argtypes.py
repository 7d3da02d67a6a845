"""The argument types every command shares: what they accept and how they refuse."""

from __future__ import annotations

import argparse

import pytest

from emulator.cli import argtypes


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (argtypes.positive, "0.001", 0.001),
        (argtypes.count, "3", 3),
        (argtypes.seconds, "0", 0.0),
        (argtypes.port, "0", 0),
        (argtypes.remote_port, "65535", 65535),
    ],
)
def test_accepts_values_in_range(parse, text, value):
    assert parse(text) == value


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (argtypes.positive, "0", "'0' must be greater than 0"),
        (argtypes.positive, "nan", "'nan' must be greater than 0"),
        (argtypes.positive, "inf", "'inf' must be greater than 0"),
        (argtypes.positive, "fast", "'fast' is not a number"),
        (argtypes.count, "0", "'0' must be at least 1"),
        (argtypes.count, "1.5", "'1.5' is not an integer"),
        (argtypes.seconds, "-1", "'-1' must be at least 0"),
        (argtypes.port, "65536", "'65536' must be a port number from 0 to 65535"),
        (argtypes.remote_port, "0", "'0' must be a port number from 1 to 65535"),
        (argtypes.instant, "2026-01-15", "has no time zone"),
        (argtypes.instant, "noon", "is not an ISO 8601 time"),
    ],
)
def test_refuses_with_a_message_naming_the_bound(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message.replace("(", r"\(")):
        parse(text)
