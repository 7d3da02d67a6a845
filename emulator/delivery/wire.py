"""One non-blocking client connection: connect, TLS handshake, upload and answer, as steps the
dispatcher's loop takes when a socket is ready, so no step ever waits on a peer.

``Connection.step`` is called for every readiness event and says what the loop must watch next.
The answer is read while the request is still uploading: a consumer that refuses early (413, then
close) is heard before the broken pipe, and that answer is the one judged.
"""

from __future__ import annotations

import errno
import functools
import os
import selectors
import socket
import ssl

from emulator.delivery.http11 import ProtocolError, Response, ResponseReader

READ_SIZE = 65536
SEND_SIZE = 1 << 20  # bytes handed to the kernel (or TLS) per send call

CONNECTING, HANDSHAKING, SENDING, READING, IDLE = range(5)
READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


class WireError(Exception):
    """The exchange ended without a (valid) answer. ``answered`` says whether any byte of the answer
    arrived (then the request must not be sent again on another connection)."""

    def __init__(self, message: str, *, answered: bool, refused: bool = False) -> None:
        super().__init__(message)
        self.answered = answered
        self.refused = refused  # the connection was never established


@functools.lru_cache(maxsize=64)
def resolve(host: str, port: int) -> tuple[int, tuple]:
    """(family, address) of a host, resolved once per process: name lookups block, so they are
    done once per host rather than per connection."""
    family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    return family, sockaddr


class Connection:
    """A socket to one (scheme, host, port), reused for request after request (keep-alive)."""

    __slots__ = (
        "answered",
        "events",
        "exchange",
        "key",
        "out",
        "reader",
        "sent",
        "sock",
        "state",
        "tls",
        "used",
        "watching",
    )  # fmt: skip

    def __init__(self, key: tuple[str, str, int], context: ssl.SSLContext | None) -> None:
        _, host, port = key
        self.key = key
        self.tls = context
        family, sockaddr = resolve(host, port)
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        code = sock.connect_ex(sockaddr)
        if code not in (0, errno.EINPROGRESS, errno.EAGAIN, errno.EWOULDBLOCK):
            sock.close()
            raise WireError(_refusal(code, key), answered=False, refused=True)
        self.sock: socket.socket = sock
        self.state = CONNECTING
        self.used = False  # True once it carried a whole exchange: a reuse may find it closed
        self.exchange: object | None = None
        self.reader: ResponseReader | None = None
        self.out = memoryview(b"")
        self.sent = 0
        self.answered = False
        self.events = WRITE
        self.watching = 0  # the events the selector watches for it (0: not registered)

    def begin(self, wire: bytes, reader: ResponseReader) -> int:
        """Start one request; the events to watch. On a fresh connection it waits for connect."""
        self.out = memoryview(wire)
        self.sent = 0
        self.reader = reader
        self.answered = False
        if self.state == IDLE:
            self.state = SENDING
            return self._send()
        return self.events

    def step(self, mask: int) -> Response | None:
        """Move on after a readiness event: the answer once complete, else None (``events`` says
        what to watch next). Raises ``WireError`` when the exchange failed."""
        state = self.state
        if state == CONNECTING:
            self._connected()
            return None
        if state == HANDSHAKING:
            self._handshake()
            return None
        response = None
        if mask & READ:
            response = self._receive()
            if response is not None:
                return response
        if self.state == SENDING and mask & WRITE:
            self._send()
        return response

    def close(self) -> None:
        self.sock.close()

    # Steps

    def _connected(self) -> None:
        code = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            raise WireError(_refusal(code, self.key), answered=False, refused=True)
        if self.tls is not None:
            self.sock = self.tls.wrap_socket(
                self.sock, server_hostname=self.key[1], do_handshake_on_connect=False
            )
            self.state = HANDSHAKING
            self._handshake()
            return
        self.state = SENDING
        self._send()

    def _handshake(self) -> None:
        try:
            self.sock.do_handshake()  # type: ignore[attr-defined]
        except ssl.SSLWantReadError:
            self.events = READ
            return
        except ssl.SSLWantWriteError:
            self.events = WRITE
            return
        except ssl.SSLError as exc:
            raise WireError(f"TLS handshake failed: {exc}", answered=False, refused=True) from exc
        except OSError as exc:
            raise WireError(f"TLS handshake failed: {_describe(exc)}", answered=False) from exc
        self.state = SENDING
        self._send()

    def _send(self) -> int:
        out, sock = self.out, self.sock
        try:
            while self.sent < len(out):
                self.sent += sock.send(out[self.sent : self.sent + SEND_SIZE])
        except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            self.events = READ | WRITE  # keep listening: the answer may come before the upload ends
            return self.events
        except OSError as exc:
            return self._send_failed(exc)
        self.state = READING
        self.events = READ
        return READ

    def _send_failed(self, exc: OSError) -> int:
        """The peer stopped taking the body: what it answered first, if anything, is the answer."""
        self.state = READING
        self.events = READ
        response = self._drain()
        if response is not None:
            raise EarlyAnswer(response)
        where = f"after {self.sent:,} of {len(self.out):,} bytes of the request"
        raise WireError(f"{_describe(exc)} {where}", answered=self.answered) from exc

    def _drain(self) -> Response | None:
        """Whatever the peer sent before it went away, read without waiting."""
        reader = self.reader
        assert reader is not None
        try:
            while True:
                data = self.sock.recv(READ_SIZE)
                if not data:
                    return reader.eof() if self.answered else None
                self.answered = True
                response = reader.feed(data)
                if response is not None:
                    return response
        except (OSError, ProtocolError):
            return None

    def _receive(self) -> Response | None:
        reader = self.reader
        assert reader is not None
        sock = self.sock
        try:
            data = sock.recv(READ_SIZE)
            if self.tls is not None:
                while data and sock.pending():  # type: ignore[attr-defined]
                    data += sock.recv(READ_SIZE)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return None
        except OSError as exc:
            raise WireError(_describe(exc), answered=self.answered) from exc
        try:
            if not data:
                return reader.eof()
            self.answered = True
            return reader.feed(data)
        except ConnectionResetError as exc:
            raise WireError(str(exc), answered=self.answered) from exc
        except ProtocolError as exc:
            raise WireError(f"invalid answer: {exc}", answered=True) from exc

    def finished(self, response: Response) -> bool:
        """The exchange is over; whether the connection may carry the next request."""
        self.exchange = None
        self.reader = None
        self.used = True
        reusable = response.keep_alive and self.sent == len(self.out)
        self.out = memoryview(b"")
        if reusable:
            self.state = IDLE
            self.events = READ  # an idle socket that turns readable was closed by the server
        return reusable


class EarlyAnswer(Exception):
    """An answer that arrived before the upload ended: the one to judge."""

    def __init__(self, response: Response) -> None:
        super().__init__("answered early")
        self.response = response


def _refusal(code: int, key: tuple[str, str, int]) -> str:
    name = errno.errorcode.get(code, str(code))
    return f"cannot connect to {key[1]}:{key[2]}: [{name}] {os.strerror(code)}"


def _describe(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc}"
