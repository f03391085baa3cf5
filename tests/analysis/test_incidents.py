"""Incidents on real repositories: the seed's shape is one blocked incident with its story and
plan; edits after the last live deploy are at risk before any deploy fails; an old edit that
production already runs, and a churn, stay plain findings; no evidence is UNKNOWN."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from forensics import pipeline
from forensics.config import AnalyzeConfig
from forensics.gitbuild import RepoBuilder
from forensics.model.incidents import IncidentStatus
from forensics.model.report import Report
from forensics.render.json import report_json
from forensics.render.markdown import render_summary
from tests.conftest import migration
from tests.detectors.scenario import (
    BASE,
    M_PATH,
    NEXT,
    NOW,
    T0,
    VERSIONS,
    M,
    Seed,
    _render,
    build_seed,
    m_text,
)


def run(path: Path, deploys: list[str], **kw: object) -> Report:
    cfg = AnalyzeConfig(repo=path, now=NOW, deploys=tuple(deploys), use_cache=False, **kw)  # type: ignore[arg-type]
    return pipeline.run(cfg)


@pytest.fixture
def seed(git_repo: Callable[..., RepoBuilder], tmp_path: Path) -> Seed:
    return build_seed(git_repo(), tmp_path)


def test_the_seed_shape_is_one_blocked_incident_with_its_story_and_plan(seed: Seed) -> None:
    report = run(seed.repo.path, [f"render:{seed.deploys_file}"])
    (incident,) = report.incidents
    assert incident.id == "INC-1" and incident.status is IncidentStatus.BLOCKED
    assert report.status is IncidentStatus.BLOCKED
    assert incident.window == 0
    by_print = {f.fingerprint: f for f in report.findings}
    rules = {by_print[p].rule for p in incident.findings}
    assert {"FX401", "FX402", "FX201", "FX202", "FX301", "FX302", "FX403"} <= rules
    assert "FX303" not in rules  # a churn explains nothing: it stays a finding

    # what happened, since when, what production serves
    assert incident.headline == "Deploys blocked since 2025-11-16 10:00 UTC"
    assert "11 deploys failed in a row" in incident.impact and "none recovered" in incident.impact
    assert "`dep-D`" in incident.impact and f"`{NEXT}`" in incident.impact
    assert f"`{seed.live[:8]}`" in incident.impact
    # the cause names the applied migration, its file and the burst's commits
    assert f"Applied migration `{M}` (`{M_PATH}`)" in incident.cause
    assert f"`{seed.edits[0][:8]}` … `{seed.edits[-1][:8]}`" in incident.cause
    # the plan: stop, restore from what production applied, carry forward, push once
    steps = [p.step for p in incident.plan]
    assert steps[0].startswith(f"Stop the pushes to `{M_PATH}`")
    commands = [p.command for p in incident.plan if p.command]
    assert commands[0] == f"git restore --source {seed.live} -- {M_PATH}"
    assert commands[1].startswith("cd backend && alembic revision -m ")
    assert steps[-1] == "Commit, push once and follow the deploy to its end."
    assert any(o.startswith("Revert exactly the 10 commit(s)") for o in incident.other_options)

    summary = render_summary(report)
    lines = summary.splitlines()
    assert len(lines) <= 15
    assert lines[0] == "# Migration incident report: deploys blocked since 2025-11-16 10:00 UTC"
    assert lines[2].startswith("**BLOCKED** · 11 deploys failed in a row")
    assert f"`{M}`" in summary and "**Do this now**" in summary
    assert f"1. Stop the pushes to `{M_PATH}`" in summary

    doc = report_json(report)
    assert doc["status"] == "blocked"
    (entry,) = doc["incidents"]
    assert set(entry) == {
        "id", "status", "headline", "impact", "cause", "plan", "findings", "window",
        "other_options",
    }  # fmt: skip
    assert entry["status"] == "blocked" and entry["plan"][1]["command"] == commands[0]
    assert set(entry["findings"]) <= {f["fingerprint"] for f in doc["findings"]}


def _schema(repo: RepoBuilder) -> str:
    """One applied-looking base migration in ``backend/alembic``; its commit."""
    return repo.commit(
        "schema",
        T0,
        files={
            "backend/alembic/env.py": "from alembic import context\n",
            f"{VERSIONS}/{BASE}_users.py": migration(BASE, None, message="users"),
        },
    )


def _applied_then(repo: RepoBuilder, folder: Path, *, live_after_edit: bool) -> Path:
    """M applied by a live deploy, then edited twice; with ``live_after_edit`` a later live
    deploy ships the edits (production runs them since)."""
    live = repo.commit(
        "schema",
        T0,
        files={
            "backend/alembic/env.py": "from alembic import context\n",
            f"{VERSIONS}/{BASE}_users.py": migration(BASE, None, message="users"),
            M_PATH: migration(M, BASE, message="add deals", body="    op.create_table('deals')"),
        },
    )
    deploys = [_render("dep-A", "live", live, T0 + timedelta(minutes=5))]
    repo.commit("fix: guard helpers", T0 + timedelta(hours=1), files={M_PATH: m_text("X")})
    repo.commit("fix: guard again", T0 + timedelta(hours=2), files={M_PATH: m_text("Y")})
    if live_after_edit:
        deploys[0]["deploy"]["status"] = "deactivated"  # type: ignore[index]
        deploys.append(_render("dep-B", "live", repo.head(), T0 + timedelta(hours=3)))
    target = folder / "deploys.json"
    target.write_text(json.dumps(deploys))
    return target


def test_edits_after_the_last_live_deploy_are_at_risk_before_any_failure(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    deploys = _applied_then(repo, tmp_path, live_after_edit=False)
    report = run(repo.path, [f"render:{deploys}"])
    assert not report.failure_windows
    (incident,) = report.incidents
    assert incident.status is IncidentStatus.AT_RISK and incident.window is None
    assert report.status is IncidentStatus.AT_RISK
    assert incident.headline == f"Applied migration `{M}` edited since the last successful deploy"
    assert "the next deploy ships edits that production never runs" in incident.impact
    assert incident.plan[-1].step.startswith("Commit, push once; the next deploy")
    assert "**AT RISK** · No deploy has failed yet" in render_summary(report)


def test_an_edit_production_already_runs_stays_a_plain_finding(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    deploys = _applied_then(repo, tmp_path, live_after_edit=True)
    report = run(repo.path, [f"render:{deploys}"])
    assert any(f.rule == "FX201" for f in report.findings)
    assert report.incidents == ()
    assert report.status is IncidentStatus.DEGRADED  # a high finding, but nothing blocked
    assert render_summary(report).startswith(
        "# Migration incident report: production needs attention"
    )


def test_without_any_evidence_the_status_is_unknown_never_healthy(
    git_repo: Callable[..., RepoBuilder],
) -> None:
    repo = git_repo()
    _schema(repo)
    report = run(repo.path, [])
    assert report.incidents == () and report.status is IncidentStatus.UNKNOWN
    assert report_json(report)["status"] == "unknown"
    summary = render_summary(report)
    assert "**UNKNOWN** · No deploy, database or health-check evidence was given" in summary


def test_deploys_that_all_went_live_are_healthy(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    live = _schema(repo)
    deploys = tmp_path / "deploys.json"
    deploys.write_text(json.dumps([_render("dep-A", "live", live, T0 + timedelta(minutes=5))]))
    report = run(repo.path, [f"render:{deploys}"])
    assert report.status is IncidentStatus.HEALTHY
    assert "Production serves deploy `dep-A`" in render_summary(report)


def test_a_window_that_no_migration_explains_plans_to_revert_its_first_suspect(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    live = _schema(repo)
    bad = repo.commit("feat: new cache", T0 + timedelta(hours=1), files={"app.py": "x = 1\n"})
    deploys = tmp_path / "deploys.json"
    deploys.write_text(
        json.dumps(
            [
                _render("dep-A", "live", live, T0 + timedelta(minutes=5)),
                _render("dep-B", "update_failed", bad, T0 + timedelta(hours=1, minutes=2)),
            ]
        )
    )
    report = run(repo.path, [f"render:{deploys}"])
    (incident,) = report.incidents
    assert incident.status is IncidentStatus.BLOCKED
    assert [p.command for p in incident.plan if p.command] == [f"git revert --no-edit {bad}"]
    assert f"`{bad[:8]}` (feat: new cache)" in incident.cause
