"""Failure windows and suspect ranking, over model objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forensics.analysis.windows import (
    SCORE_APPLIED_EDIT,
    SCORE_BROKE,
    SCORE_LEFT_BROKEN,
    SCORE_NEW_MIGRATION,
    SCORE_OTHER,
    SuspectRange,
    failure_windows,
    rank_suspects,
    suspect_range,
)
from forensics.model.commits import CommitRecord, Person
from forensics.model.deploys import AppliedMigration, Deploy, DeployCategory, FailureWindow
from forensics.model.findings import Severity
from forensics.model.migrations import (
    ChangeKind,
    GraphEvent,
    GraphHistory,
    GraphProblem,
    HistoryPoint,
    MigrationChange,
)

T0 = datetime(2025, 11, 16, 9, 0, tzinfo=UTC)
C = DeployCategory


def dep(ident: str, category: DeployCategory, minute: int, commit: str | None = None) -> Deploy:
    return Deploy(
        id=ident,
        status=category.value,
        category=category,
        created_at=T0 + timedelta(minutes=minute),
        source="test",
        commit=commit,
        finished_at=T0 + timedelta(minutes=minute + 2),
    )


def test_windows_open_close_and_skip_in_progress() -> None:
    deploys = [
        dep("f0", C.FAILED, 0),
        dep("ok1", C.SUPERSEDED, 10),
        dep("f1", C.FAILED, 20),
        dep("run", C.IN_PROGRESS, 25),
        dep("cancel", C.CANCELED, 27),
        dep("odd", C.UNKNOWN, 28),
        dep("f2", C.FAILED, 30),
        dep("ok2", C.LIVE, 40),
        dep("f3", C.FAILED, 50),
    ]
    first, second, third = failure_windows(list(reversed(deploys)))
    assert (first.last_live_before, first.deploys, first.recovered_by) == (None, ("f0",), "ok1")
    assert second.count == 2 and second.deploys == ("f1", "f2")
    assert (second.first_failed, second.last_failed) == ("f1", "f2")
    assert second.last_live_before == "ok1" and second.recovered_by == "ok2"
    assert (second.start, second.end) == (T0 + timedelta(minutes=20), T0 + timedelta(minutes=40))
    assert not second.open
    assert third.open and third.recovered_by is None and third.last_live_before == "ok2"
    assert third.end == T0 + timedelta(minutes=52)  # the last failure's finish


def test_no_failures_no_windows() -> None:
    assert failure_windows([dep("a", C.LIVE, 0), dep("b", C.IN_PROGRESS, 1)]) == []


def test_suspect_range_bounds_causes_by_the_first_failed_commit() -> None:
    deploys = [
        dep("ok", C.LIVE, 0, "c0"),
        dep("f1", C.FAILED, 5, "c1"),
        dep("f2", C.FAILED, 9, "c2"),
        dep("f3", C.FAILED, 12),
    ]
    (window,) = failure_windows(deploys)
    assert suspect_range(window, deploys) == SuspectRange("c1", "c2", "c0")
    recovered = [*deploys, dep("ok2", C.LIVE, 20, "c3")]
    (window,) = failure_windows(recovered)
    assert suspect_range(window, recovered) == SuspectRange("c1", "c3", "c0")


def test_suspect_range_without_a_good_deploy_is_unbounded() -> None:
    deploys = [dep("f1", C.FAILED, 5, "c1")]
    (window,) = failure_windows(deploys)
    span = suspect_range(window, deploys)
    assert span == SuspectRange("c1", None, None) and not span.bounded


def commit(sha: str, minute: int) -> CommitRecord:
    who = Person("Dev", "dev@example.com")
    at = T0 + timedelta(minutes=minute)
    return CommitRecord(
        sha=sha,
        parents=(),
        author=who,
        committer=who,
        authored_at=at,
        committed_at=at,
        message=f"commit {sha}",
    )


def change(sha: str, minute: int, kind: ChangeKind, path: str = "v/m.py") -> MigrationChange:
    return MigrationChange(
        commit=sha,
        at=T0 + timedelta(minutes=minute),
        path=path,
        kind=kind,
        revision="m",
        authors=(sha,),
        environment="alembic",
    )


def problem(kind: str) -> GraphProblem:
    return GraphProblem(
        rule="FX105",
        name="unparseable-migration",
        kind=kind,
        severity=Severity.CRITICAL,
        detail="line 3: invalid syntax",
        revision="m",
        path="v/m.py",
        environment="alembic",
    )


def test_ranking_and_reasons() -> None:
    broken = problem("parse-error")
    history = GraphHistory(
        points=(
            HistoryPoint("edit", T0 + timedelta(minutes=2), (("alembic", ("m",)),), ()),
            HistoryPoint("break", T0 + timedelta(minutes=3), (("alembic", ("m",)),), (broken,)),
            HistoryPoint("still", T0 + timedelta(minutes=4), (("alembic", ("m",)),), (broken,)),
            HistoryPoint("new", T0 + timedelta(minutes=6), (("alembic", ("n",)),), ()),
            HistoryPoint("old-edit", T0 - timedelta(minutes=60), (("alembic", ("m",)),), ()),
        ),
        events=(
            GraphEvent(
                kind="parse-error",
                rule="FX105",
                commit="break",
                at=T0 + timedelta(minutes=3),
                detail="x",
                resolved_by="new",
                revision="m",
                path="v/m.py",
                environment="alembic",
            ),
        ),
        changes=(
            change("old-edit", -60, ChangeKind.CODE),
            change("edit", 2, ChangeKind.CODE),
            change("break", 3, ChangeKind.PARSE_ERROR),
            change("still", 4, ChangeKind.COSMETIC),
            change("new", 6, ChangeKind.ADDED, path="v/n.py"),
        ),
    )
    applied = [
        AppliedMigration(
            revision="m",
            path="v/m.py",
            environment="alembic",
            evidence="deploy",
            since_deploy="ok",
            since_commit="base",
            since_at=T0,
            since_commit_at=T0 - timedelta(minutes=30),
        )
    ]
    window = FailureWindow(
        start=T0 + timedelta(minutes=5),
        end=T0 + timedelta(minutes=9),
        count=1,
        first_failed="f",
        last_failed="f",
        last_live_before="ok",
        recovered_by=None,
    )
    candidates = [
        commit(s, m)
        for s, m in (("new", 6), ("docs", 1), ("still", 4), ("edit", 2), ("break", 3), ("docs", 1))
    ]
    ranked = rank_suspects(window, candidates, history, applied)
    assert [s.commit for s in ranked] == ["break", "still", "edit", "new", "docs"]
    assert [s.score for s in ranked] == [
        SCORE_BROKE,
        SCORE_LEFT_BROKEN,
        SCORE_APPLIED_EDIT,
        SCORE_NEW_MIGRATION,
        SCORE_OTHER,
    ]
    assert ranked[0].reasons[0].startswith("it broke the migration graph: unparseable-migration")
    assert any("already applied; kind of change: parse-error" in r for r in ranked[0].reasons)
    assert "still broken" in ranked[1].reasons[0]
    assert "v/n.py" in ranked[3].reasons[0]
    assert ranked[4].reasons == ("it changed no migration file; it was committed before them",)
