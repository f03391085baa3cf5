"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``).

How "no network request" is checked: Chromium runs with ``--proxy-server`` pointing at a
recording proxy on 127.0.0.1 and ``--proxy-bypass-list=<-loopback>``, so every http(s)
request the page makes, loopback included, reaches that proxy. A control page with one
remote image proves the proxy sees page requests; the report page must cause none. Chromium's
own service traffic (component updater, time and account checks to Google hosts) survives
every switch-off flag, so requests to those hosts are set aside; the page itself cannot
reach them, as it holds no URL at all (test_html.py checks every src/href/url()).
The injected ``<script>`` of the fixture would set ``document.title`` to ``pwned``: the
dumped DOM must keep our title and hold no script element.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from forensics.model.report import Report
from forensics.render.html import render_html
from forensics.render.view import SECTIONS

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(
    os.environ.get("FORENSICS_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts")
)

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"{CHROMIUM} is absent: install Debian's chromium (.ci/run does) to run this test",
    ),
]


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


def _chromium(page: Path, profile: Path, proxy_url: str, *extra: str) -> str:
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


class _Dom(HTMLParser):
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


def test_report_renders_in_chromium(
    report: Report, tmp_path: Path, proxy: tuple[str, list[str]]
) -> None:
    proxy_url, seen = proxy
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")

    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><img src="http://forensics.invalid/pixel.png">')
    _chromium(control, tmp_path / "profile-control", proxy_url, "--dump-dom")
    assert any("forensics.invalid" in line for line in page_requests(seen)), seen
    seen.clear()

    dom = _Dom()
    dom.feed(_chromium(page, tmp_path / "profile", proxy_url, "--dump-dom"))
    assert page_requests(seen) == [], f"the report page made network requests: {seen}"

    assert dom.h2[:10] == [title for _, title in SECTIONS]
    assert dom.title.startswith("Migration incident report") and "pwned" not in dom.title
    assert not [t for t, _ in dom.tags if t == "script"]
    svgs = [attrs.get("class") for tag, attrs in dom.tags if tag == "svg"]
    assert "chart timeline" in svgs and "chart chain" in svgs
    assert sum(1 for tag, attrs in dom.tags if tag == "g" and attrs.get("class") == "node") == 10
    assert sum(1 for tag, attrs in dom.tags if attrs.get("class") == "commit") >= 8

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    _chromium(
        page,
        tmp_path / "profile-shot",
        proxy_url,
        f"--screenshot={shot}",
        "--window-size=1280,6000",
    )
    assert shot.stat().st_size > 20_000
    assert page_requests(seen) == [], f"the report page made network requests: {seen}"
    shutil.copy(page, ARTIFACTS / "report.html")
