"""The demo report's HTML as people look at it, in headless Chromium: at 1366×768 the status
and the incident chart come first; on a 390 px phone nothing scrolls sideways and the charts
stay legible; printed on A4 it takes at most 6 pages. Screenshots are kept as artifacts.

The geometry is read by a test page that frames the report (tests/chromium.py, ``measure``):
the report itself has no script, and test_html_chromium.py checks that it makes no request.
"""

from __future__ import annotations

import os
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from forensics.demo import build_demo_repo, demo_report
from forensics.render.html import render_html
from tests.chromium import ARTIFACTS, CHROMIUM, chromium, measure, page_requests, pdf_pages

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"{CHROMIUM} is absent: install Debian's chromium (.ci/run does) to run this test",
    ),
]

A4 = "0 0 595 842"
MOMENTS = ("first failure", "graph broken", "fix", "still failing")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    return render_html(demo_report(build_demo_repo(tmp_path_factory.mktemp("demo"))))


def _overlaps(labels: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (a["text"], b["text"])
        for a, b in combinations(labels, 2)
        if a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    ]


def _shot(page: str, tmp: Path, proxy_url: str, name: str, size: str) -> Path:
    html = tmp / "incident.html"
    html.write_text(page, encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / name
    chromium(
        html, tmp / f"profile-{name}", proxy_url, f"--screenshot={shot}", f"--window-size={size}"
    )
    return shot


def test_first_screen_at_1366(page: str, tmp_path: Path, proxy: tuple[str, list[str]]) -> None:
    proxy_url, seen = proxy
    geometry = measure(page, 1366, 768, tmp_path, proxy_url)
    assert geometry["scrollWidth"] <= geometry["viewport"]
    assert geometry["status"]["bottom"] <= 768
    if geometry["doThisNow"] is not None:
        assert geometry["doThisNow"]["top"] <= 768
    # The incident chart comes right after the first screen's summary, before the sections.
    assert geometry["status"]["bottom"] <= geometry["chart"]["top"]
    assert geometry["chart"]["bottom"] <= geometry["production"]["top"]
    (timeline,) = [c for c in geometry["charts"] if c["kind"] == "chart timeline"]
    shown = [label["text"] for label in timeline["labels"]]
    assert all(any(text.startswith(m) for text in shown) for m in MOMENTS), shown
    assert _overlaps(timeline["labels"]) == []
    assert timeline["smallestText"] >= 10
    shot = _shot(page, tmp_path, proxy_url, "demo-1366.png", "1366,768")
    assert shot.stat().st_size > 20_000
    assert page_requests(seen) == [], f"the report page made network requests: {seen}"


def test_phone_at_390_does_not_scroll_sideways(
    page: str, tmp_path: Path, proxy: tuple[str, list[str]]
) -> None:
    proxy_url, seen = proxy
    geometry = measure(page, 390, 844, tmp_path, proxy_url)
    assert geometry["viewport"] == 390
    assert geometry["scrollWidth"] <= 390, "the page scrolls sideways at 390 px"
    kinds = [c["kind"] for c in geometry["charts"]]
    assert kinds.count("chart timeline") == 1 and "chart chain" in kinds  # the compact one
    for chart in geometry["charts"]:
        assert chart["width"] <= 390
        assert chart["smallestText"] >= 9, chart["kind"]  # pixels on the phone's screen
        assert _overlaps(chart["labels"]) == []
    shot = _shot(page, tmp_path, proxy_url, "demo-390.png", "390,844")
    assert shot.stat().st_size > 20_000
    assert page_requests(seen) == [], f"the report page made network requests: {seen}"


def test_legend_lists_only_what_the_timeline_shows(
    page: str, tmp_path: Path, proxy: tuple[str, list[str]]
) -> None:
    proxy_url, _ = proxy
    (timeline,) = [
        c
        for c in measure(page, 1366, 768, tmp_path, proxy_url)["charts"]
        if c["kind"] == "chart timeline"
    ]
    legend = timeline["legend"]
    assert len(legend) == len(set(legend))
    # The demo's deploys are live, superseded or failed; no commit deleted a migration.
    assert {"deploy: failed", "deploy: live", "failure window", "burst of edits"} <= set(legend)
    absent = {"deploy: in progress", "deploy: canceled", "deploy: unknown"}
    assert not absent & set(legend) and "commit: deleted the file" not in legend


def test_demo_prints_on_at_most_six_a4_pages(
    page: str, tmp_path: Path, proxy: tuple[str, list[str]]
) -> None:
    proxy_url, seen = proxy
    html = tmp_path / "incident.html"
    html.write_text(page, encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "demo-incident.pdf"
    chromium(
        html, tmp_path / "profile-pdf", proxy_url, "--no-pdf-header-footer", f"--print-to-pdf={pdf}"
    )
    pages, sizes = pdf_pages(pdf)
    assert 1 <= pages <= 6, f"{pages} pages"
    assert sizes == {A4}, sizes
    assert page_requests(seen) == [], f"the report page made network requests: {seen}"
