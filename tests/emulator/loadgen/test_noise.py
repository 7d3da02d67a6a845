"""What a load run prints is what a user needs: no false ERROR lines from Locust when the plan is
sent, and ``load --quiet`` asks Locust for its summary only and for no planning lines."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from types import SimpleNamespace

import pytest

from emulator.cli import build_parser
from emulator.cli.load_command import locust_command

needs_locust = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None,
    reason="Locust is not installed: pip install 'coupon-emulator[load]'",
)
DEADLINE = 90  # seconds for one load run; a few on an idle machine


@needs_locust
def test_ending_waits_until_users_that_stopped_themselves_have_left_the_group():
    """A user greenlet that ended (``StopUser``) stays in Locust's group, dead and without its
    user, until a later turn of the hub; stopping the runner then logs a false ERROR for it."""
    import gevent
    from gevent.pool import Group

    from emulator.loadgen.roles import _let_stopped_users_leave

    group = Group()
    seen: dict[str, int] = {}

    def ender() -> None:
        group.spawn(lambda: None)  # a user whose share is sent: it ends at once
        gevent.sleep(0)  # it has run and ended; the group has not been told yet
        seen["dead before"] = sum(g.dead for g in group)
        _let_stopped_users_leave(SimpleNamespace(user_greenlets=group))
        seen["dead after"] = sum(g.dead for g in group)

    gevent.spawn(ender).join(timeout=5)
    assert seen == {"dead before": 1, "dead after": 0}


@needs_locust
def test_a_clean_load_run_logs_no_error(consumer, tmp_path):
    plan = consumer.plan(
        tmp_path, [("komo", "CouponIssued", 150), ("rebilly", "coupon-issued", 50)]
    )
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "load", str(plan), "--users", "10", "--quiet"],
        capture_output=True, text=True, timeout=DEADLINE, cwd=tmp_path,
    )  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode == 0, log
    assert "sent 200 of 200 requests" in log
    assert "proper args" not in log
    assert "/ERROR/" not in log, log


def test_quiet_asks_locust_for_its_summary_only():
    parser = build_parser()
    quiet = locust_command(parser.parse_args(["load", "plan.yaml", "--quiet"]))
    assert "--only-summary" in quiet
    shown = locust_command(parser.parse_args(["load", "plan.yaml"]))
    assert "--only-summary" not in shown
    worker = locust_command(parser.parse_args(["load", "plan.yaml", "--worker", "-q"]))
    assert "--only-summary" not in worker
