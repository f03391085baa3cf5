"""The first screen in a real browser at 1366×768: the status word and "Do this now" with its
plan are above the fold. The test measures a copy of the demo report: a measuring script is
added to the copy only (the report itself has none) and writes the positions into the DOM."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from forensics.demo import build_demo_repo, demo_report
from forensics.render.html import render_html
from tests.chromium import CHROMIUM, chromium

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"{CHROMIUM} is absent: install Debian's chromium (.ci/run does) to run this test",
    ),
]

MEASURE = """<script>
const bottom = (sel) => Math.ceil(document.querySelector(sel).getBoundingClientRect().bottom);
document.body.setAttribute("data-status", bottom("#status"));
document.body.setAttribute("data-plan", bottom("ol.plan"));
</script>"""


def test_status_and_plan_are_above_the_fold_at_1366_by_768(
    tmp_path: Path, proxy: tuple[str, list[str]]
) -> None:
    proxy_url, _seen = proxy
    report = demo_report(build_demo_repo(tmp_path / "demo"))
    page = tmp_path / "measured.html"
    page.write_text(render_html(report).replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = chromium(page, tmp_path / "profile", proxy_url, "--window-size=1366,768", "--dump-dom")
    found = re.search(r'<body data-status="(\d+)" data-plan="(\d+)"', dom)
    assert found, dom[:500]
    status, plan = int(found[1]), int(found[2])
    assert 0 < status < plan <= 768, (status, plan)
