"""What a failed case raises, and what a skipped one does.

    ContractFailure (AssertionError)   a case's claim does not hold; title, message, Reproduce line
    ├── WrongAnswer                    the consumer answered with a status the case does not allow
    ├── NoAnswer                       no HTTP answer (refused, reset, timed out)
    ├── WrongState                     the probe shows state the case does not allow
    └── ProbeFailure                   the probe itself did not answer per the probe protocol
    CaseSkipped (Exception)            the case cannot decide: no probe, no auth configured

The message says what was sent, what came back and what was expected; the runner appends the last
line, ``Reproduce with: <command>``, which reruns exactly that case.
"""

from __future__ import annotations


class ContractFailure(AssertionError):
    """A case's claim does not hold for the consumer."""

    def __init__(self, title: str, message: str, reproduce: str | None = None) -> None:
        self.title = title
        self.message = message
        self.reproduce = reproduce
        super().__init__(self._text())

    def _text(self) -> str:
        text = f"{self.title}\n{self.message}"
        return f"{text}\nReproduce with: {self.reproduce}" if self.reproduce else text

    def with_reproduce(self, command: str) -> ContractFailure:
        self.reproduce = command
        self.args = (self._text(),)
        return self

    def __str__(self) -> str:
        return self._text()


class WrongAnswer(ContractFailure):
    """The consumer answered with a status the case does not allow."""


class NoAnswer(ContractFailure):
    """The consumer gave no HTTP answer: connection refused or reset, or no answer in time."""


class WrongState(ContractFailure):
    """The probe shows state the case does not allow (applied twice, an old event won, ...)."""


class ProbeFailure(ContractFailure):
    """The probe did not answer as the probe protocol says."""


class CaseSkipped(Exception):
    """The case cannot decide for this consumer; ``reason`` says what it needs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
