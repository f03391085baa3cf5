"""FX301 commit-burst, FX302 automation-suspected and FX303 migration-churn."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from forensics import detectors
from forensics.analysis.bursts import find_bursts
from forensics.config import Thresholds
from forensics.detectors import activity_rules
from forensics.detectors.base import Context
from forensics.gitbuild import RepoBuilder
from forensics.model.commits import CommitRecord
from forensics.model.deploys import AppliedMigration
from forensics.model.findings import Finding, Severity
from forensics.model.migrations import GraphHistory, MigrationChange
from forensics.sources.git import GitSource
from tests.activity import MIGRATION, T0, VERSIONS, mine, seed_burst

Make = Callable[..., RepoBuilder]


def context(
    changes: list[MigrationChange],
    commits: dict[str, CommitRecord],
    *,
    since_days: float | None = None,
    thresholds: Thresholds | None = None,
    **extra: object,
) -> Context:
    t = thresholds or Thresholds()
    bursts = find_bursts(changes, commits, min_commits=t.burst_min_commits, max_gap=t.burst_max_gap)
    until = T0 + timedelta(days=1)
    return Context(
        rev="HEAD",
        until=until,
        since=None if since_days is None else until - timedelta(days=since_days),
        thresholds=t,
        history=GraphHistory(changes=tuple(changes)),
        commits=commits,
        bursts=tuple(bursts),
        **extra,  # type: ignore[arg-type]
    )


def by_rule(ctx: Context, rule: str) -> list[Finding]:
    return [f for f in activity_rules.detect(ctx) if f.rule == rule]


@pytest.fixture
def seed(git_repo: Make, make_migration: Callable[..., str]) -> tuple[Context, list[str]]:
    repo = git_repo()
    shas = seed_burst(repo, make_migration)
    changes, commits = mine(GitSource(repo.path))
    return context(changes, commits), shas


@pytest.mark.rule("FX301", fires=True)
@pytest.mark.rule("FX302", fires=True)
def test_the_seed_burst_fires_fx301_and_fx302(seed: tuple[Context, list[str]]) -> None:
    ctx, shas = seed
    (burst,) = by_rule(ctx, "FX301")
    assert burst.commits == tuple(shas)
    assert burst.path == MIGRATION and burst.revision == "774225e563ca"
    assert burst.severity is Severity.LOW
    assert [c.kind for c in burst.changes] == ["code"] * 10
    assert "10 commits" in burst.title and "median gap 2m 20s" in burst.detail
    (auto,) = by_rule(ctx, "FX302")
    assert auto.commits == tuple(shas)
    assert "Co-Authored-By Claude" in auto.detail and "under 3 minutes" in auto.detail
    # the registry runs the family
    assert {f.rule for f in detectors.run(ctx)} >= {"FX301", "FX302"}
    assert {r.id for r in detectors.all_rules()} >= {"FX301", "FX302", "FX303"}


@pytest.mark.rule("FX301", fires=True)
def test_a_burst_on_an_applied_migration_is_more_severe(
    seed: tuple[Context, list[str]],
) -> None:
    ctx, _shas = seed
    applied = AppliedMigration(revision="774225e563ca", path=MIGRATION, environment="alembic")
    ctx = Context(**{**ctx.__dict__, "applied": (applied,)})
    (burst,) = by_rule(ctx, "FX301")
    assert burst.severity is Severity.MEDIUM and "already applied" in burst.detail


@pytest.mark.rule("FX301", fires=False)
@pytest.mark.rule("FX302", fires=False)
def test_no_burst_outside_the_window_or_below_the_threshold(
    seed: tuple[Context, list[str]],
) -> None:
    ctx, _shas = seed
    later = Context(**{**ctx.__dict__, "since": T0 + timedelta(hours=1)})
    assert by_rule(later, "FX301") == [] and by_rule(later, "FX302") == []
    strict = context(
        list(ctx.history.changes), dict(ctx.commits), thresholds=Thresholds(burst_min_commits=11)
    )
    assert by_rule(strict, "FX301") == []


@pytest.mark.rule("FX301", fires=True)
@pytest.mark.rule("FX302", fires=False)
def test_human_paced_burst_is_a_burst_but_not_automation(
    git_repo: Make, make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    path = VERSIONS + "bbb_invoices.py"
    repo.commit("Add invoices", T0, files={path: make_migration("bbb", None)})
    subjects = ["Fix typo in column name", "review: index on customer_id", "Rename constraint"]
    for i, (minutes, subject) in enumerate(zip([4, 18, 25], subjects, strict=True)):
        repo.commit(
            subject,
            T0 + timedelta(minutes=minutes),
            author=("Ann", "Bob")[i % 2],
            files={path: make_migration("bbb", None, body=f"    y = {i}")},
        )
    changes, commits = mine(GitSource(repo.path))
    ctx = context(changes, commits)
    assert len(by_rule(ctx, "FX301")) == 1
    assert by_rule(ctx, "FX302") == []


@pytest.mark.rule("FX303", fires=True)
@pytest.mark.rule("FX303", fires=False)
def test_churn_fires_above_five_edits_and_the_percentile(
    git_repo: Make, make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    for p in range(12):
        repo.commit(
            f"add {p}",
            T0 - timedelta(days=30 - p),
            files={f"{VERSIONS}r{p:03d}_m.py": make_migration(f"r{p:03d}", None)},
        )
    hot = f"{VERSIONS}r004_m.py"
    for e in range(6):  # hours apart: churn, not a burst
        repo.commit(
            f"tweak {e}",
            T0 - timedelta(days=2, hours=-3 * e),
            files={hot: make_migration("r004", None, body=f"    z = {e}")},
        )
    changes, commits = mine(GitSource(repo.path))
    ctx = context(changes, commits)
    assert by_rule(ctx, "FX301") == []
    (churn,) = by_rule(ctx, "FX303")
    assert churn.path == hot and churn.revision == "r004" and len(churn.commits) == 6
    assert "6 commits edited" in churn.detail
    # five edits are not more than five
    fewer = [c for c in changes if c.commit != churn.commits[-1]]
    assert by_rule(context(fewer, commits), "FX303") == []
    # outside the window nothing is reported
    assert by_rule(context(changes, commits, since_days=1), "FX303") == []
