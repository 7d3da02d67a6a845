"""HTTP/1.1 on the wire, with no I/O: request bytes out, response bytes in (incrementally).

Both the blocking transport and the dispatcher's event loop use these, so there is one parser.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    keep_alive: bool = True


class ProtocolError(ValueError):
    """The peer's bytes are not a valid HTTP/1.1 answer."""


@functools.lru_cache(maxsize=256)
def address(url: str) -> tuple[tuple[str, str, int], str, str]:
    """(scheme, host, port), request target and Host header of a URL; targets repeat, so cached."""
    parts = urlsplit(url)
    scheme, host = parts.scheme, parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return (scheme, host, port), target, parts.netloc.rpartition("@")[2]


def request_bytes(method: str, url: str, headers: dict[str, str], body: bytes) -> bytes:
    """One request, head and body, ready for a single ``sendall``."""
    _, target, host = address(url)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise ValueError(f"header {name!r} contains a line break")
        lines.append(f"{name}: {value}")
    if method != "GET" or body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ResponseReader:
    """Feed it bytes as they arrive; it returns the response once complete.

    Framing: none for HEAD, 1xx, 204 and 304; then chunked; then Content-Length; else the body
    runs until the connection closes (``eof``).
    """

    def __init__(self, method: str) -> None:
        self.method = method
        self.buffer = bytearray()
        self._head: tuple[int, dict[str, str], dict[str, str], bool] | None = None

    def feed(self, data: bytes) -> Response | None:
        self.buffer += data
        while self._head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    raise ProtocolError("response head too long")
                return None
            head = self._parse_head(bytes(self.buffer[:end]))
            del self.buffer[: end + 4]
            if 100 <= head[0] < 200:
                continue  # an interim answer (100 Continue): the real one follows
            self._head = head
        status, headers, lowered, keep = self._head
        if self.method == "HEAD" or status in (204, 304):
            return Response(status, headers, b"", keep)
        if "chunked" in lowered.get("transfer-encoding", "").lower():
            body = _dechunk(self.buffer)
            return None if body is None else Response(status, headers, body, keep)
        if "content-length" in lowered:
            try:
                length = int(lowered["content-length"])
            except ValueError:
                raise ProtocolError(f"bad Content-Length {lowered['content-length']!r}") from None
            if len(self.buffer) < length:
                return None
            return Response(status, headers, bytes(self.buffer[:length]), keep)
        return None  # delimited by the connection's close

    def eof(self) -> Response:
        """The peer closed: the answer, if the bytes so far make a whole one."""
        if self._head is not None:
            status, headers, lowered, _ = self._head
            framed = "content-length" in lowered or "chunked" in lowered.get(
                "transfer-encoding", ""
            )
            if not framed:
                return Response(status, headers, bytes(self.buffer), False)
        raise ConnectionResetError("the server closed the connection before a complete answer")

    @staticmethod
    def _parse_head(raw: bytes) -> tuple[int, dict[str, str], dict[str, str], bool]:
        lines = raw.split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        if not version.startswith(b"HTTP/") or len(rest) < 3 or not rest[:3].isdigit():
            raise ProtocolError(f"not an HTTP answer: {lines[0][:60]!r}")
        headers: dict[str, str] = {}
        lowered: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
            lowered[name.lower()] = headers[name]
        connection = lowered.get("connection", "").lower()
        keep = "close" not in connection and (version != b"HTTP/1.0" or "keep-alive" in connection)
        return int(rest[:3]), headers, lowered, keep


def _dechunk(buffer: bytearray) -> bytes | None:
    """The body of a complete chunked message in ``buffer``, or None while it is incomplete."""
    parts = []
    at = 0
    while True:
        end = buffer.find(b"\r\n", at)
        if end < 0:
            return None
        try:
            size = int(bytes(buffer[at:end]).split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolError("bad chunk size") from None
        at = end + 2
        if size == 0:
            # Trailers, if any, end with an empty line.
            return b"".join(parts) if buffer.find(b"\r\n", at) >= 0 else None
        if len(buffer) < at + size + 2:
            return None
        parts.append(bytes(buffer[at : at + size]))
        at += size + 2
