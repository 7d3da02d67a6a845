"""Run cases against consumers, concurrently, and collect one Result per case."""

from __future__ import annotations

import shlex
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from contracts import bodies
from contracts.cases import Case
from contracts.checks import Run
from contracts.defaults import DEFAULT_FUZZ, DEFAULT_SETTLE
from contracts.failures import CaseSkipped, ContractFailure
from contracts.probe import Probe
from emulator.readers.config import Target

PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"
DEFAULT_WORKERS = 8


@dataclass(frozen=True)
class Result:
    case: Case
    status: str
    title: str  # one line: the note on a pass, the reason of a skip, the failure's title
    message: str  # the full failure text, Reproduce line included; empty otherwise
    duration: float
    reproduce: str = ""
    failure: BaseException | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Options:
    seed: int
    settle: float = DEFAULT_SETTLE
    fuzz_count: int = DEFAULT_FUZZ
    workers: int = DEFAULT_WORKERS


def run_case(
    case: Case,
    target: Target,
    probe: Probe | None,
    options: Options,
    reproduce: Callable[[Case], str],
) -> Result:
    """Run one case; never raises for the consumer's faults (those are the result)."""
    started = time.perf_counter()
    seed = bodies.case_seed(options.seed, case.vendor, case.id)
    run = Run(case.vendor, case.event_type, target, probe, seed, options.settle, options.fuzz_count)
    command = reproduce(case)
    try:
        note = case.check(run)
    except CaseSkipped as skip:
        return Result(case, SKIPPED, skip.reason, "", time.perf_counter() - started, command)
    except ContractFailure as failure:
        failure.with_reproduce(command)
        title = f"{case.vendor} {case.id}: {failure.title}"
        elapsed = time.perf_counter() - started
        return Result(case, FAILED, title, str(failure), elapsed, command, failure)
    except Exception as exc:  # a bug of ours, or an answer we cannot read: shown, never hidden
        text = "".join(traceback.format_exception(exc)) + f"Reproduce with: {command}"
        title = f"{case.vendor} {case.id}: error: {type(exc).__name__}: {exc}"
        return Result(case, ERROR, title, text, time.perf_counter() - started, command, exc)
    finally:
        run.close()
    return Result(case, PASSED, note, "", time.perf_counter() - started, command)


def run_cases(
    cases: Sequence[Case],
    targets: Mapping[str, Target],
    probe: Probe | None,
    options: Options,
    reproduce: Callable[[Case], str],
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Every case, independent ones at once; results in the cases' order. ``on_result`` is told
    each result as its case ends (progress), from the thread that ran it."""
    # The fuzz cases draw their bodies first and take longest: start them first.
    order = sorted(range(len(cases)), key=lambda i: cases[i].name != "fuzz-no-5xx")
    results: list[Result | None] = [None] * len(cases)
    with ThreadPoolExecutor(max_workers=options.workers, thread_name_prefix="case") as pool:
        futures = {
            i: pool.submit(run_case, cases[i], targets[cases[i].vendor], probe, options, reproduce)
            for i in order
        }
        if on_result is not None:

            def tell(future: Future[Result]) -> None:
                if future.exception() is None:  # else it is raised below
                    on_result(future.result())

            for future in futures.values():
                future.add_done_callback(tell)
        for i, future in futures.items():
            results[i] = future.result()
    return [r for r in results if r is not None]


def verify_command(
    case: Case,
    url: str,
    seed: int,
    *,
    config: str | None = None,
    probe: str | None = None,
    extra: Sequence[str] = (),
) -> str:
    """The ``coupon-emulator verify`` command that reruns exactly ``case``."""
    words = ["coupon-emulator", "verify", "--consumer", f"{case.vendor}={url}"]
    if config:
        words += ["--config", config]
    if probe:
        words += ["--probe", probe]
    words += [*extra, "--seed", str(seed), "--vendor", case.vendor, "--case", case.id]
    return shlex.join(words)
