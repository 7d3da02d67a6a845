"""The HTTP transport against a real server on loopback: framing, keep-alive, errors."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from werkzeug import Response as WzResponse

from emulator.delivery.transport import HttpTransport, Request, TransportError


def post(url: str, body: bytes = b"{}", headers=None, timeout: float = 5) -> Request:
    return Request(
        "POST", url, {"Content-Type": "application/json", **(headers or {})}, body, timeout
    )


def test_posts_body_and_headers_and_reads_a_sized_answer(httpserver):
    httpserver.expect_request(
        "/hooks", method="POST", data=b'{"a":1}', headers={"X-Test": "yes"}
    ).respond_with_data("accepted", status=202, headers={"X-Reply": "1"})
    response = HttpTransport().send(
        post(httpserver.url_for("/hooks"), b'{"a":1}', {"X-Test": "yes"})
    )
    assert response.status == 202
    assert response.body == b"accepted"
    assert response.headers["X-Reply"] == "1"
    httpserver.check_assertions()


def test_reads_a_chunked_answer(httpserver):
    def chunked(_request):
        return WzResponse(iter([b"hello ", b"world"]), status=200)  # no length: chunked

    httpserver.expect_request("/c").respond_with_handler(chunked)
    response = HttpTransport().send(post(httpserver.url_for("/c")))
    assert response.body == b"hello world"


class _KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: ClassVar[set[tuple[str, int]]] = set()

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).connections.add(self.client_address)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_reuses_one_connection_for_many_requests():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        transport = HttpTransport()
        url = f"http://127.0.0.1:{server.server_port}/k"
        assert [transport.send(post(url)).status for _ in range(5)] == [204] * 5
        assert len(_KeepAliveHandler.connections) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_closing_each_connection_is_followed(httpserver):
    httpserver.expect_request("/k").respond_with_data(
        "", status=204, headers={"Connection": "close"}
    )
    transport = HttpTransport()
    assert [transport.send(post(httpserver.url_for("/k"))).status for _ in range(3)] == [204] * 3
    assert len(httpserver.log) == 3


def test_query_string_is_sent(httpserver):
    httpserver.expect_request("/q", query_string="a=1&b=2").respond_with_data("ok")
    assert HttpTransport().send(post(httpserver.url_for("/q") + "?a=1&b=2")).status == 200


def test_connection_refused_is_a_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransportError) as info:
        HttpTransport().send(post(f"http://127.0.0.1:{port}/x"))
    assert info.value.kind == "connection"


def test_a_server_that_never_answers_is_a_timeout():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True)
    thread.start()
    try:
        with pytest.raises(TransportError) as info:
            HttpTransport().send(post(f"http://127.0.0.1:{server.getsockname()[1]}/x", timeout=0.2))
        assert info.value.kind == "timeout"
    finally:
        server.close()


def test_header_values_with_line_breaks_are_refused_not_sent(httpserver):
    with pytest.raises(ValueError, match="line break"):
        HttpTransport().send(post(httpserver.url_for("/x"), headers={"X-Evil": "a\r\nInjected: 1"}))
    assert httpserver.log == []
