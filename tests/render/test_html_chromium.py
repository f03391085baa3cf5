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
from pathlib import Path

import pytest

from forensics.model.report import Report
from forensics.render.html import render_html
from forensics.render.view import SECTIONS
from tests.chromium import ARTIFACTS, CHROMIUM, Dom, chromium, page_requests

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"{CHROMIUM} is absent: install Debian's chromium (.ci/run does) to run this test",
    ),
]


def test_report_renders_inchromium(
    report: Report, tmp_path: Path, proxy: tuple[str, list[str]]
) -> None:
    proxy_url, seen = proxy
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")

    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><img src="http://forensics.invalid/pixel.png">')
    chromium(control, tmp_path / "profile-control", proxy_url, "--dump-dom")
    assert any("forensics.invalid" in line for line in page_requests(seen)), seen
    seen.clear()

    dom = Dom()
    dom.feed(chromium(page, tmp_path / "profile", proxy_url, "--dump-dom"))
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
    chromium(
        page,
        tmp_path / "profile-shot",
        proxy_url,
        f"--screenshot={shot}",
        "--window-size=1280,6000",
    )
    assert shot.stat().st_size > 20_000
    assert page_requests(seen) == [], f"the report page made network requests: {seen}"
    shutil.copy(page, ARTIFACTS / "report.html")
