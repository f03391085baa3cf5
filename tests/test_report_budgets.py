"""Length budgets of the reports, on repositories of the right size: the seed-shaped demo's
Markdown stays under 400 lines; a repository with about a hundred findings stays under
150 KB of Markdown, and its ``summary`` (a pull-request comment) under 60,000 characters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forensics import pipeline
from forensics.config import AnalyzeConfig
from forensics.demo import build_demo_repo, demo_report
from forensics.gitbuild import RepoBuilder
from forensics.model.report import Report
from forensics.render import OutputFormat
from tests.conftest import migration

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
VERSIONS = "db/versions"
MIGRATIONS = 40


def rev(n: int) -> str:
    return f"{n:04d}aaaabbbb"


def text(n: int, step: str = "", depends: str | None = None) -> str:
    body = f"    op.create_table('t{n}')" + (f"\n    op.execute('{step}')" if step else "")
    return migration(
        rev(n),
        rev(n - 1) if n else None,
        message=f"table {n}",
        body=body,
        depends_on=repr(depends) if depends else "None",
    )


def render(ident: str, status: str, sha: str, at: datetime) -> dict[str, object]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": ident, "status": status, "commit": {"id": sha}, "createdAt": stamp,
            "finishedAt": stamp}  # fmt: skip


@pytest.fixture(scope="module")
def big_report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """40 applied migrations, each edited later an hour apart (every other one rewired
    too), each edit deployed, every other deploy failing and the next one recovering."""
    folder = tmp_path_factory.mktemp("budget")
    repo = RepoBuilder(folder / "repo")
    files = {"alembic.ini": "[alembic]\nscript_location = db\n", "db/env.py": ""}
    files |= {f"{VERSIONS}/{rev(n)}_t{n}.py": text(n) for n in range(MIGRATIONS)}
    first = repo.commit("schema", T0, files=files)
    deploys = [render("dep-live", "deactivated", first, T0 + timedelta(minutes=5))]
    for n in range(MIGRATIONS):
        at = T0 + timedelta(hours=n + 1)
        depends = rev(0) if n % 2 and n > 1 else None
        sha = repo.commit(
            f"fix: adjust table {n}",
            at,
            files={f"{VERSIONS}/{rev(n)}_t{n}.py": text(n, f"SELECT {n}", depends)},
        )
        status = "update_failed" if n % 2 == 0 else "deactivated"
        deploys.append(render(f"dep-{n:02d}", status, sha, at + timedelta(minutes=2)))
    deploys[-1]["status"] = "live"
    deploys_file = folder / "deploys.json"
    deploys_file.write_text(json.dumps(deploys), encoding="utf-8")
    cfg = AnalyzeConfig(
        repo=repo.path,
        now=T0 + timedelta(days=3),
        deploys=(f"render:{deploys_file}",),
        use_cache=False,
    )
    return pipeline.run(cfg)


def test_a_hundred_findings_stay_within_the_markdown_and_summary_budgets(
    big_report: Report,
) -> None:
    assert 90 <= len(big_report.findings) <= 130
    markdown = OutputFormat.MD.render(big_report)
    assert len(markdown.encode("utf-8")) <= 150_000
    summary = OutputFormat.SUMMARY.render(big_report)
    assert len(summary) < 60_000
    # the first screen, alone and at the top of the report
    assert len(summary.splitlines()) <= 15
    assert markdown.startswith(summary.rstrip("\n"))
    # one option per kind, not one per edited file
    kinds = [r.kind for r in big_report.remediations]
    assert len(kinds) == len(set(kinds))


def test_the_seed_shaped_demo_stays_under_400_lines(tmp_path: Path) -> None:
    report = demo_report(build_demo_repo(tmp_path))
    markdown = OutputFormat.MD.render(report)
    assert len(markdown.splitlines()) <= 400
    first = markdown.splitlines()[:15]
    assert first[0] == "# Migration incident report: deploys blocked since 2025-11-16 15:02 UTC"
    assert "**Do this now**" in first
