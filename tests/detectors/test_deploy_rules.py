"""FX401-FX403: the seed's shape in a real repository, and edge cases over model objects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forensics.detectors import deploy_rules
from forensics.detectors.base import Context
from forensics.gitbuild import RepoBuilder
from forensics.model.deploys import Deploy, DeployCategory, FailureWindow, Suspect, SuspectRole
from forensics.model.findings import Confidence, Severity
from forensics.model.migrations import GraphHistory, GraphProblem, HistoryPoint
from tests.detectors.scenario import Seed, analyse, build_seed, by_rule

NOW = datetime(2025, 11, 16, 17, 25, tzinfo=UTC)


@pytest.fixture
def seed(git_repo: Callable[..., RepoBuilder], tmp_path: Path) -> Seed:
    return build_seed(git_repo(), tmp_path)


@pytest.mark.rule("FX401", fires=True)
@pytest.mark.rule("FX402", fires=True)
@pytest.mark.rule("FX403", fires=True)
def test_seed_window_suspects_and_broken_deploys(seed: Seed) -> None:
    ctx, findings = analyse(seed.repo.path, [f"render:{seed.deploys_file}"])
    (streak,) = by_rule(findings, "FX401")
    failed_ids = tuple(f"dep-{n:02d}" for n in range(11))
    assert streak.deploys == failed_ids
    facts = dict(streak.facts)
    assert facts["failed deploys"] == "11" and facts["last successful before"] == "dep-D"
    assert facts["recovered by"] == "not yet" and "dep-D" in streak.detail
    assert streak.severity is Severity.HIGH

    # Only the commit the first failed deploy shipped can have caused the failures; the
    # rewire and the syntax error came after it, as failed fixes.
    (suspect,) = by_rule(findings, "FX402")
    suspects = ctx.failure_windows[0].suspects
    assert suspect.commits[0] == seed.edits[0] == suspects[0].commit
    assert suspects[0].role is SuspectRole.CAUSE
    assert {s.role for s in suspects[1:]} == {SuspectRole.LATER}
    assert {s.commit for s in suspects if s.failed_fix} == {seed.syntax_error, seed.rewire}
    assert seed.syntax_error in suspect.commits and seed.message_only not in suspect.commits
    assert "failed fix" in suspect.detail and suspect.confidence is Confidence.HIGH

    broken = by_rule(findings, "FX403")
    syntax_deploy = [f for f in broken if seed.syntax_error in f.commits]
    assert len(syntax_deploy) == 1 and syntax_deploy[0].deploys == ("dep-06",)
    assert syntax_deploy[0].rule == "FX403" and "does not parse" in syntax_deploy[0].detail
    # every flagged deploy shipped a commit whose graph was really broken
    assert {c for f in broken for c in f.commits} == {seed.rewire, seed.edits[3], seed.syntax_error}
    assert all(f.severity is Severity.MEDIUM for f in broken)  # they failed, as they must


@pytest.mark.rule("FX401", fires=False)
@pytest.mark.rule("FX402", fires=False)
@pytest.mark.rule("FX403", fires=False)
def test_no_deploys_no_findings(seed: Seed) -> None:
    _ctx, findings = analyse(seed.repo.path, [])
    assert not [f for f in findings if f.rule.startswith("FX4")]


T0 = datetime(2025, 11, 16, 9, 0, tzinfo=UTC)


def dep(ident: str, category: DeployCategory, minute: int, commit: str) -> Deploy:
    return Deploy(
        id=ident,
        status=category.value,
        category=category,
        source="t",
        created_at=T0 + timedelta(minutes=minute),
        commit=commit,
    )


@pytest.mark.rule("FX401", fires=True)
@pytest.mark.rule("FX402", fires=True)
@pytest.mark.rule("FX403", fires=True)
def test_recovered_window_is_low_and_live_broken_deploy_is_high() -> None:
    problem = GraphProblem(
        rule="FX101",
        name="multiple-heads",
        kind="multiple-heads",
        severity=Severity.HIGH,
        detail="2 heads (a, b)",
    )
    history = GraphHistory(
        points=(
            HistoryPoint("c-broken", T0, (("alembic", ("a", "b")),), (problem,)),
            HistoryPoint("c-fixed", T0 + timedelta(minutes=20), (("alembic", ("m",)),), ()),
        )
    )
    deploys = (
        dep("d1", DeployCategory.LIVE, 5, "c-broken"),
        dep("d2", DeployCategory.FAILED, 10, "c-broken"),
        dep("d3", DeployCategory.LIVE, 25, "c-fixed"),
    )
    window = FailureWindow(
        start=T0 + timedelta(minutes=10),
        end=T0 + timedelta(minutes=25),
        count=1,
        first_failed="d2",
        last_failed="d2",
        last_live_before="d1",
        recovered_by="d3",
        deploys=("d2",),
        suspects=(Suspect("c-other", 0.1, ("it changed no migration file",)),),
    )
    ctx = Context(
        rev="c-fixed",
        until=NOW,
        history=history,
        deploys=deploys,
        failure_windows=(window,),
    )
    findings = list(deploy_rules.detect(ctx))
    (streak,) = [f for f in findings if f.rule == "FX401"]
    assert streak.severity is Severity.LOW and "recovered by d3" in streak.title
    assert dict(streak.facts)["duration"] == "15 min"
    (suspect,) = [f for f in findings if f.rule == "FX402"]
    assert suspect.confidence is Confidence.LOW and suspect.commits == ("c-other",)
    broken = {f.deploys[0]: f for f in findings if f.rule == "FX403"}
    assert set(broken) == {"d1", "d2"}
    assert broken["d1"].severity is Severity.HIGH
    assert "its migrations cannot have run" in broken["d1"].detail
    assert broken["d2"].severity is Severity.MEDIUM
