"""The response parser, byte by byte, against h11 as the oracle.

Each answer is fed whole and one byte at a time; our reading (status, headers, body, or a refusal)
must be h11's. Where we mean to differ from h11 (a body size cap, never reusing a connection after
stray bytes, reading an unknown transfer coding until close) the case says so and pins our answer.
"""

from __future__ import annotations

import h11
import pytest

from emulator.delivery.http11 import MAX_HEAD, ProtocolError, Response, ResponseReader

OK, ERROR, INCOMPLETE = "ok", "error", "incomplete"

# (id, method, bytes, the peer closes after them)
AGREED = [
    ("content-length", "POST", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", False),
    ("no-reason-phrase", "POST", b"HTTP/1.1 202\r\nContent-Length: 0\r\n\r\n", False),
    ("connection-close", "POST", b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", False),
    ("http-1.0", "POST", b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", False),
    ("until-close", "POST", b"HTTP/1.1 200 OK\r\n\r\nthe body runs to the close", True),
    ("chunked", "POST", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", False),
    ("chunk-extensions", "POST", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;name=value\r\nabc\r\n0;last\r\n\r\n", False),
    ("chunked-trailers", "POST", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n", False),
    ("chunk-size-upper-hex", "POST", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", False),
    ("204-no-body", "POST", b"HTTP/1.1 204 No Content\r\n\r\n", False),
    ("304-ignores-length", "GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", False),
    ("head-ignores-length", "HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", False),
    ("100-continue-first", "POST", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", False),
    ("103-early-hints-first", "POST", b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("bare-lf-head", "POST", b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", False),
    ("mixed-line-ends", "POST", b"HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nok", False),
    ("repeated-header", "POST", b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nWWW-Authenticate: Digest realm=x\r\nContent-Length: 0\r\n\r\n", False),
    ("value-whitespace", "POST", b"HTTP/1.1 200 OK\r\nX-A: \t padded \t\r\nContent-Length: 0\r\n\r\n", False),
    ("obs-fold", "POST", b"HTTP/1.1 200 OK\r\nX-Folded: one\r\n two\r\nContent-Length: 0\r\n\r\n", False),
    ("negative-length", "POST", b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nabc", False),
    ("plus-length", "POST", b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", False),
    ("letters-length", "POST", b"HTTP/1.1 200 OK\r\nContent-Length: two\r\n\r\nok", False),
    ("unequal-lengths", "POST", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", False),
    ("two-digit-status", "POST", b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("four-digit-status", "POST", b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", False),
    ("not-http", "POST", b"SSH-2.0-OpenSSH_9.2\r\n\r\n", False),
    ("http-2-preface", "POST", b"HTTP/2 200\r\n\r\n", False),
    ("header-without-colon", "POST", b"HTTP/1.1 200 OK\r\nJunk\r\nContent-Length: 0\r\n\r\n", False),
    ("space-before-colon", "POST", b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", False),
    ("nul-in-value", "POST", b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n", False),
    ("bad-chunk-size", "POST", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", False),
    ("chunk-longer-than-size", "POST", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n", False),
    ("closed-mid-body", "POST", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", True),
    ("closed-mid-chunks", "POST", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", True),
    ("closed-mid-head", "POST", b"HTTP/1.1 200 OK\r\nContent-Le", True),
    ("closed-before-trailers-end", "POST", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n", True),
]  # fmt: skip


def h11_reading(method: str, raw: bytes, closes: bool) -> tuple:
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    conn.send(
        h11.Request(method=method, target="/", headers=[("Host", "h"), ("Content-Length", "0")])
    )
    conn.send(h11.EndOfMessage())
    conn.receive_data(raw)
    if closes:
        conn.receive_data(b"")
    status, headers, body = 0, {}, b""
    try:
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                return (INCOMPLETE,)
            if isinstance(event, h11.Response):
                status = event.status_code
                for name, value in event.headers:
                    key = name.decode("latin-1")
                    text = value.decode("latin-1")
                    headers[key] = f"{headers[key]}, {text}" if key in headers else text
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return (OK, status, headers, body)
    except h11.RemoteProtocolError:
        return (ERROR,)


def our_reading(method: str, raw: bytes, closes: bool, step: int | None) -> tuple:
    reader = ResponseReader(method)
    pieces = [raw] if step is None else [raw[i : i + step] for i in range(0, len(raw), step)]
    try:
        response = None
        for piece in pieces:
            response = reader.feed(piece)
            if response is not None:
                break
        if response is None and closes:
            response = reader.eof()
    except ProtocolError:
        return (ERROR,)
    except ConnectionResetError:
        return (ERROR,) if closes else (INCOMPLETE,)
    if response is None:
        return (INCOMPLETE,)
    return (OK, response.status, _lowered(response), response.body)


def _lowered(response: Response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


@pytest.mark.parametrize(
    ("method", "raw", "closes"), [c[1:] for c in AGREED], ids=[c[0] for c in AGREED]
)
@pytest.mark.parametrize("step", [None, 1], ids=["whole", "byte-by-byte"])
def test_we_read_every_answer_as_h11_does(method, raw, closes, step):
    expected = h11_reading(method, raw, closes)
    # h11 reports a closed connection mid-message as a protocol error; so do we.
    assert our_reading(method, raw, closes, step) == expected


def test_the_oracle_is_not_trivially_agreeable():
    """Guard: the cases cover answers read fine, refused, and cut short."""
    outcomes = {h11_reading(m, r, c)[0] for _, m, r, c in AGREED}
    assert outcomes == {OK, ERROR}
    assert h11_reading("POST", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", False) == (
        INCOMPLETE,
    )


def test_a_chunked_answer_completes_only_with_the_empty_line_after_its_trailers():
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: 1\r\n\r\n"
    reader = ResponseReader("POST")
    answers = [reader.feed(raw[i : i + 1]) for i in range(len(raw))]
    assert answers[:-1] == [None] * (len(raw) - 1)
    assert answers[-1] == Response(200, {"Transfer-Encoding": "chunked"}, b"a", True)


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n",  # bytes nobody asked for
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    ],
    ids=["stray-bytes-after", "framed-twice"],
)
def test_a_connection_with_stray_or_doubly_framed_bytes_is_never_reused(raw):
    response = ResponseReader("POST").feed(raw)
    assert response is not None
    assert response.body == b"ok"
    assert response.keep_alive is False


def test_an_unknown_transfer_coding_is_read_until_close():
    """RFC 9112 6.3: a response whose last coding is not chunked runs until the close (h11
    refuses it; a consumer behind a compressing proxy should still be judged by its status)."""
    reader = ResponseReader("POST")
    assert reader.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b") is None
    response = reader.eof()
    assert (response.status, response.body, response.keep_alive) == (200, b"\x1f\x8b", False)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_long_body_is_read_to_its_end_but_only_its_start_is_kept(chunked):
    size, cap = 50_000, 1_000
    if chunked:
        raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        raw += b"".join(b"%x\r\n%s\r\n" % (1000, b"x" * 1000) for _ in range(size // 1000))
        raw += b"0\r\n\r\n"
    else:
        raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (size, b"x" * size)
    reader = ResponseReader("POST", max_body=cap)
    response = None
    for i in range(0, len(raw), 4096):
        assert response is None
        response = reader.feed(raw[i : i + 4096])
    assert response is not None
    assert (len(response.body), response.truncated, response.keep_alive) == (cap, True, True)
    assert reader.buffer == bytearray()


def test_chunk_lines_ended_by_a_bare_lf_are_read_too():
    """h11 waits for CRLF here forever (the delivery would time out); RFC 9112 2.2 lets a recipient
    take a bare LF as a line end, and we do, as in the head."""
    raw = b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n"
    assert h11_reading("POST", raw, False) == (INCOMPLETE,)
    assert our_reading("POST", raw, False, 1) == (OK, 200, {"transfer-encoding": "chunked"}, b"ok")


def test_a_listed_content_length_of_equal_values_frames_the_body_and_shows_as_received():
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"
    assert h11_reading("POST", raw, False)[3] == b"ok"
    assert our_reading("POST", raw, False, None) == (OK, 200, {"content-length": "2, 2"}, b"ok")


def test_a_head_longer_than_the_cap_is_refused():
    """h11 takes a whole head of any size once it has arrived; we refuse one over MAX_HEAD, so a
    consumer streaming headers can't make the dispatcher buffer without end."""
    raw = b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (MAX_HEAD + 10) + b"\r\nContent-Length: 0\r\n\r\n"
    assert h11_reading("POST", raw, False)[0] == OK
    assert our_reading("POST", raw, False, None) == (ERROR,)
    assert our_reading("POST", raw[: MAX_HEAD + 5], False, None) == (ERROR,)


def test_a_repeated_head_reads_the_same_each_time_and_a_bad_one_is_refused_each_time():
    """Heads are parsed once per distinct bytes (``http11._head``): the same bytes read alike on
    every connection, and a refused head is refused again rather than remembered as read."""
    good = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Seen: 1\r\n\r\nok"
    first, second = (ResponseReader("POST").feed(good) for _ in range(2))
    assert first == second == Response(200, {"Content-Length": "2", "X-Seen": "1"}, b"ok", True)
    bad = b"HTTP/1.1 200 OK\r\nBad Header\r\nContent-Length: 0\r\n\r\n"
    for _ in range(2):
        with pytest.raises(ProtocolError):
            ResponseReader("POST").feed(bad)
