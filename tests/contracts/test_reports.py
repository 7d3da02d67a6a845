"""``verify --ctrf``, ``--html`` and ``--db``: the files a CI tool or a person reads, and the
results the service's contract page shows."""

from __future__ import annotations

import json
import sqlite3
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from contracts import store
from contracts.reference_consumer import create_app
from contracts.serving import serve_wsgi
from emulator.cli import main

CTRF_SCHEMA = json.loads((Path(__file__).parent / "data" / "ctrf.schema.json").read_text())
SCRIPT = "<script>window.__pwned = 1</script><b>bold</b>"


def broken_consumer(environ, start_response):
    """Answers every request 500 with markup in its body: each case that sends fails."""
    start_response("500 Internal Server Error", [("Content-Type", "text/html")])
    return [SCRIPT.encode()]


@pytest.fixture(scope="module")
def broken():
    with serve_wsgi(broken_consumer) as base:
        yield base


def verify(capsys, *argv: str) -> tuple[int, str]:
    code = main(["verify", *argv])
    out, _ = capsys.readouterr()
    return code, out


def test_ctrf_is_valid_and_maps_failures_skips_and_passes(tmp_path, capsys, settings_file):
    # A consumer configured without auth, verified with auth settings: the auth cases fail, the
    # cases that need a probe are skipped (none given), the rest pass.
    with serve_wsgi(create_app(None)) as base:
        path = tmp_path / "verify.ctrf.json"
        code, _ = verify(
            capsys, "--consumer", f"{base}/hooks", "--config", settings_file, "--vendor", "komo",
            "--seed", "4", "--fuzz", "3", "--ctrf", str(path), "--json", str(tmp_path / "v.json"),
        )  # fmt: skip
    assert code == 1
    document = json.loads(path.read_text())
    jsonschema.Draft7Validator(CTRF_SCHEMA).validate(document)
    results = document["results"]
    tests = {t["name"]: t for t in results["tests"]}
    ours = json.loads((tmp_path / "v.json").read_text())["results"]
    assert len(tests) == len(ours) == results["summary"]["tests"]
    for r in ours:  # the same verdict for every case, none lost or renamed
        assert tests[f"komo {r['id']}"]["status"] == r["status"]
    failed = tests["komo rejects-bad-auth"]
    assert failed["status"] == "failed"
    assert "accepted" in failed["message"]
    assert "Reproduce with: coupon-emulator verify" in failed["trace"]
    assert failed["suite"] == ["komo", "rejects-bad-auth"]
    skipped = tests["komo idempotent-duplicate"]
    assert skipped["status"] == "skipped"
    assert "probe" in skipped["message"]
    summary = results["summary"]
    for status in ("passed", "failed", "skipped", "other"):
        assert summary[status] == sum(t["status"] == status for t in tests.values()), status
    assert summary["failed"] >= 1
    assert summary["skipped"] >= 1
    assert summary["passed"] >= 1
    assert summary["stop"] >= summary["start"] > 1_600_000_000_000  # epoch milliseconds
    assert results["tool"]["name"] == "coupon-emulator verify"


def test_ctrf_reports_a_harness_error_as_other_never_as_passed():
    from contracts.cases import Case
    from contracts.ctrf import ctrf
    from contracts.runner import ERROR, Result

    case = Case("komo", "accepts", "CouponIssued", "accepts every event type", lambda run: "")
    result = Result(case, ERROR, "komo accepts: error: KeyError", "Traceback ...", 0.01, "cmd")
    document = ctrf([result], {}, 1, 2)
    jsonschema.Draft7Validator(CTRF_SCHEMA).validate(document)
    [test] = document["results"]["tests"]
    assert test["status"] == "other"
    assert test["rawStatus"] == "error"
    assert test["message"] == "komo accepts: error: KeyError"
    assert document["results"]["summary"]["other"] == 1


class _Text(HTMLParser):
    """The page's elements and text, as a browser parses them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("#", "data:")):
                self.external.append(value)

    def handle_data(self, data):
        self.text.append(data)


def test_html_shows_the_matrix_and_each_failure_escaped(broken, tmp_path, capsys):
    path = tmp_path / "verify.html"
    code, _ = verify(
        capsys, "--consumer", f"komo={broken}/komo", "--case", "accepts", "--seed", "2",
        "--html", str(path),
    )  # fmt: skip
    assert code == 1
    page = path.read_text()
    parsed = _Text()
    parsed.feed(page)
    text = "".join(parsed.text)
    assert "script" not in parsed.tags
    assert "b" not in parsed.tags
    assert SCRIPT in text  # ... shown as the consumer sent it
    assert parsed.external == []  # nothing fetched
    assert page.count('<section class="failure"') == 4  # one per komo event type
    assert 'class="cell fail" data-vendor="komo">FAIL 4/4<' in page
    assert "Reproduce with: " in text
    assert "coupon-emulator verify --consumer komo=" in text
    assert "answer" in parsed.text
    assert "request" in parsed.text


def test_db_keeps_the_latest_results_and_refuses_a_file_that_is_not_a_database(
    broken, tmp_path, capsys
):
    db = tmp_path / "outbox.db"
    assert store.latest(str(db)) is None
    for seed in ("1", "2"):
        verify(
            capsys, "--consumer", f"komo={broken}/komo", "--case", "accepts[CouponIssued]",
            "--seed", seed, "--db", str(db),
        )  # fmt: skip
    latest = store.latest(str(db))
    assert latest is not None
    assert latest["seed"] == 2
    assert latest["summary"]["failed"] == 1
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM verify_reports").fetchone() == (2,)

    text = tmp_path / "notes.txt"
    text.write_text("not a database, and it stays as it is\n" * 100)
    code = main(
        ["verify", "--consumer", f"komo={broken}/komo", "--case", "accepts[CouponIssued]",
         "--db", str(text)]
    )  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 2
    assert f"--db {text}: cannot store the results" in err
    assert text.read_text().startswith("not a database")


@pytest.mark.parametrize("flag", ["--junit", "--json", "--ctrf", "--html"])
def test_a_report_that_cannot_be_written_is_refused_before_any_case_runs(tmp_path, capsys, flag):
    """Not after every case has run (minutes against a slow consumer): at once, exit 2, naming
    the option, and no consumer request."""
    requests = []

    def counting(environ, start_response):
        requests.append(environ["PATH_INFO"])
        return broken_consumer(environ, start_response)

    with serve_wsgi(counting) as base:
        code = main(["verify", "--consumer", f"{base}/hooks", "--vendor", "komo",
                     flag, str(tmp_path / "no-such-folder" / "report")])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2
    assert f"{flag} {tmp_path / 'no-such-folder' / 'report'}: cannot write this file" in err
    assert "cases for" not in out  # nothing was started
    assert requests == []
    assert not (tmp_path / "no-such-folder").exists()
