"""Progress: the counted steps and their line (``emulator.readers.progress``), and the display on
standard error (``emulator.cli.progress``): a bar on a terminal, a line every few seconds on a
pipe, nothing when quiet. The pace is driven by a fake clock, never by waiting."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest
from rich.console import Console

from emulator.cli.progress import PIPE, QUIET, TERMINAL, Display, delivery_step, mode_of
from emulator.delivery.judging import Progress
from emulator.readers.progress import Pace, Step, line


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_step_says_how_far_of_how_many_with_its_notes_and_rate():
    step = Step("planned", 120_000, 1_000_000, "events", about=True)
    assert step.line(45_000.4) == "planned 120,000/~1,000,000 events (12%), 45,000/s"
    exact = Step("finished", 3_000, 20_000, "deliveries", notes=("12 failed", "2 retries"))
    assert exact.line() == "finished 3,000/20,000 deliveries (15%), 12 failed, 2 retries"
    assert Step("finished", 7, None, "deliveries").line() == "finished 7 deliveries"


def test_an_estimate_never_shows_done_before_the_end_and_the_end_shows_the_count():
    short = Step("planned", 1_200, 1_000, "events", about=True)  # chance planned more
    assert short.fraction == 0.99
    assert "(99%)" in short.line()
    over = Step("planned", 1_234, 1_000, "events", about=True, finished=True)
    assert over.line(99.0) == "planned 1,234/1,234 events (100%)"  # no rate once finished


def test_steps_join_on_one_line():
    steps = [Step("planned", 5, 10, "events"), Step("finished", 2, None, "deliveries")]
    assert line(steps, [1.0]) == "planned 5/10 events (50%), 1/s; finished 2 deliveries"


def test_the_pace_waits_a_whole_interval_between_lines():
    pace = Pace(every=5.0)
    assert [pace.due(t) for t in (0, 4.9, 5.0, 9.9, 10.0, 10.1, 16)] == [
        False, False, True, False, True, False, True,
    ]  # fmt: skip


def test_on_a_pipe_a_line_comes_every_interval_of_the_clock_and_one_at_the_end():
    clock, stream = FakeClock(), io.StringIO()
    display = Display(stream, mode=PIPE, every=5.0, clock=clock)
    for second in range(13):  # updates every second, as the run driver's ticker sends them
        clock.now = 1000.0 + second
        display.update([Step("planned", 100 * second, 2_000, "events")])
    assert stream.getvalue().splitlines() == [
        "planned 500/2,000 events (25%), 100/s",  # at 5 s
        "planned 1,000/2,000 events (50%), 100/s",  # at 10 s
    ]
    display.close([Step("planned", 2_000, 2_000, "events", finished=True)])
    assert stream.getvalue().splitlines()[-1] == "planned 2,000/2,000 events (100%)"
    display.update([Step("planned", 1, 2, "events")])  # after close: nothing more
    assert len(stream.getvalue().splitlines()) == 3


def test_on_a_pipe_short_work_prints_only_its_last_state():
    clock, stream = FakeClock(), io.StringIO()
    display = Display(stream, mode=PIPE, clock=clock)
    display.update([Step("verified", 1, 4, "cases")])
    clock.now += 1
    display.update([Step("verified", 3, 4, "cases")])
    display.close([Step("verified", 4, 4, "cases", finished=True, notes=("4 passed",))])
    assert stream.getvalue() == "verified 4/4 cases (100%), 4 passed\n"


def test_without_a_last_line_a_pipe_hears_of_work_only_when_it_takes_long():
    clock, stream = FakeClock(), io.StringIO()
    quick = Display(stream, mode=PIPE, clock=clock, last_line=False)
    quick.update([Step("finished", 0, 1, "deliveries")])
    quick.close([Step("finished", 1, 1, "deliveries", finished=True)])
    assert stream.getvalue() == ""

    slow = Display(stream, mode=PIPE, every=5.0, clock=clock, last_line=False)
    slow.update([Step("finished", 0, 1, "deliveries", notes=("3 retries",))])
    clock.now += 6
    slow.update([Step("finished", 0, 1, "deliveries", notes=("4 retries",))])
    slow.close([Step("finished", 1, 1, "deliveries", finished=True)])
    assert stream.getvalue().splitlines() == [
        "finished 0/1 deliveries (0%), 4 retries, 0/s",
        "finished 1/1 deliveries (100%)",
    ]


def test_on_a_terminal_a_bar_is_drawn_and_left_complete():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    display = Display(mode=TERMINAL, console=console, clock=FakeClock())
    display.update([Step("planned", 25, 100, "events"), Step("finished", 5, None, "deliveries")])
    display.close([Step("planned", 100, 100, "events", finished=True)])
    text = out.getvalue()
    assert "━" in text  # the bar
    assert re.search(r"planned ━+ 100/100 events \(100%\)", text), text
    assert "5 deliveries" in text
    assert "\x1b[?25h" in text  # the cursor is given back when the bar stops


def test_quiet_shows_nothing_and_the_mode_follows_the_stream():
    stream = io.StringIO()
    display = Display(stream, quiet=True)
    assert display.mode == QUIET
    display.update([Step("planned", 1, 2, "events")])
    display.close([Step("planned", 2, 2, "events", finished=True)])
    assert stream.getvalue() == ""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert mode_of(Terminal(), quiet=False) == TERMINAL
    assert mode_of(io.StringIO(), quiet=False) == PIPE
    assert mode_of(Terminal(), quiet=True) == QUIET


def test_progress_goes_to_standard_error_only(capsys):
    display = Display(mode=PIPE, every=0.0, clock=FakeClock())  # the default stream
    display.update([Step("planned", 1, 2, "events")])
    display.update([Step("planned", 2, 2, "events")])
    display.close()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "planned 2/2 events (100%)" in captured.err


def test_a_broken_standard_error_does_not_fail_the_work():
    stream = io.StringIO()
    display = Display(stream, mode=PIPE, clock=FakeClock())
    stream.close()
    display.close([Step("planned", 1, 1, "events", finished=True)])  # no ValueError


@pytest.mark.parametrize(
    ("statuses", "retries", "expected"),
    [
        ({"delivered": 3}, 0, "finished 3/5 deliveries (60%), 3 delivered"),
        (
            {"delivered": 2, "failed": 1, "exhausted": 1},
            4,
            "finished 4/5 deliveries (80%), 2 delivered, 1 failed, 1 exhausted, 4 retries",
        ),
    ],
)
def test_the_dispatchers_counters_as_a_step(statuses, retries, expected):
    progress = Progress(submitted=5, retries=retries, statuses=Counter(statuses))
    assert delivery_step(progress).line() == expected
    assert delivery_step(progress, total_known=False).total is None
