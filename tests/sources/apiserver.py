"""A real HTTP server on 127.0.0.1 for the API clients' tests: scripted replies per path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Reply:
    status: int = 200
    body: bytes | object = b""
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


@dataclass
class Api:
    """``routes`` maps a request target (path with query, or path alone) to the replies to
    give in turn; the last reply repeats. ``seen`` records (target, headers) of requests."""

    url: str = ""
    routes: dict[str, list[Reply]] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def on(self, target: str, *replies: Reply) -> None:
        self.routes[target] = list(replies)

    def json(self, target: str, body: object, **headers: str) -> None:
        self.on(target, Reply(200, body, {"Content-Type": "application/json", **headers}))

    def reply_for(self, target: str) -> Reply:
        queue = self.routes.get(target) or self.routes.get(target.split("?", 1)[0])
        if not queue:
            return Reply(404, {"message": "not found"})
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def targets(self) -> list[str]:
        return [t for t, _ in self.seen]


@contextmanager
def serve() -> Iterator[Api]:
    """A scripted server on 127.0.0.1, on a port of its own."""
    api = Api()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            api.seen.append((self.path, dict(self.headers.items())))
            reply = api.reply_for(self.path)
            data = reply.payload()
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def api_server() -> Iterator[Api]:
    with serve() as api:
        yield api


@pytest.fixture
def other_server() -> Iterator[Api]:
    """A second server, another origin (another port), that logs what reaches it."""
    with serve() as api:
        yield api
