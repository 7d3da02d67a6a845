"""What reading answers with h11 would cost a delivery, beside our own parser, in the same run.

    python benchmarks/http_parsing.py [--repeat 5] [--number 20000]

Both read the same typical answers (an nginx-style 200 with a small JSON body; a chunked 202) and
serialise the same signed request. h11 is timed at its best: one Connection per socket, reused with
``start_next_cycle``. The last line puts the difference beside a whole delivery's budget: the
``http.client`` keep-alive loop that benchmarks/delivery.py measures is about 10,000 requests/s on
this machine, 100 us each, and the delivery goal is to match it. tests/emulator/delivery/
test_http11.py checks that both parsers read every answer the same way.
"""

from __future__ import annotations

import argparse
import timeit

import h11

from emulator.delivery.http11 import ResponseReader, request_bytes

ANSWERS = {
    "200 content-length": (
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 22:00:00 GMT\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}"
    ),
    "202 chunked": (
        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
        b'Transfer-Encoding: chunked\r\n\r\n10\r\n{"queued": true}\r\n0\r\n\r\n'
    ),
}
URL = "http://127.0.0.1:9000/hooks/punchh"
HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "coupon-emulator/0.1.0",
    "x-pch-digest": "0" * 64,
    "Authorization": "Signature keyId=acme,signature=abc",
}
BODY = b"x" * 700
BUDGET_US = 100.0  # one delivery at the http.client loop's rate (benchmarks/delivery.py)


def ours(raw: bytes):
    def read():
        ResponseReader("POST").feed(raw)

    return read


def theirs(raw: bytes):
    conn = h11.Connection(h11.CLIENT)
    request = h11.Request(
        method="POST", target="/", headers=[("Host", "h"), ("Content-Length", "0")]
    )

    def read():
        conn.send(request)
        conn.send(h11.EndOfMessage())
        conn.receive_data(raw)
        while not isinstance(conn.next_event(), h11.EndOfMessage):
            pass
        conn.start_next_cycle()

    return read


def our_request():
    request_bytes("POST", URL, HEADERS, BODY)


def their_request():
    conn = h11.Connection(h11.CLIENT)
    fields = [("Host", "127.0.0.1:9000"), *HEADERS.items(), ("Content-Length", str(len(BODY)))]
    conn.send(h11.Request(method="POST", target="/hooks/punchh", headers=fields))
    conn.send(h11.Data(data=BODY))
    conn.send(h11.EndOfMessage())


def per_call_us(func, number: int, repeat: int) -> float:
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    print(f"{'per call':<28}{'ours':>10}{'h11':>10}{'ratio':>8}")
    extra = 0.0
    for name, raw in ANSWERS.items():
        a = per_call_us(ours(raw), args.number, args.repeat)
        b = per_call_us(theirs(raw), args.number, args.repeat)
        extra = max(extra, b - a)
        print(f"{'read ' + name:<28}{a:>8.1f}us{b:>8.1f}us{b / a:>7.1f}x")
    a = per_call_us(our_request, args.number, args.repeat)
    b = per_call_us(their_request, args.number, args.repeat)
    print(f"{'write a signed request':<28}{a:>8.1f}us{b:>8.1f}us{b / a:>7.1f}x")
    extra += b - a
    print(
        f"h11 for both would add {extra:.1f} us per delivery: {extra / BUDGET_US:.0%} of the "
        f"{BUDGET_US:.0f} us a delivery may take to match the http.client loop"
    )


if __name__ == "__main__":
    main()
