"""The evidence around the findings, on the demo repository: diffs of the edits to the
applied migration, SARIF that points at files and lines, and links to the remote."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from forensics import pipeline
from forensics.demo import DemoScenario, build_demo_repo, demo_config, demo_report
from forensics.model.evidence import EditPart
from forensics.model.report import Report
from forensics.render.html import render_html
from forensics.render.markdown import render_markdown
from forensics.render.sarif import sarif_log
from tests.conftest import Run

SECRET = "ghp_s3cretT0ken"
ORIGIN = f"https://deployer:{SECRET}@github.com/acme/shop.git"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoScenario:
    scenario = build_demo_repo(tmp_path_factory.mktemp("evidence"))
    subprocess.run(["git", "-C", str(scenario.repo), "remote", "add", "origin", ORIGIN], check=True)
    return scenario


@pytest.fixture(scope="module")
def report(demo: DemoScenario) -> Report:
    return demo_report(demo)


def _revision_line(demo: DemoScenario, path: str) -> int:
    text = (demo.repo / path).read_text()
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("revision"))


def test_each_edit_shows_what_changed_against_the_applied_content(
    demo: DemoScenario, report: Report
) -> None:
    (fx201,) = [f for f in report.findings if f.rule == "FX201"]
    edits = {e.commit: e for e in report.edits if e.path == demo.migration_path}
    assert set(edits) == set(fx201.commits)
    assert all(e.against == demo.applied_commit for e in edits.values())
    rewire = edits[demo.rewire_commit]
    assert EditPart.METADATA in rewire.parts
    assert "-down_revision" in rewire.diff and "+down_revision" in rewire.diff
    assert rewire.diff.startswith("@@ ") and len(rewire.diff.splitlines()) <= 12
    # A reformatting of the applied file alone changes no metadata, whatever its quotes.
    assert all(not (e.cosmetic and EditPart.METADATA in e.parts) for e in edits.values())

    md = render_markdown(report)
    # The Markdown shows the most likely cause's diff; the other edits' parts stand in the
    # commit table, and the HTML shows every diff.
    assert md.count("```diff\n@@ ") == 1
    assert "| metadata (upgrade(), metadata" in md
    html = render_html(report)
    assert f'<details class="edit"><summary><code>{demo.rewire_commit[:8]}</code>' in html
    assert '<pre class="diff"><code>@@ ' in html


def test_sarif_points_every_result_at_a_file_and_its_revision_line(
    demo: DemoScenario, report: Report
) -> None:
    run = sarif_log(report)["runs"][0]
    line = _revision_line(demo, demo.migration_path)
    for result in run["results"]:
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert (demo.repo / uri).is_file() or uri.endswith(".py"), uri
        assert physical["region"]["startLine"] >= 1
    window = next(r for r in run["results"] if r["ruleId"] == "FX401")
    physical = window["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == demo.migration_path
    assert physical["region"]["startLine"] == line
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for result in run["results"]:
        rule = rules[result["ruleId"]]
        assert rule["helpUri"].endswith("#rules") and rule["help"]["markdown"]
        levels = {r["level"] for r in run["results"] if r["ruleId"] == result["ruleId"]}
        assert rule["defaultConfiguration"]["level"] == max(
            levels, key=["note", "warning", "error"].index
        )


def test_sarif_fingerprints_are_the_same_in_two_runs(demo: DemoScenario, report: Report) -> None:
    # A later clock, as a second CI run would have: nothing in the identity may move.
    cfg = demo_config(demo)
    later = dataclasses.replace(cfg, now=cfg.now.replace(minute=59))
    again = pipeline.run(later)

    def prints(r: Report) -> list[tuple[str, str, object]]:
        return [
            (x["ruleId"], x["partialFingerprints"]["forensicsFingerprint/v1"], x["locations"])
            for x in sarif_log(r)["runs"][0]["results"]
        ]

    assert prints(report) == prints(again)


def test_links_go_to_the_remote_without_its_credentials(
    demo: DemoScenario, report: Report, run: Run, tmp_path: Path
) -> None:
    assert report.links is not None and report.links.base == "https://github.com/acme/shop"
    md = render_markdown(report)
    sha = demo.rewire_commit
    assert f"[`{sha[:8]}`](https://github.com/acme/shop/commit/{sha})" in md
    assert f"https://github.com/acme/shop/blob/{report.rev}/{demo.migration_path}#L" in md
    html = render_html(report)
    assert f'<a href="https://github.com/acme/shop/commit/{sha}">{sha[:8]}</a>' in html
    assert "https://github.com/acme/shop/tree/" in html  # deploys link to what they shipped

    out = tmp_path / "out"
    code, stdout, stderr = run(
        "analyze", "--repo", str(demo.repo), "--since", "2025-11-13", "--until",
        "2025-11-16T17:25:00Z", "--deploys", f"render:{demo.deploys_file}",
        "--format", "md,html,json,sarif", "--out", str(out),
    )  # fmt: skip
    assert code == 0, stderr
    written = [p.read_text() for p in out.iterdir()]
    assert len(written) == 4
    for text in [*written, stdout, stderr]:
        assert SECRET not in text and "deployer" not in text
    assert any("https://github.com/acme/shop/commit/" in text for text in written)


def test_link_base_overrides_origin(demo: DemoScenario, run: Run, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _stdout, stderr = run(
        "analyze", "--repo", str(demo.repo), "--since", "2025-11-13", "--until",
        "2025-11-16T17:25:00Z", "--deploys", f"render:{demo.deploys_file}", "--format", "md",
        "--out", str(out), "--link-base", "https://gitlab.example.com/team/shop",
    )  # fmt: skip
    assert code == 0, stderr
    md = next(out.glob("*.md")).read_text()
    assert "https://gitlab.example.com/team/shop/-/commit/" in md
    assert "github.com/acme" not in md


def test_backticks_in_our_prose_render_as_code_and_untrusted_text_stays_inert(
    report: Report,
) -> None:
    md = render_markdown(report)
    assert "\\`alembic upgrade head\\`" not in md.split("## Rules broken")[0]
    assert "`alembic upgrade head`" in md
    # The demo's hostile commit message stays escaped text in its table cell.
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\*\\*bold\\*\\* \\| pipe" in md
    html = render_html(report)
    assert "<code>alembic upgrade head</code>" in html
    assert "<script>alert(1)" not in html


def test_json_suspects_carry_their_role(report: Report) -> None:
    from forensics.render.json import render_json

    doc = json.loads(render_json(report))
    (window,) = doc["failure_windows"]
    roles = [s["role"] for s in window["suspects"]]
    assert roles[0] == "cause" and set(roles) <= {"cause", "later"}
    assert any(s["failed_fix"] for s in window["suspects"])
