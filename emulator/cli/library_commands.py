"""The commands over what ships with coupon-emulator: ``scenarios`` lists the scenario library,
``init`` starts a project from the examples, ``export`` describes the vendors' webhooks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emulator.core.errors import UsageError

# What ``init`` writes, from the shipped examples: (file written, example it copies).
STARTER = (("scenario.yaml", "scenario.yaml"), ("settings.yaml", "settings.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema="
FORMATS = ("asyncapi", "openapi")


def cmd_scenarios(args: argparse.Namespace) -> int:
    from emulator.readers import library

    entries = library.entries()
    if not entries:
        raise UsageError(f"no shipped scenarios in {library.scenarios_folder()}")
    width = max(len(e.name) for e in entries)
    for entry in entries:
        print(f"{entry.name:<{width}}  {entry.description}")
    first = "quickstart" if any(e.name == "quickstart" for e in entries) else entries[0].name
    print(
        f"\nRun one by name from anywhere: coupon-emulator run {first} --sink "
        f"(files: {library.scenarios_folder()})"
    )
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from emulator.readers import library

    folder = Path(args.dir)
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder; create it first, or run init inside it")
    targets = [(folder / name, library.examples_folder() / example) for name, example in STARTER]
    existing = [str(path) for path, _ in targets if path.exists()]
    if existing and not args.force:
        raise UsageError(
            f"{', '.join(existing)} already exist{'s' * (len(existing) == 1)}; nothing was "
            "written (pass --force to overwrite)"
        )
    schema = library.scenarios_folder() / "schema.json"
    for path, example in targets:
        text = example.read_text(encoding="utf-8")
        if text.startswith(SCHEMA_LINE):  # the editor finds the schema where it is installed
            text = SCHEMA_LINE + schema.resolve().as_uri() + text[text.index("\n") :]
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    print(
        "next: coupon-emulator run scenario.yaml --sink; edit settings.yaml to aim at your "
        "consumer, then coupon-emulator run scenario.yaml --config settings.yaml"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import json

    from emulator.readers import webhooks

    document = webhooks.asyncapi() if args.format == "asyncapi" else webhooks.openapi()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"-o {args.output}: cannot write the file ({exc.strerror or exc})"
        ) from None
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``scenarios``, ``init`` and ``export`` to the command line."""
    scenarios = sub.add_parser(
        "scenarios",
        help="list the shipped scenarios",
        description=(
            "List the scenarios shipped with coupon-emulator, each with one line saying what it "
            "plays. Every command that takes a scenario file also takes one of these names."
        ),
        epilog="Example: coupon-emulator scenarios; coupon-emulator run quickstart --sink",
    )
    scenarios.set_defaults(command=cmd_scenarios)

    init = sub.add_parser(
        "init",
        help="write a starter scenario and settings file here",
        description=(
            "Write scenario.yaml (a starter scenario) and settings.yaml (delivery settings: "
            "targets and auth of every vendor, secrets from the environment) into the current "
            "folder. Existing files are kept unless --force is given."
        ),
        epilog="Example: mkdir hooks && cd hooks && coupon-emulator init && "
        "coupon-emulator run scenario.yaml --sink",
    )
    init.add_argument("--dir", default=".", metavar="DIR", help="write there instead (default .)")
    init.add_argument("--force", action="store_true", help="overwrite files that exist")
    init.set_defaults(command=cmd_init)

    export = sub.add_parser(
        "export",
        help="describe the vendors' webhooks as AsyncAPI 3.0 or OpenAPI 3.1",
        description=(
            "Print a machine-readable description of every vendor's webhooks, built from the "
            "catalogue: asyncapi (AsyncAPI 3.0: a channel per vendor, a message per event type "
            "with its JSON Schema, the auth each vendor documents, an example body) or openapi "
            "(OpenAPI 3.1 with one entry under webhooks per event type). The service serves the "
            "same documents at /asyncapi.json and /webhooks.json."
        ),
        epilog="Example: coupon-emulator export asyncapi -o asyncapi.json",
    )
    export.add_argument("format", choices=FORMATS, help="asyncapi or openapi")
    export.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (default standard output)"
    )
    export.set_defaults(command=cmd_export)
