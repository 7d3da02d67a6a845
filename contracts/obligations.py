"""The checks of what the vendors' documents oblige beyond accepting a body: order, batches, signed
bytes, ids, text, header names, concurrent redeliveries, replays. One function per kind of case.

Like ``contracts.checks`` (whose ``Run`` they take): a check returns a note on success, raises a
``ContractFailure`` when the consumer breaks the rule and ``CaseSkipped`` when it cannot decide. Each
sends bodies built so that its bug shows whatever the seed: the seed draws ids and values, never
the shape that makes the case.
"""

from __future__ import annotations

import threading
from typing import Any

from contracts import bodies
from contracts.checks import Run, first_body, message
from contracts.failures import CaseSkipped, WrongAnswer, WrongState
from contracts.probe import poll
from contracts.sending import Exchange, Sender
from emulator.core import auth as authn
from emulator.core.vendor import encode

# --- order and identity of one coupon's events -------------------------------------------------


def precedence_out_of_order(run: Run) -> str:
    # The vendor's two steps of one coupon, sent newest first: their statuses differ, so the
    # probe shows which one won; the newer one has the higher order key (revision, timestamp).
    steps = run.module.precedence
    if steps is None:
        raise CaseSkipped(f"{run.vendor} documents no order key between events of one coupon")
    old, new = bodies.lifecycle(run.vendor, steps, run.seed, run.extras)
    newer, older = run.module.observe(new)[0], run.module.observe(old)[0]
    first = run.send(encode(new))
    run.expect_success(first, "the newer event of a coupon")
    if run.probe is not None:  # the newer event must be in place before the older one arrives
        poll(lambda: run.probe.applied(run.vendor, newer.key), lambda c: c >= 1, run.settle)
    ex = run.send(encode(old))
    run.expect_success(ex, "an older event of the same coupon, arriving late (acknowledge it)")
    run.require_probe("both acknowledged")
    by = "revision" if newer.revision is not None else "timestamp"
    run.expect_current(newer, ex, f"an older event arrived late (the {by} decides precedence)")
    return f"kept {newer.status!r} ({by} {newer.order:g}) over the late {older.status!r}"


def story(run: Run, name: str) -> str:
    """One of the vendor's ``stories``: one coupon's events delivered in the story's order."""
    told = run.module.stories[name]
    built = bodies.lifecycle(run.vendor, told.steps, run.seed, run.extras)
    seen = [run.module.observe(body)[0] for body in built]
    ex: Exchange | None = None
    for turn, index in enumerate(told.arrival):
        obs = seen[index]
        label = f"{obs.event_type} ({'order ' + format(obs.order, 'g') if obs.order is not None else 'key ' + str(obs.key)})"
        ex = run.send(encode(built[index]))
        run.expect_success(ex, f"event {turn + 1} of {len(told.arrival)} of one coupon: {label}")
        if run.probe is not None and (told.all_applied or turn == 0):
            poll(lambda o=obs: run.probe.applied(run.vendor, o.key), lambda c: c >= 1, run.settle)
    assert ex is not None, f"story {name} of {run.vendor} delivers nothing"
    run.require_probe(f"all {len(told.arrival)} acknowledged")
    order = ", ".join(_label(seen[i]) for i in told.arrival)
    what = f"one coupon's events delivered as {order}"
    if told.all_applied:
        for index in told.arrival:
            _expect_count(run, seen[index], ex, f"{what}: distinct events, each applied once")
    run.expect_current(seen[told.holds], ex, what)
    return f"{what}; holds {_label(seen[told.holds])}"


def _label(obs: Any) -> str:
    return f"{obs.event_type}@{obs.order:g}" if obs.order is not None else f"{obs.event_type}"


def _expect_count(run: Run, obs: Any, ex: Exchange, what: str) -> None:
    probe = run.require_probe("acknowledged")
    count = poll(lambda: probe.applied(run.vendor, obs.key), lambda c: c >= 1, run.settle)
    if count != 1:
        times = "never" if count == 0 else f"{count} times"
        raise WrongState(
            f"applied {times}: {obs.event_type} with key {obs.key!r}",
            message(ex, f"event {obs.key!r} applied once ({what})", f"probe says applied {count}"),
        )


