"""The emulator's exception tree.

    EmulatorError                 base of everything the emulator raises on purpose
    ├── UsageError                bad input from the user: exit code 2, one clear paragraph
    │   ├── UnknownNameError      a vendor or event type that does not exist; lists the valid names
    │   └── ConfigError           a delivery settings file or section: file:line:column, key path
    ├── BuildError                a builder was asked for something its vendor cannot produce
    └── ResourceGone              a vendor resource no event names, or one deleted in its lifecycle

Messages say what was asked, why it failed and what to do instead.
"""

from __future__ import annotations

from collections.abc import Iterable


class EmulatorError(Exception):
    """Base of every error the emulator raises on purpose."""


class UsageError(EmulatorError):
    """Bad input (a flag, a name, a file). The CLI prints the message and exits with 2."""


class UnknownNameError(UsageError, LookupError):
    """A name that is not in a catalogue; the message lists every valid one."""

    def __init__(self, what: str, name: str, valid: Iterable[str], hint: str = "") -> None:
        self.what = what
        self.name = name
        self.valid = tuple(valid)
        message = f"unknown {what} {name!r}; valid {what}s: {', '.join(self.valid)}"
        close = _closest(name, self.valid)
        if close:
            message += f". Did you mean {close!r}?"
        if hint:
            message += f" {hint}"
        super().__init__(message)


class ConfigError(UsageError):
    """Delivery settings that cannot be used. The message starts ``file:line:column: key.path:``
    (line and column when known), then says what was expected and the valid options."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
        path: str = "",
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.path = path
        self.detail = message
        where = source or "<settings>"
        if line is not None:
            where += f":{line}" + (f":{column}" if column is not None else "")
        super().__init__(f"{where}: {path}: {message}" if path else f"{where}: {message}")


class BuildError(EmulatorError):
    """A builder cannot produce the requested body (wrong state for the event, bad override)."""


class ResourceGone(EmulatorError, LookupError):
    """A vendor resource that no event which has happened names, or that its lifecycle deleted.

    The service answers 404 with the message as the problem's detail.
    """

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


def _closest(name: str, valid: tuple[str, ...]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    if not matches:
        lowered = {v.lower(): v for v in valid}
        return lowered.get(name.lower())
    return matches[0]


def listed(names: Iterable[str], last: str = "and") -> str:
    """Names as a phrase for a message: ``a, b and c`` (``last`` is the word before the last)."""
    names = list(names)
    return (
        f" {last} ".join((", ".join(names[:-1]), names[-1])) if len(names) > 1 else "".join(names)
    )
