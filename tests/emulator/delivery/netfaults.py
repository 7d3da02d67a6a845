"""Consumers that misbehave on purpose, on real loopback sockets, and a dispatcher driven by hand."""

from __future__ import annotations

import contextlib
import random
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import h11

from emulator.core.plan import simple_plan
from emulator.delivery.clock import SYSTEM, Clock
from emulator.delivery.dispatcher import Dispatcher
from emulator.delivery.runner import envelopes
from emulator.readers import config


def poll(condition: Callable[[], object], deadline: float, what: str) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def start(outbox, raw: dict, plan: list[tuple[str, str, int]], *, clock: Clock = SYSTEM,
          workers: int = 4, seed: int = 1) -> tuple[Dispatcher, int]:  # fmt: skip
    """Store ``(vendor, event, count)`` deliveries and hand them to a running dispatcher."""
    settings = config.parse(raw, source="test")
    planned = simple_plan([(v, e, n, 0.0) for v, e, n in plan], seed, datetime.now(UTC))
    run_id = outbox.create_run("test", raw)
    stored = outbox.enqueue(run_id, list(envelopes(planned, settings, clock.now())))
    dispatcher = Dispatcher(outbox, settings, workers=workers, clock=clock).start()
    dispatcher.submit(stored)
    return dispatcher, run_id


def reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a crashing consumer does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class _Listener:
    """A loopback listener accepting in a thread of its own; ``_on_accept(sock)`` takes each
    connection. ``close`` stops it and closes every connection it accepted."""

    def __init__(self, port: int = 0) -> None:
        self._server = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _on_accept(self, sock: socket.socket) -> None:
        """A new connection (kept open until ``close``)."""

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._sockets.append(sock)
            self._on_accept(sock)


class Consumer(_Listener):
    """A threaded HTTP/1.1 consumer (h11 reads the requests) that answers each request per
    ``choose(method, path, body) -> mode``: an int status, ``"reset"`` (reset after reading the
    request), ``"hold"`` (never answer), ``"partial"`` (a status line, then a reset). Every request
    it read is in ``seen`` as ``(method, path, body, mode)``."""

    def __init__(self, choose: Callable[[str, str, bytes], object], port: int = 0) -> None:
        self.choose = choose
        self.seen: list[tuple[str, str, bytes, object]] = []
        self.lock = threading.Lock()
        self.open_requests = 0
        self.most_open = 0
        super().__init__(port)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _on_accept(self, sock: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        conn = h11.Connection(h11.SERVER)
        with contextlib.suppress(OSError, h11.ProtocolError):
            while True:
                request, body = self._read(sock, conn)
                if request is None:
                    sock.close()
                    return
                method, path = request.method.decode(), request.target.decode()
                mode = self.choose(method, path, body)
                with self.lock:
                    self.seen.append((method, path, body, mode))
                    self.open_requests += 1
                    self.most_open = max(self.most_open, self.open_requests)
                try:
                    if mode == "reset":
                        reset(sock)
                        return
                    if mode == "partial":
                        sock.sendall(b"HTTP/1.1 200 OK\r\n")
                        reset(sock)
                        return
                    if mode == "hold":
                        while sock.recv(65536):  # until the client gives up
                            pass
                        sock.close()
                        return
                    answer = h11.Response(status_code=int(mode), headers=[("Content-Length", "0")])
                    sock.sendall(conn.send(answer) + conn.send(h11.EndOfMessage()))
                    conn.start_next_cycle()
                finally:
                    with self.lock:
                        self.open_requests -= 1

    @staticmethod
    def _read(sock: socket.socket, conn: h11.Connection) -> tuple[h11.Request | None, bytes]:
        request, body = None, b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = sock.recv(65536)
                conn.receive_data(data)
                if not data and request is None:
                    return None, b""
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return request, body
            elif isinstance(event, h11.ConnectionClosed):
                return None, b""


class Silent(_Listener):
    """Accepts TCP connections and never sends a byte (neither HTTP nor a TLS handshake)."""

    @property
    def accepted(self) -> int:
        """Connections accepted so far."""
        return len(self._sockets)


class BlackHole:
    """Listens and never accepts; its backlog fills, after which connections hang in SYN_SENT."""

    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(0)
        self.port = self._server.getsockname()[1]

    def close(self) -> None:
        self._server.close()


def free_port() -> int:
    """A port nothing listens on (yet): connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- TLS -------------------------------------------------------------------------------------


def make_pki(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 signed by it, and a client certificate, made with
    the openssl command line (PEM files in ``folder``)."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, subject, extra in (
        ("server", "/CN=127.0.0.1", ["-extfile", "san.ext"]),
        ("client", "/CN=emulator-client", []),
    ):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", f"{name}.key",
            "-out", f"{name}.csr")  # fmt: skip
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.pem", *extra)  # fmt: skip
    return {p.stem + p.suffix: p for p in folder.iterdir()}


class TlsConsumer(_Listener):
    """An https consumer answering 200 to every request; ``client_ca`` set: mutual TLS, a client
    certificate signed by it is required. ``peers`` holds each client certificate's subject CN."""

    def __init__(self, cert: Path, key: Path, client_ca: Path | None = None) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        if client_ca is not None:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(client_ca)
        self.peers: list[str | None] = []
        self.requests = 0
        self.handshake_errors: list[str] = []
        super().__init__()

    def url(self, path: str = "/hooks") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def _on_accept(self, sock: socket.socket) -> None:
        threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        try:
            sock = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.handshake_errors.append(str(exc))
            raw.close()
            return
        cert = sock.getpeercert()
        subject = dict(item[0] for item in cert["subject"]) if cert else {}
        self.peers.append(subject.get("commonName"))
        conn = h11.Connection(h11.SERVER)
        with contextlib.suppress(OSError, h11.ProtocolError), sock:
            while True:
                request, _ = Consumer._read(sock, conn)
                if request is None:
                    return
                self.requests += 1
                answer = h11.Response(status_code=200, headers=[("Content-Length", "0")])
                sock.sendall(conn.send(answer) + conn.send(h11.EndOfMessage()))
                conn.start_next_cycle()


def early_refusal_server(status_line: bytes = b"HTTP/1.1 413 Payload Too Large") -> socket.socket:
    """Reads a request's head only, answers ``status_line`` and closes with the body unread (the
    kernel then resets the connection), as nginx does with client_max_body_size."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                sock, _ = server.accept()
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                sock.sendall(status_line + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                sock.close()

    threading.Thread(target=serve, daemon=True).start()
    return server


def random_modes(seed: int, rate: float, modes: tuple[object, ...]) -> Callable[..., object]:
    """Fails ``rate`` of the requests at random (seeded), each with one of ``modes``; else 200."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def choose(method: str, path: str, body: bytes) -> object:
        with lock:
            return rng.choice(modes) if rng.random() < rate else 200

    return choose
