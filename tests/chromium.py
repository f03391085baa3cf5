"""Headless Chromium for the tests: the browser command, a recording proxy that sees every
request a page makes, and a small DOM reader. See tests/render/test_html_chromium.py for why
the proxy proves that a page made no network request."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


# Runs in a test page that frames the report (never in the report, which holds no script):
# the frame is exactly the viewport width asked for, which a headless window is not (its
# width has a floor of 500 px). ``srcdoc`` keeps the frame same-origin, so it can be read.
_MEASURE = """
window.addEventListener('load', () => setTimeout(() => {
  const frame = document.getElementById('report');
  const doc = frame.contentDocument, win = frame.contentWindow;
  const seen = (el) => el.getClientRects().length > 0;
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const svgs = Array.from(doc.querySelectorAll('svg.chart')).filter(seen);
  const out = {
    viewport: win.innerWidth,
    scrollWidth: doc.documentElement.scrollWidth,
    status: doc.getElementById('status') ? box(doc.getElementById('status')) : null,
    chart: doc.getElementById('incident-chart') ? box(doc.getElementById('incident-chart')) : null,
    production: doc.getElementById('production') ? box(doc.getElementById('production')) : null,
    doThisNow: null,
    charts: svgs.map((svg) => ({
      kind: svg.getAttribute('class'),
      width: svg.getBoundingClientRect().width,
      smallestText: Math.min(...Array.from(svg.querySelectorAll('text')).map((t) =>
        parseFloat(t.getAttribute('font-size')) * svg.getScreenCTM().a)),
      labels: Array.from(svg.querySelectorAll('text.moment-label')).map((t) =>
        ({text: t.textContent, ...box(t)})),
      legend: Array.from(svg.querySelectorAll('g.legend text')).map((t) => t.textContent),
    })),
  };
  const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (walker.currentNode.textContent.includes('Do this now')) {
      out.doThisNow = box(walker.currentNode.parentElement); break;
    }
  }
  document.getElementById('out').textContent = JSON.stringify(out);
}, 300));
"""


def measure(report_html: str, width: int, height: int, tmp: Path, proxy_url: str) -> dict[str, Any]:
    """Lay the report out in a ``width`` × ``height`` viewport and read its geometry."""
    page = tmp / f"measure-{width}.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">'
        f'<iframe id="report" style="border:0;width:{width}px;height:{height}px" '
        f'srcdoc="{html.escape(report_html, quote=True)}"></iframe>'
        f'<pre id="out"></pre><script>{_MEASURE}</script></body></html>',
        encoding="utf-8",
    )
    dom = chromium(page, tmp / f"profile-measure-{width}", proxy_url, "--dump-dom")
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert found and found.group(1), dom[-2000:]
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


def pdf_pages(pdf: Path) -> tuple[int, set[str]]:
    """Pages of a PDF Chromium printed, and their sizes (MediaBox), read from the bytes."""
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
    boxes = {
        " ".join(f"{float(n):.0f}" for n in box.decode().split())
        for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)
    }
    return pages, boxes
