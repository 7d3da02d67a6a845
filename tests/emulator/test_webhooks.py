"""The vendors' webhooks described: AsyncAPI 3.0 passes the official parser, OpenAPI 3.1 its
schema, and every example body round-trips through the schema published beside it."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from emulator.core import catalogue
from emulator.readers import schemas, webhooks

ROOT = Path(__file__).resolve().parents[2]
EVENT_TYPES = catalogue.event_types()
PARSER_VAR = "COUPON_ASYNCAPI_PARSER"  # .ci/run installs @asyncapi/parser there
PARSE = """
import { Parser } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
const { document, diagnostics } = await new Parser().parse(readFileSync(process.argv[1], 'utf8'));
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of errors) console.log(`${d.code}: ${d.message} at ${JSON.stringify(d.path)}`);
process.exit(document && errors.length === 0 ? 0 : 1);
"""


@pytest.fixture(scope="module")
def asyncapi():
    # Through JSON, as tools read it: what is checked is the document as written out.
    return json.loads(json.dumps(webhooks.asyncapi()))


@pytest.fixture(scope="module")
def openapi():
    return json.loads(json.dumps(webhooks.openapi()))


def message_of(document, et):
    return document["components"]["messages"][webhooks.key(et.vendor, et.name)]


def test_one_channel_per_vendor_and_one_message_per_event_type(asyncapi):
    assert set(asyncapi["channels"]) == set(catalogue.VENDORS)
    for slug, vendor in catalogue.VENDORS.items():
        channel = asyncapi["channels"][slug]
        refs = [m["$ref"].rsplit("/", 1)[1] for m in channel["messages"].values()]
        names = [asyncapi["components"]["messages"][ref]["name"] for ref in refs]
        assert names == [et.name for et in vendor.event_types]
        operation = asyncapi["operations"][f"{slug}.deliver"]
        assert operation["action"] == "send"
        assert operation["channel"] == {"$ref": f"#/channels/{slug}"}
        for ref in operation["messages"]:  # each resolves to one of the channel's messages
            assert ref["$ref"].rsplit("/", 1)[1] in channel["messages"]
    assert len(asyncapi["components"]["messages"]) == len(EVENT_TYPES)


def test_each_vendor_offers_the_security_schemes_of_the_auth_types_it_accepts(asyncapi, openapi):
    schemes = asyncapi["components"]["securitySchemes"]
    for slug, vendor in catalogue.VENDORS.items():
        offered = {
            ref["$ref"].rsplit("/", 1)[1]
            for ref in asyncapi["operations"][f"{slug}.deliver"]["security"]
        }
        documented = {f"{slug}.{kind}" for kind in vendor.profile.auth_types if kind != "none"}
        assert offered == documented
        for name in offered:
            kind = name.split(".", 1)[1]
            scheme = schemes[name]
            if kind in ("basic", "bearer", "digest"):
                assert scheme == {**scheme, "type": "http", "scheme": kind}
            else:  # a header the consumer reads: the api key's own, or Authorization for HMAC
                assert scheme["type"] == "httpApiKey"
                assert scheme["in"] == "header"
                assert scheme["name"] == (
                    "Authorization" if kind.startswith("hmac") else "x-api-key"
                )
        for hook in (h for n, h in openapi["webhooks"].items() if n.startswith(f"{slug}.")):
            alternatives = hook["post"]["security"]
            assert {next(iter(a), None) for a in alternatives} == documented | (
                {None} if "none" in vendor.profile.auth_types else set()
            )


@pytest.mark.parametrize("et", EVENT_TYPES, ids=lambda et: f"{et.vendor}-{et.name}")
def test_every_example_round_trips_through_its_published_schema(asyncapi, openapi, et):
    message = message_of(asyncapi, et)
    (example,) = message["examples"]
    assert example["payload"] == catalogue.sample(et.vendor, et.name, seed=1)
    # the schema as published, self-contained, judges the example valid; so does the vendor's own
    published = Draft202012Validator(message["payload"], format_checker=schemas.FORMAT_CHECKER)
    assert list(published.iter_errors(example["payload"])) == []
    assert schemas.errors(et.schema_path, example["payload"]) == []
    assert "$ref" not in json.dumps(message["payload"])
    # and the published schema still refuses what the vendor's refuses
    broken = {**example["payload"], **{k: [] for k in list(example["payload"])[:1]}}
    assert (list(published.iter_errors(broken)) == []) == (
        schemas.errors(et.schema_path, broken) == []
    )
    hook = openapi["webhooks"][webhooks.key(et.vendor, et.name)]["post"]
    content = hook["requestBody"]["content"]["application/json"]
    assert content["examples"]["sample"]["value"] == example["payload"]
    assert content["schema"] == message["payload"]


def _parser() -> Path:
    folder = os.environ.get(PARSER_VAR)
    installed = lambda path: (path / "node_modules" / "@asyncapi" / "parser").is_dir()  # noqa: E731
    if folder:  # CI names where it installed the parser: missing there is a failure
        assert shutil.which("node"), f"{PARSER_VAR} is set but node is not on PATH"
        assert installed(Path(folder)), f"{PARSER_VAR}={folder} holds no @asyncapi/parser"
        return Path(folder)
    local = ROOT / "build" / "asyncapi-parser"
    if not shutil.which("node") or not installed(local):
        pytest.skip(
            "the official AsyncAPI parser is not installed: run .ci/run, or "
            f"(cd build/asyncapi-parser && npm install --no-save @asyncapi/parser@3), or set {PARSER_VAR}"
        )
    return local


def _parse(folder: Path, document: dict, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(document))
    return subprocess.run(
        ["node", "--input-type=module", "-e", PARSE, str(path)],
        cwd=folder, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_official_asyncapi_parser_accepts_the_document_and_refuses_a_broken_one(
    asyncapi, tmp_path
):
    folder = _parser()
    good = _parse(folder, asyncapi, tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    broken = copy.deepcopy(asyncapi)
    del broken["operations"][next(iter(broken["operations"]))]["channel"]
    bad = _parse(folder, broken, tmp_path)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "channel" in bad.stdout


def test_the_openapi_document_passes_the_oas_3_1_schema_and_a_broken_one_does_not(openapi):
    definitions = pytest.importorskip("schemathesis.specs.openapi.definitions")
    oas = Draft202012Validator(definitions.OPENAPI_31)
    assert [e.message for e in oas.iter_errors(openapi)] == []
    assert openapi["openapi"] == "3.1.0"
    assert len(openapi["webhooks"]) == len(EVENT_TYPES)
    for hook in openapi["webhooks"].values():
        Draft202012Validator.check_schema(
            hook["post"]["requestBody"]["content"]["application/json"]["schema"]
        )
    broken = copy.deepcopy(openapi)
    next(iter(broken["webhooks"].values()))["post"]["responses"] = []
    assert list(oas.iter_errors(broken)) != []


def test_export_writes_the_same_document_to_stdout_and_to_a_file(tmp_path):
    command = [sys.executable, "-m", "emulator", "export"]
    out = subprocess.run([*command, "asyncapi"], capture_output=True, check=True, timeout=60)
    written = subprocess.run(
        [*command, "openapi", "-o", str(tmp_path / "w.json")], capture_output=True, timeout=60
    )
    assert written.returncode == 0, written.stderr
    assert json.loads(out.stdout) == json.loads(json.dumps(webhooks.asyncapi()))
    assert json.loads((tmp_path / "w.json").read_text()) == json.loads(
        json.dumps(webhooks.openapi())
    )
    refused = subprocess.run([*command, "asyncapi", "-o", str(tmp_path / "no" / "a.json")],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 2
    assert "-o " in refused.stderr
    assert "Traceback" not in refused.stderr
