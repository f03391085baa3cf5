"""The whole pipeline on the demo repository, which replays the seed incident: the findings
the seed got wrong must come out right, and the rendered reports are held as golden files."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import jsonschema
import pytest

from forensics.demo import DemoScenario, demo_report
from forensics.model.findings import Finding
from forensics.model.report import Report
from forensics.render.html import render_html
from forensics.render.json import render_json
from forensics.render.markdown import render_markdown
from forensics.render.sarif import render_sarif
from forensics.render.view import SECTIONS
from tests.chromium import ARTIFACTS, CHROMIUM, Dom, chromium, page_requests
from tests.render.golden import check_golden

SCHEMA = Path(__file__).parents[1] / "render" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def report(demo: DemoScenario) -> Report:
    return demo_report(demo)


def only(report: Report, rule: str, revision: str | None = None) -> list[Finding]:
    return [
        f
        for f in report.findings
        if f.rule == rule and (revision is None or f.revision == revision)
    ]


def test_fx201_names_exactly_the_commits_that_touched_the_applied_file(
    demo: DemoScenario, report: Report
) -> None:
    (finding,) = only(report, "FX201", demo.applied_revision)
    assert finding.path == demo.migration_path
    assert set(finding.commits) == set(demo.burst_commits)
    assert demo.message_only_commit not in finding.commits
    kinds = {c.commit: c.kind for c in finding.changes}
    assert kinds[demo.syntax_error_commit] == "parse-error"
    assert kinds[demo.rewire_commit] == "metadata"
    assert finding.deploys == (demo.applied_deploy,)


def test_fx404_names_the_classes_and_quotes_the_demo_logs(
    demo: DemoScenario, report: Report
) -> None:
    (window,) = report.failure_windows
    assert len(list(demo.logs_dir.glob("*.log"))) == window.count
    (cause,) = only(report, "FX404")
    classes = dict(window.class_counts)
    assert {c.value for c in classes} == {
        "multiple-heads",
        "migration-import-error",
        "health-check-failed",
    }
    facts = dict(cause.facts)
    heads = next(v for k, v in facts.items() if k.startswith("multiple-heads:"))
    assert heads.startswith("FAILED: Multiple head revisions are present")
    syntax = next(c for c in window.causes if c.signature == "python-syntax-error")
    assert syntax.subject is not None and syntax.subject.endswith(demo.migration_path)
    # The logs agree with git about the commits that broke the graph; those came after the
    # first failed deploy, so they are failed fixes, not the cause.
    later = {s.commit: s for s in window.suspects if not s.can_cause}
    for sha in (demo.syntax_error_commit, demo.rewire_commit):
        assert later[sha].failed_fix and "log" in later[sha].reasons[0]
    markdown = render_markdown(report)
    assert "FAILED: Multiple head revisions are present" in markdown
    assert (
        "SyntaxError: expected &#x27;:&#x27;" in markdown or "SyntaxError: expected ':'" in markdown
    )


def test_fx202_shows_the_rewire_and_its_restore(demo: DemoScenario, report: Report) -> None:
    (finding,) = only(report, "FX202", demo.applied_revision)
    assert demo.rewire_commit in finding.commits
    facts = dict(finding.facts)
    before = facts[f"{demo.rewire_commit[:8]} before"]
    after = facts[f"{demo.rewire_commit[:8]} after"]
    assert before != after and "65e4b4ef883d" in before


def test_the_failure_window_and_its_suspects(demo: DemoScenario, report: Report) -> None:
    (window,) = report.failure_windows
    assert window.last_live_before == demo.live_deploy
    assert window.open and window.recovered_by is None
    failed = [d for d in report.deploys if d.created_at > window.start - window.start.resolution]
    assert window.count == len([d for d in failed if d.category.value == "failed"])
    (streak,) = only(report, "FX401")
    assert set(window.deploys) == set(streak.deploys)
    # Only what the first failed deploy shipped and the live one did not can be the cause:
    # the first commit of the burst. The rewire and the syntax error came after it.
    causes = [s.commit for s in window.suspects if s.can_cause]
    assert causes == [demo.burst_commits[0]]
    failed = {s.commit for s in window.suspects if s.failed_fix}
    assert {demo.rewire_commit, demo.syntax_error_commit} <= failed
    assert demo.message_only_commit not in failed
    (suspects,) = only(report, "FX402")
    assert suspects.commits[0] == demo.burst_commits[0]
    assert demo.rewire_commit[:8] in suspects.detail and "failed fix" in suspects.detail


def test_fx403_names_the_deploy_of_the_commit_that_did_not_parse(
    demo: DemoScenario, report: Report
) -> None:
    # one finding for the window; each broken deploy is a piece of its evidence
    (broken,) = only(report, "FX403")
    assert demo.syntax_error_commit in broken.commits
    deploy = next(d for d in report.deploys if d.commit == demo.syntax_error_commit)
    assert deploy.id in broken.deploys
    assert (deploy.id, f"{deploy.status} of {demo.syntax_error_commit[:8]}") in broken.facts


def test_the_burst_is_exact_and_looks_automated(demo: DemoScenario, report: Report) -> None:
    (burst,) = report.bursts
    assert burst.commits == demo.burst_commits
    assert demo.message_only_commit not in burst.commits
    assert only(report, "FX301") and only(report, "FX302")


def test_production_and_the_chain(demo: DemoScenario, report: Report) -> None:
    assert report.production.revisions == (demo.production_revision,)
    assert report.production.source == "flag"
    (env,) = report.environments
    notes = {n.revision: n.annotations for n in env.chain}
    assert {"applied", "modified"} <= set(notes[demo.applied_revision])
    assert "production" in notes[demo.production_revision]
    assert "head" in notes["9a90b381abd5"]


def _run_commands(commands: tuple[str, ...], clone: Path) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for line in commands:
        subprocess.run(shlex.split(line), cwd=clone, check=True, env=env, capture_output=True)


@pytest.mark.parametrize("verb", ["git restore", "git revert"])
def test_computed_remediation_puts_back_the_applied_content(
    demo: DemoScenario, report: Report, tmp_path: Path, verb: str
) -> None:
    option = next(r for r in report.remediations if any(c.startswith(verb) for c in r.commands))
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(demo.repo), str(clone)], check=True)
    _run_commands(option.commands, clone)
    applied = subprocess.run(
        ["git", "show", f"{demo.applied_commit}:{demo.migration_path}"],
        cwd=demo.repo,
        capture_output=True,
        check=True,
    ).stdout
    assert (clone / demo.migration_path).read_bytes() == applied
    if verb == "git revert":
        (line,) = [c for c in option.commands if c.startswith(verb)]
        assert set(shlex.split(line)[3:]) == set(demo.burst_commits)


def test_sarif_of_the_demo_validates(report: Report) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    log = json.loads(render_sarif(report))
    jsonschema.validate(log, schema)
    assert len(log["runs"][0]["results"]) == len(report.findings)


def test_json_of_the_demo_uses_full_shas(report: Report) -> None:
    doc = json.loads(render_json(report))
    assert doc["schema"] == "forensics.report/1"
    shas = [c for f in doc["findings"] for c in f["commits"]]
    assert shas and all(len(s) == 40 for s in shas)


def test_demo_reports_match_the_golden_files(report: Report) -> None:
    check_golden("demo-incident.md", render_markdown(report))
    check_golden("demo-incident.html", render_html(report))


@pytest.mark.chromium
@pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason=f"{CHROMIUM} is absent (.ci/run installs Debian's chromium)",
)
def test_demo_html_inchromium(report: Report, tmp_path: Path, proxy: tuple[str, list[str]]) -> None:
    """The demo report as the on-call engineer opens it: every section, both charts, the
    commit message's <script> inert, no network request. The screenshot is kept."""
    proxy_url, seen = proxy
    page = tmp_path / "incident.html"
    page.write_text(render_html(report), encoding="utf-8")
    dom = Dom()
    dom.feed(chromium(page, tmp_path / "profile", proxy_url, "--dump-dom"))
    assert page_requests(seen) == [], f"the report page made network requests: {seen}"
    assert dom.h2[:10] == [title for _, title in SECTIONS]
    assert "pwned" not in dom.title and not [t for t, _ in dom.tags if t == "script"]
    svgs = [attrs.get("class") for tag, attrs in dom.tags if tag == "svg"]
    assert "chart timeline" in svgs and "chart chain" in svgs
    assert sum(1 for tag, attrs in dom.tags if attrs.get("class") == "commit") >= 11
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "demo-incident.png"
    chromium(page, tmp_path / "shot", proxy_url, f"--screenshot={shot}", "--window-size=1280,7000")
    assert shot.stat().st_size > 20_000
