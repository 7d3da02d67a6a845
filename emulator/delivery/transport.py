"""Blocking HTTP/1.1 transport over keep-alive sockets, for one-off requests and tests.

The dispatcher drives many connections from one event loop instead (``dispatcher.py``); both
write and parse HTTP with ``http11``.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from emulator.core.errors import EmulatorError
from emulator.delivery.http11 import ProtocolError, Response, ResponseReader, address, request_bytes

READ_SIZE = 65536

__all__ = ["HttpTransport", "Request", "Response", "TransportError", "connect"]


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    timeout: float


class TransportError(EmulatorError):
    """No (valid) HTTP answer: ``kind`` is ``"timeout"`` or ``"connection"``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def connect(
    key: tuple[str, str, int], timeout: float, context: ssl.SSLContext | None = None
) -> socket.socket:
    """A connected socket (TLS for https), Nagle off: requests go out in one write."""
    scheme, host, port = key
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if scheme == "https":
        sock = (context or ssl.create_default_context()).wrap_socket(sock, server_hostname=host)
    return sock


class HttpTransport:
    """Keeps one connection per (scheme, host, port); not thread-safe: one instance per thread."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._connections: dict[tuple[str, str, int], socket.socket] = {}
        self._ssl = ssl_context

    def send(self, request: Request) -> Response:
        key = address(request.url)[0]
        wire = request_bytes(request.method, request.url, request.headers, request.body)
        # A kept-alive connection may have been closed by the server meanwhile: when a reused one
        # fails before any byte of the answer, retry once on a fresh connection.
        reused = key in self._connections
        while True:
            try:
                sock = self._connections.get(key)
                if sock is None:
                    sock = self._connections[key] = connect(key, request.timeout, self._ssl)
                sock.settimeout(request.timeout)
                sock.sendall(wire)
                response = self._read(sock, request.method)
            except TimeoutError as exc:
                self._drop(key)
                raise TransportError("timeout", f"no answer within {request.timeout:g}s") from exc
            except (ConnectionResetError, BrokenPipeError) as exc:
                self._drop(key)
                if reused:
                    reused = False
                    continue
                raise TransportError("connection", f"connection lost: {exc}") from exc
            except (OSError, ProtocolError) as exc:
                self._drop(key)
                raise TransportError("connection", f"{type(exc).__name__}: {exc}") from exc
            if not response.keep_alive:
                self._drop(key)
            return response

    @staticmethod
    def _read(sock: socket.socket, method: str) -> Response:
        reader = ResponseReader(method)
        while True:
            data = sock.recv(READ_SIZE)
            if not data:
                return reader.eof()
            response = reader.feed(data)
            if response is not None:
                return response

    def _drop(self, key: tuple[str, str, int]) -> None:
        sock = self._connections.pop(key, None)
        if sock is not None:
            sock.close()

    def close(self) -> None:
        for key in list(self._connections):
            self._drop(key)
