"""Failure windows over the deploy timeline, and the ranked suspects behind each one.

A window is the run of failed deploys between one successful deploy (live or superseded)
and the next, in order of creation time. In-progress, canceled and unknown deploys neither
open nor close a window.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from forensics.analysis.applied import edited_after
from forensics.model.commits import CommitRecord
from forensics.model.deploys import AppliedMigration, Deploy, DeployCategory, FailureWindow, Suspect
from forensics.model.findings import Severity
from forensics.model.migrations import ChangeKind, GraphHistory, MigrationChange

# One score per tier, so that a reader can tell the tiers apart at a glance.
SCORE_BROKE = 1.0
SCORE_LEFT_BROKEN = 0.9
SCORE_APPLIED_EDIT = 0.7
SCORE_NEW_MIGRATION = 0.5
SCORE_OTHER = 0.1


def _window(
    failed: Sequence[Deploy], before: Deploy | None, recovered: Deploy | None
) -> FailureWindow:
    first, last = failed[0], failed[-1]
    end = recovered.created_at if recovered else (last.finished_at or last.created_at)
    return FailureWindow(
        start=first.created_at,
        end=max(end, first.created_at),
        count=len(failed),
        first_failed=first.id,
        last_failed=last.id,
        last_live_before=before.id if before else None,
        recovered_by=recovered.id if recovered else None,
        deploys=tuple(d.id for d in failed),
    )


def failure_windows(deploys: Sequence[Deploy]) -> list[FailureWindow]:
    windows: list[FailureWindow] = []
    last_success: Deploy | None = None
    failed: list[Deploy] = []
    for deploy in sorted(deploys, key=lambda d: (d.created_at, d.id)):
        if deploy.category is DeployCategory.FAILED:
            failed.append(deploy)
        elif deploy.category.succeeded:
            if failed:
                windows.append(_window(failed, last_success, deploy))
                failed = []
            last_success = deploy
    if failed:
        windows.append(_window(failed, last_success, None))
    return windows


def candidate_range(
    window: FailureWindow, deploys: Sequence[Deploy]
) -> tuple[str | None, tuple[str, ...]]:
    """What to ``git log`` for a window's suspects: the newest commit the window's failed
    deploys shipped (so commits pushed during the window count too), excluding what the last
    successful deploy before it ran. ``(None, ())`` when no failed deploy names a known
    commit."""
    by_id = {d.id: d for d in deploys}
    shipped = [by_id[i] for i in window.deploys if i in by_id and by_id[i].commit]
    if not shipped:
        return None, ()
    before = by_id.get(window.last_live_before or "")
    exclude = (before.commit,) if before is not None and before.commit else ()
    return shipped[-1].commit, exclude


@dataclass(frozen=True)
class _Evidence:
    """What one candidate commit did to the migrations."""

    broke: list[str]
    left_broken: list[str]
    applied_edits: list[MigrationChange]
    added: list[MigrationChange]


def _changes_by(history: GraphHistory, sha: str) -> list[MigrationChange]:
    return [c for c in history.changes if c.commit == sha or sha in c.authors]


def _evidence(
    commit: CommitRecord, history: GraphHistory, applied: Collection[AppliedMigration]
) -> _Evidence:
    point = history.point_at(commit.sha)
    broke: list[str] = []
    left_broken: list[str] = []
    if point is not None and point.broken:
        opened = {(e.kind, e.revision, e.path) for e in history.events if e.commit == commit.sha}
        for problem in point.problems:
            if problem.severity < Severity.HIGH:  # the graph still upgrades
                continue
            target = (
                broke if (problem.kind, problem.revision, problem.path) in opened else left_broken
            )
            target.append(f"{problem.name} ({problem.rule}): {problem.detail}")
    changes = _changes_by(history, commit.sha)
    return _Evidence(
        broke=broke,
        left_broken=left_broken,
        applied_edits=[c for c in changes if any(edited_after(c, m) for m in applied)],
        added=[c for c in changes if c.kind is ChangeKind.ADDED],
    )


def _suspect(
    commit: CommitRecord,
    window: FailureWindow,
    history: GraphHistory,
    applied: Collection[AppliedMigration],
) -> Suspect:
    found = _evidence(commit, history, applied)
    reasons: list[str] = []
    score = SCORE_OTHER
    if found.broke:
        score = SCORE_BROKE
        reasons += [f"it broke the migration graph: {text}" for text in found.broke]
    if found.left_broken:
        score = max(score, SCORE_LEFT_BROKEN)
        reasons += [
            f"the migration graph was still broken after it: {t}" for t in found.left_broken
        ]
    for change in found.applied_edits:
        score = max(score, SCORE_APPLIED_EDIT)
        reasons.append(
            f"it edited {change.path} (revision {change.revision or '?'}), which production had "
            f"already applied; kind of change: {change.kind.value}"
        )
    for change in found.added:
        score = max(score, SCORE_NEW_MIGRATION)
        reasons.append(f"it added the migration {change.path} (revision {change.revision or '?'})")
    if not reasons:
        when = "during the failures" if commit.committed_at >= window.start else "before them"
        reasons.append(f"it changed no migration file; it was committed {when}")
    return Suspect(commit=commit.sha, score=score, reasons=tuple(reasons))


def rank_suspects(
    window: FailureWindow,
    candidates: Sequence[CommitRecord],
    history: GraphHistory,
    applied: Sequence[AppliedMigration],
) -> tuple[Suspect, ...]:
    """``candidates`` are the commits after the last successful deploy up to the window's
    last failed deploy (``git log LAST_FAILED ^LAST_LIVE``). Highest score first; among
    equals, the earliest commit first, since the first break is the likeliest cause."""
    unique = sorted({c.sha: c for c in candidates}.values(), key=lambda c: (c.committed_at, c.sha))
    suspects = [_suspect(c, window, history, applied) for c in unique]
    return tuple(sorted(suspects, key=lambda s: -s.score))