def idempotent_concurrent(run: Run) -> str:
    # Two connections, one event, sent at once: a check-then-apply without a lock applies it twice.
    body = first_body(run)
    raw = encode(body)
    other = Sender(run.target)
    start = threading.Barrier(2)
    answers: list[Exchange | None] = [None, None]

    def deliver(slot: int, sender: Sender) -> None:
        start.wait(timeout=10)
        answers[slot] = sender.send(raw)

    threads = [
        threading.Thread(target=deliver, args=(i, s)) for i, s in enumerate((run.sender, other))
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.close()
    for ex in answers:
        assert ex is not None, "a delivery thread ended without an exchange"
        run.expect_success(ex, "one of two deliveries of the same event arriving at the same time")
    run.require_probe("both deliveries acknowledged")
    run.expect_applied(
        body, answers[1], "one event delivered twice at the same time, on two connections"
    )  # type: ignore[arg-type]
    return "two simultaneous deliveries acknowledged, applied once"


def unknown_type_applies_nothing(run: Run) -> str:
    body = bodies.with_unknown_type(run.vendor, first_body(run), run.seed)
    ex = run.send(encode(body))
    kind = run.module.unknown_type
    run.expect_success(ex, f"an event of type {kind!r}, which {run.vendor} does not send yet")
    probe = run.require_probe(f"acknowledged with {ex.status}")
    for obs in run.module.observe(body):
        count = probe.applied(run.vendor, obs.key) if obs.key is not None else 0
        if count:
            raise WrongState(
                f"applied an event of the unknown type {kind!r}",
                message(
                    ex,
                    f"nothing applied: consumers dispatch on the event type, and {kind!r} is none "
                    f"they handle (whatever the rest of the body looks like)",
                    f"probe says event {obs.key!r} applied {count}",
                ),
            )
    return f"acknowledged {kind!r} with {ex.status}; nothing applied"


# --- batches -----------------------------------------------------------------------------------

BATCH_SIZES = ("1", "3", "configured", "100")


def batch_all_applied(run: Run, size: str = "3") -> str:
    count = run.target.batch_size if size == "configured" else int(size)
    body = bodies.batch(run.vendor, run.module.event_types[0].name, count, run.seed, run.extras)
    ex = run.send(encode(body))
    run.expect_success(ex, f"an envelope of {count} events")
    run.require_probe("acknowledged")
    run.expect_applied(body, ex, f"an envelope of {count} events (every one must be applied)")
    return f"all {count} events applied"


# --- what the vendor's profile says ------------------------------------------------------------


def success_code(run: Run) -> str:
    ex = run.send(encode(first_body(run)))
    if ex.status is None or not run.target.is_success(ex.status):
        got = "nothing" if ex.status is None else str(ex.status)
        raise WrongAnswer(
            f"answered {got}, which {run.vendor} does not count as delivered",
            message(
                ex, f"{run.success_text()}; anything else is a failed delivery, retried or dropped"
            ),
        )
    return f"answered {ex.status}"


def answers_get_verification(run: Run) -> str:
    if not run.target.verification_get:
        raise CaseSkipped(f"verification_get is off in the settings of {run.vendor}")
    ex, passed, _ = run.sender.verify()
    if not passed:
        raise WrongAnswer(
            f"answered {ex.status if ex.status is not None else 'nothing'} to the verification GET",
            message(
                ex,
                "200: the vendor activates a webhook only when this GET (same Authorization) answers 200",
            ),
        )
    return "answered 200"


# --- auth over the bytes, the URL and the header names -----------------------------------------


def _signing(run: Run) -> None:
    if not authn.signs_body(run.target.auth.type):
        raise CaseSkipped(
            f"the settings of {run.vendor} name no auth that signs the body (they name "
            f"{run.target.auth.type}): pass --config with the consumer's signing auth"
        )


def signature_covers_raw_bytes(run: Run) -> str:
    _signing(run)
    _, body = bodies.non_ascii(run.vendor, run.seed, run.extras)
    raw = bodies.reformatted(body)
    ex = run.send(raw)
    return run.expect_taken(
        body,
        ex,
        "a body signed over its bytes as sent, which are not the compact form a parser would "
        "write back (keys in another order, indented, non-ASCII as \\u escapes): check the "
        "signature over the raw bytes, before parsing",
        "a signed body in non-canonical bytes",
    )


QUERY = "coupon_emulator=1&shop=a%2Fb"


def signature_covers_query(run: Run) -> str:
    _signing(run)
    body = first_body(run)
    url = run.target.url + ("&" if "?" in run.target.url else "?") + QUERY
    ex = run.send(encode(body), url=url)
    return run.expect_taken(
        body,
        ex,
        "a request to a URL with a query string, signed over path and query as sent",
        "a signed request to a URL with a query string",
    )


def header_names_any_case(run: Run) -> str:
    if run.target.auth.type == "none":
        raise CaseSkipped(
            f"no auth configured for {run.vendor}: header names matter for the credentials; pass "
            f"--config with vendors.{run.vendor}.auth"
        )
    body = first_body(run)
    ex = run.send(encode(body), header_names=str.swapcase)
    return run.expect_taken(
        body,
        ex,
        "a request whose header names are in another casing (RFC 9110: case-insensitive)",
        "a request with header names in another casing",
    )


def rejects_replayed_digest(run: Run) -> str:
    if run.target.auth.type != "digest":
        raise CaseSkipped(
            f"the settings of {run.vendor} name {run.target.auth.type} auth, not digest: pass "
            f"--config with the consumer's Digest credentials"
        )
    first = run.send(encode(first_body(run)))
    run.expect_success(first, "a request with valid Digest credentials")
    value = authn.header(first.raw_headers, "Authorization")
    if value is None:
        raise CaseSkipped(f"the consumer took a request without Authorization ({first.got()})")
    et = run.module.event_types[-1]
    replayed = bodies.full(et, run.seed + 1, run.extras)
    ex = run.send(encode(replayed), headers=first.raw_headers)
    expected = (
        "401: a nonce count used once must not be accepted again (RFC 7616), and nothing applied"
    )
    run.expect_refused(ex, "a replayed Digest Authorization (same nonce and nonce count)", expected)
    probe = run.require_probe(f"refused with {ex.status}")
    for obs in run.module.observe(replayed):
        count = probe.applied(run.vendor, obs.key) if obs.key is not None else 0
        if count:
            raise WrongState(
                "applied a request with a replayed Digest Authorization",
                message(ex, expected, f"{ex.got()}; probe says applied {count}"),
            )
    return f"refused the replay with {ex.status}; nothing applied"


# --- bodies that break naive readers -----------------------------------------------------------


def large_ids(run: Run) -> str:
    et = run.module.event_types[0]
    body = bodies.large_ids(et, bodies.full(et, run.seed, run.extras), run.seed)
    ex = run.send(encode(body))
    run.expect_success(ex, "a valid event whose integer ids are above 2**53 (int64, as documented)")
    run.require_probe(f"answered {ex.status}")
    run.expect_applied(body, ex, "ids above 2**53: read them as integers, never as floats")
    ids = [o.coupon_id for o in run.module.observe(body)]
    return f"answered {ex.status}; coupon {', '.join(map(str, ids))} held exactly"


def accepts_arbitrary_keys(run: Run) -> str:
    body = bodies.arbitrary_keys(run.vendor, first_body(run))
    ex = run.send(encode(body))
    return run.expect_taken(
        body,
        ex,
        "a valid event with keys of the sender's choosing (spaces, dots, '$', non-ASCII, 125 "
        "characters) whose values are of every JSON type",
        "an event with arbitrary attribute keys",
    )


def accepts_non_ascii(run: Run) -> str:
    et, body = bodies.non_ascii(run.vendor, run.seed, run.extras)
    ex = run.send(encode(body))
    return run.expect_taken(
        body,
        ex,
        f"a valid {et.name} with non-ASCII text (UTF-8) in its string fields",
        "an event with non-ASCII text",
    )
