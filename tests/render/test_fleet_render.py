"""The fleet report's renderers: the JSON schema, escaping of names and errors, and the HTML
in headless Chromium (no network, no script, readable on a 390 px wide phone)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from forensics.model.fleet import FleetReport, RepoResult, RepoStatus
from forensics.model.metrics import WeekMetrics
from forensics.render.fleet import FleetFormat, fleet_json
from forensics.schemas import schema
from tests.chromium import ARTIFACTS, CHROMIUM, Dom, chromium, page_requests

HOSTILE = '<script>document.title="pwned"</script> | `x` **y**'
WEEKS = tuple(
    WeekMetrics(
        f"2025-W{n:02d}",
        n % 3 + 1,
        n % 2,
        (n % 2) / (n % 3 + 1),
        4.0 if n % 2 else None,
        28.5,
        40.0,
        n % 2,
        0,
    )
    for n in range(35, 47)
)


def _fleet() -> FleetReport:
    rows = (
        RepoResult(
            "billing-service-with-a-long-name",
            RepoStatus.BLOCKED,
            "/srv/billing",
            rev="a" * 40,
            audit_id="audit-2025-W46",
            findings=3,
            severities=(("critical", 1), ("low", 2)),
            new=2,
            still_open=1,
            resolved=4,
            report="billing-service-with-a-long-name/audit-2025-W46.html",
            metrics=WEEKS,
        ),
        RepoResult(
            "search",
            RepoStatus.HEALTHY,
            "/srv/search",
            report="search/audit-2025-W46.html",
            metrics=WEEKS,
            skipped=True,
        ),
        RepoResult(
            "evil",
            RepoStatus.FAILED,
            "https://***@example.com/x.git",
            error=f"cannot fetch: {HOSTILE}",
        ),
    )
    return FleetReport(
        generated_at=datetime(2025, 11, 14, 12, tzinfo=UTC),
        audit_id="audit-2025-W46",
        repositories=rows,
        metrics=WEEKS,
        cluster="local cluster of 2 worker process(es)",
        elapsed_seconds=12.5,
    )


def test_json_matches_the_fleet_schema() -> None:
    document = json.loads(FleetFormat.JSON.render(_fleet()))
    jsonschema.validate(document, schema("fleet"))
    assert document["schema"] == "forensics.fleet/1"
    assert [r["status"] for r in document["repositories"]] == ["blocked", "healthy", "failed"]
    assert document["repositories"][2]["error"].endswith(HOSTILE)
    assert document["repositories"][0]["error"] is None
    assert document == fleet_json(_fleet()) | {"generated_at": "2025-11-14T12:00:00Z"}


def test_markdown_escapes_names_and_errors() -> None:
    text = FleetFormat.MD.render(_fleet())
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "[report](billing-service-with-a-long-name/audit-2025-W46.html)" in text
    assert "| **BLOCKED** |" in text and "1 critical, 2 low" in text
    assert "(done earlier this week)" in text
    assert "| 2025-W46 | 2 | 0 | 0% | - | 28.5 h | 40.0 h | 0 | 0 |" in text


def test_html_escapes_and_holds_no_url() -> None:
    page = FleetFormat.HTML.render(_fleet())
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "http" not in page.replace("https://***@example.com/x.git", "")
    assert '<svg class="chart trend"' in page


@pytest.mark.chromium
@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is absent")
def test_fleet_html_in_chromium_at_390_px(tmp_path: Path, proxy: tuple[str, list[str]]) -> None:
    proxy_url, seen = proxy
    page = tmp_path / "fleet.html"
    page.write_text(FleetFormat.HTML.render(_fleet()), encoding="utf-8")

    dom = Dom()
    dom.feed(chromium(page, tmp_path / "profile", proxy_url, "--dump-dom"))
    assert page_requests(seen) == [], f"the fleet page made network requests: {seen}"
    assert dom.title.startswith("Fleet migration audit") and "pwned" not in dom.title
    assert not [t for t, _ in dom.tags if t == "script"]
    assert dom.h2 == ["Repositories", "Failed repositories", "Fleet delivery metrics"]

    # A harness page (the test's own, with a script) frames the report 390 px wide and
    # measures it: the page must not be wider than the phone, and its text not tiny.
    harness = tmp_path / "harness.html"
    harness.write_text(
        "<!DOCTYPE html><html><head><title>measuring</title></head><body>"
        '<iframe id="f" src="fleet.html" style="width:390px;height:844px;border:0"></iframe>'
        "<script>document.getElementById('f').onload = function () {"
        " var d = this.contentDocument, w = this.contentWindow;"
        " var size = parseFloat(w.getComputedStyle(d.body).fontSize);"
        " var rows = d.querySelectorAll('table.repos tr').length;"
        " document.title = 'width=' + d.documentElement.scrollWidth + ' font=' + size"
        " + ' rows=' + rows; };</script></body></html>"
    )
    dumped = Dom()
    dumped.feed(
        chromium(
            harness,
            tmp_path / "profile-phone",
            proxy_url,
            "--dump-dom",
            "--allow-file-access-from-files",
        )
    )
    measured = dict(part.split("=") for part in dumped.title.split())
    assert int(measured["width"]) <= 390, measured
    assert float(measured["font"]) >= 13, measured
    assert int(measured["rows"]) == 4  # heading row and three repositories
    assert page_requests(seen) == []

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "fleet-390.png"
    chromium(
        page, tmp_path / "profile-shot", proxy_url, f"--screenshot={shot}", "--window-size=390,1400"
    )
    assert shot.stat().st_size > 10_000
