"""Headless Chromium for the tests: the browser command, a recording proxy that sees every
request a page makes, and a small DOM reader. See tests/render/test_html_chromium.py for why
the proxy proves that a page made no network request."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(
    os.environ.get("FORENSICS_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts")
)


# Chromium's own services, which it calls whatever page it shows.
BROWSER_HOSTS = (".google.com", ".googleapis.com", ".gstatic.com", ".gvt1.com")


def page_requests(seen: list[str]) -> list[str]:
    found = []
    for line in seen:
        target = line.split(" ", 1)[1]
        host = target.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if not ("." + host).endswith(BROWSER_HOSTS):
            found.append(line)
    return found


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str]

    def _record(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_HEAD = do_CONNECT = _record

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def chromium(page: Path, profile: Path, proxy_url: str, *extra: str) -> str:
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--no-default-browser-check",
        "--metrics-recording-only",
        "--mute-audio",
        f"--user-data-dir={profile}",
        f"--proxy-server={proxy_url}",
        "--proxy-bypass-list=<-loopback>",
        "--hide-scrollbars",
        "--virtual-time-budget=3000",
        *extra,
        page.as_uri(),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.title = ""
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        in_body = any(t == "body" for t, _ in self.tags)
        if tag == "h2" or (tag == "title" and not in_body):  # the page title, not SVG titles
            self._open = tag

    def handle_endtag(self, tag: str) -> None:
        self._open = None if tag == self._open else self._open

    def handle_data(self, data: str) -> None:
        if self._open == "h2":
            self.h2.append(data.strip())
        elif self._open == "title":
            self.title += data
