"""HTTP/1.1 on the wire, with no I/O: request bytes out, response bytes in (incrementally).

Both the blocking transport and the dispatcher's event loop use these, so there is one parser. It is
our own rather than h11's: h11 reads answers the same way (tests/emulator/delivery/test_http11.py
checks that, case by case, with h11 as the oracle) but costs several times more per answer and per
request, more than a whole delivery's budget (``benchmarks/http_parsing.py`` measures both).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024  # a longer response head is refused
MAX_BODY = 1024 * 1024  # bytes of a response body kept; the rest is read and dropped
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")  # RFC 9112 2.2: a bare LF may end a line
_STATUS_LINE = re.compile(r"HTTP/1\.([01]) ([0-9]{3})(?: |$)")
_FIELD = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):(.*)")
_BAD_HEAD_CHARS = re.compile(r"[\r\0]")
_FOLD = re.compile(r"\n[ \t]+")  # a header line continued on the next (obsolete folding)
_DIGITS = re.compile(rb"^[0-9]+$")


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    keep_alive: bool = True
    truncated: bool = False  # the body was longer than MAX_BODY; ``body`` holds its start


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


@dataclass
class _Head:
    status: int
    headers: dict[str, str]
    lowered: dict[str, str]
    keep_alive: bool


class ResponseReader:
    """Feed it bytes as they arrive; it returns the response once complete.

    Framing (RFC 9112 6.3): none for HEAD, 1xx, 204 and 304; then ``Transfer-Encoding`` (chunked
    when it ends in chunked, else until the connection closes); then ``Content-Length``; else the
    body runs until the connection closes (``eof``). Bytes left over after a complete answer, or an
    answer framed both ways, mean the connection can't be trusted again: ``keep_alive`` is False.
    """

    def __init__(self, method: str, max_body: int = MAX_BODY) -> None:
        self.method = method
        self.max_body = max_body
        self.buffer = bytearray()  # bytes not yet parsed
        self._head: _Head | None = None
        self._body = bytearray()
        self._seen = 0  # body bytes read, kept or not
        self._mode = ""  # "length", "chunked" or "close", once the head is read
        self._remaining = 0  # "length": body bytes still to come; "chunked": of this chunk
        self._chunk_state = "size"  # "size", "data", "crlf" or "trailers"
        self._reuse = True

    def feed(self, data: bytes) -> Response | None:
        self.buffer += data
        if self._head is None and not self._read_head():
            return None
        if self._mode == "length":
            self._keep(self._take(self._remaining))
            return self._done() if self._remaining == 0 else None
        if self._mode == "chunked":
            return self._done() if self._dechunk() else None
        if self._mode == "close":
            self._keep(self._take(len(self.buffer)))
            return None
        return self._done()

    def eof(self) -> Response:
        """The peer closed: the answer, if the bytes so far make a whole one."""
        if self._head is not None and self._mode == "close":
            self._reuse = False
            return self._done()
        raise ConnectionResetError("the server closed the connection before a complete answer")

    # The head

    def _read_head(self) -> bool:
        while True:
            match = _END_OF_HEAD.search(self.buffer, 0, MAX_HEAD + 4)
            if match is None:
                if len(self.buffer) > MAX_HEAD:
                    raise ProtocolError(f"response head longer than {MAX_HEAD} bytes")
                return False
            head = _head(bytes(self.buffer[: match.start()]))
            del self.buffer[: match.end()]
            if head.status == 101:
                raise ProtocolError("101 Switching Protocols to a request that asked for none")
            if head.status >= 200:
                break  # 1xx (100 Continue, 103 Early Hints) are interim: the real answer follows
        self._head = head
        lowered = head.lowered
        encoding = lowered.get("transfer-encoding")
        if self.method == "HEAD" or head.status in (204, 304):
            self._mode = "none"
        elif encoding is not None:
            codings = [c.strip().lower() for c in encoding.split(",")]
            self._mode = "chunked" if codings[-1] == "chunked" else "close"
            if "content-length" in lowered:
                self._reuse = False  # framed twice: a smuggling shape, never reuse (RFC 9112 6.1)
        elif "content-length" in lowered:
            self._mode, self._remaining = "length", _content_length(lowered["content-length"])
        else:
            self._mode = "close"
        return True

    # The body

    def _take(self, size: int) -> bytes:
        taken = bytes(self.buffer[:size])
        del self.buffer[:size]
        if self._mode in ("length", "chunked"):
            self._remaining -= len(taken)
        return taken

    def _keep(self, data: bytes) -> None:
        self._seen += len(data)
        room = self.max_body - len(self._body)
        if room > 0:
            self._body += data[:room]

    def _dechunk(self) -> bool:
        """Read chunks as far as the buffer goes; True once the last chunk and trailers are in."""
        while True:
            if self._chunk_state == "size":
                line = self._line()
                if line is None:
                    return False
                size = line.split(b";", 1)[0].strip()  # chunk extensions are ignored
                if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size):
                    raise ProtocolError(f"bad chunk size {size[:20]!r}")
                self._remaining = int(size, 16)
                self._chunk_state = "data" if self._remaining else "trailers"
            elif self._chunk_state == "data":
                self._keep(self._take(self._remaining))
                if self._remaining:
                    return False
                self._chunk_state = "crlf"
            elif self._chunk_state == "crlf":
                line = self._line()
                if line is None:
                    return False
                if line:
                    raise ProtocolError("chunk data longer than its size")
                self._chunk_state = "size"
            else:  # trailer fields, up to an empty line; read and dropped
                line = self._line()
                if line is None:
                    return False
                if not line:
                    return True

    def _line(self) -> bytes | None:
        end = self.buffer.find(b"\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                raise ProtocolError("chunk line too long")
            return None
        line = bytes(self.buffer[:end]).removesuffix(b"\r")
        del self.buffer[: end + 1]
        return line

    def _done(self) -> Response:
        head = self._head
        assert head is not None
        keep = head.keep_alive and self._reuse and not self.buffer and self._mode != "close"
        truncated = self._seen > len(self._body)
        return Response(head.status, head.headers, bytes(self._body), keep, truncated)


# A consumer repeats its heads byte for byte (the Date header changes once a second): each one is
# parsed once. Parsed heads are shared by the answers that carry them and never changed.
_HEADS: dict[bytes, _Head] = {}
_HEADS_KEPT = 256


def _head(raw: bytes) -> _Head:
    head = _HEADS.get(raw)
    if head is None:
        head = _parse_head(raw)
        if len(_HEADS) >= _HEADS_KEPT:
            _HEADS.clear()
        _HEADS[raw] = head
    return head


def _parse_head(raw: bytes) -> _Head:
    text = raw.replace(b"\r\n", b"\n").decode("latin-1")
    if _BAD_HEAD_CHARS.search(text):
        raise ProtocolError("a bare CR or a NUL in the response head")
    status_line, *lines = _FOLD.sub(" ", text).split("\n")  # RFC 9112 5.2: unfold obs-fold
    match = _STATUS_LINE.match(status_line)
    if match is None:
        raise ProtocolError(f"not an HTTP/1.1 answer: {status_line[:60]!r}")
    headers: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for line in lines:
        field = _FIELD.match(line)
        if field is None:
            raise ProtocolError(f"bad header line {line[:60]!r}")
        name, value = field.group(1), field.group(2).strip(" \t")
        if name in headers:
            headers[name] = f"{headers[name]}, {value}"
        else:
            headers[name] = value
        low = name.lower()
        lowered[low] = f"{lowered[low]}, {value}" if low in lowered else value
    connection = lowered.get("connection", "").lower()
    version = match.group(1)
    keep = "close" not in connection and (version != "1.0" or "keep-alive" in connection)
    return _Head(int(match.group(2)), headers, lowered, keep)


def _content_length(value: str) -> int:
    """One length, from one value or a list of equal ones (RFC 9110 8.6); anything else refused."""
    values = {v.strip() for v in value.split(",")}
    if len(values) != 1 or not _DIGITS.match(next(iter(values)).encode("latin-1")):
        raise ProtocolError(f"bad Content-Length {value!r}")
    return int(next(iter(values)))
