"""A minimal, fast webhook consumer for benchmarks: answers every request 200 with an empty body, keeps connections alive.

Run: python benchmarks/consumer.py [--port 0]   (prints the bound port on stdout, then serves)
It counts requests and bytes; GET /count answers them as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

# 200 with an empty body: success for every vendor (Punchh counts only 200 and 202).
OK_EMPTY = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class Consumer(asyncio.Protocol):
    requests = 0

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = bytearray()

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            length = 0
            at = head.find(b"content-length:")
            if at >= 0:
                length = int(
                    head[at + 15 : head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None]
                )
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            del self.buffer[:total]
            if head.startswith(b"get /count"):
                body = json.dumps({"requests": Consumer.requests}).encode()
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                continue
            if head.startswith(b"get "):
                # Punchh verifies a webhook with a GET that must answer 200 before its first POST.
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                continue
            Consumer.requests += 1
            self.transport.write(OK_EMPTY)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Consumer, "127.0.0.1", port, backlog=512)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
