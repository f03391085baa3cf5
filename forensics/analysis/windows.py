"""Failure windows over the deploy timeline, and the ranked suspects behind each one.

A window is the run of failed deploys between one successful deploy (live or superseded)
and the next, in order of creation time. In-progress, canceled and unknown deploys neither
open nor close a window.

Causality comes first: a window's cause lies in what its first failed deploy shipped that
the last good one did not, by ancestry in the commit graph, not by time. Those commits are
ranked by what they did to the migrations, and by SZZ blame from the later fixes; the
commits shipped after the first failure are listed apart (they can only have kept the
deploys failing, or tried to fix them, and a fix attempt that broke the graph again is
named a failed fix). Without a known good deploy the cause cannot be bounded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from forensics.analysis.applied import edited_after
from forensics.model.commits import CommitRecord
from forensics.model.deploys import (
    AppliedMigration,
    Deploy,
    DeployCategory,
    FailureWindow,
    Suspect,
    SuspectRole,
)
from forensics.model.findings import Severity
from forensics.model.migrations import ChangeKind, GraphHistory, MigrationChange

# One score per tier, so that a reader can tell the tiers apart at a glance.
SCORE_BROKE = 1.0
SCORE_LEFT_BROKEN = 0.9
SCORE_APPLIED_EDIT = 0.7
SCORE_NEW_MIGRATION = 0.5
SCORE_OTHER = 0.1
# A commit whose lines a later fix had to change (SZZ) moves up within its tier, and an
# edit to an applied migration above a commit that merely left the graph broken.
SZZ_BONUS = 0.25

# (fix commit, path): a later fix changed lines of ``path`` that the blamed commit wrote.
Blame = tuple[str, str]


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


@dataclass(frozen=True)
class SuspectRange:
    """What to ``git log`` for a window's suspects, by ancestry rather than by time.

    The possible causes are ``cause_tip ^good``: what the first failed deploy shipped that
    the last good one did not. The later commits are ``later_tip ^cause_tip ^good``: what
    the window's later deploys (and the recovering one) shipped on top. ``good`` is
    ``None`` when no successful deploy with a known commit precedes the window: the cause
    cannot be bounded then.
    """

    cause_tip: str | None
    later_tip: str | None
    good: str | None

    @property
    def bounded(self) -> bool:
        return self.good is not None


def suspect_range(window: FailureWindow, deploys: Sequence[Deploy]) -> SuspectRange:
    """The window's ranges: the first failed deploy that names a known commit bounds the
    causes; the recovering deploy, or else the newest failed one, bounds the later
    commits."""
    by_id = {d.id: d for d in deploys}
    shipped = [by_id[i].commit for i in window.deploys if i in by_id and by_id[i].commit]
    before = by_id.get(window.last_live_before or "")
    good = before.commit if before is not None else None
    if not shipped:
        return SuspectRange(None, None, good)
    recovered = by_id.get(window.recovered_by or "")
    later = recovered.commit if recovered is not None and recovered.commit else shipped[-1]
    return SuspectRange(shipped[0], later if later != shipped[0] else None, good)


@dataclass(frozen=True)
class _Evidence:
    """What one candidate commit did to the migrations."""

    broke: list[str]
    left_broken: list[str]
    applied_edits: list[MigrationChange]
    added: list[MigrationChange]
    resolved: list[str]


class _Index:
    """The history indexed by commit once per window, rather than scanned per candidate
    (a long window on a busy repository has hundreds of candidates)."""

    def __init__(self, history: GraphHistory) -> None:
        self.history = history
        self.changes: dict[str, list[MigrationChange]] = {}
        for change in history.changes:
            for sha in dict.fromkeys((change.commit, *change.authors)):
                self.changes.setdefault(sha, []).append(change)
        self.opened: dict[str, set[tuple[str, str | None, str | None]]] = {}
        self.resolved: dict[str, list[str]] = {}
        for e in history.events:
            self.opened.setdefault(e.commit, set()).add((e.kind, e.revision, e.path))
            if e.resolved_by:
                subject = e.revision or e.path
                text = e.kind + (f" of {subject}" if subject else "")
                self.resolved.setdefault(e.resolved_by, []).append(text)

    def changes_by(self, sha: str) -> list[MigrationChange]:
        return self.changes.get(sha, [])


def _evidence(
    commit: CommitRecord, index: _Index, applied: Collection[AppliedMigration]
) -> _Evidence:
    point = index.history.point_at(commit.sha)
    broke: list[str] = []
    left_broken: list[str] = []
    if point is not None and point.broken:
        opened = index.opened.get(commit.sha, set())
        for problem in point.problems:
            if problem.severity < Severity.HIGH:  # the graph still upgrades
                continue
            target = (
                broke if (problem.kind, problem.revision, problem.path) in opened else left_broken
            )
            target.append(f"{problem.name} ({problem.rule}): {problem.detail}")
    changes = index.changes_by(commit.sha)
    return _Evidence(
        broke=broke,
        left_broken=left_broken,
        applied_edits=[c for c in changes if any(edited_after(c, m) for m in applied)],
        added=[c for c in changes if c.kind is ChangeKind.ADDED],
        resolved=list(index.resolved.get(commit.sha, ())),
    )


def _blame_reasons(
    commit: CommitRecord, index: _Index, blamed: Mapping[str, Sequence[Blame]]
) -> list[str]:
    """Why SZZ points at ``commit``: a later fix changed lines that it (or a commit its
    merge brought) last wrote."""
    own = {commit.sha, *(a for c in index.changes_by(commit.sha) for a in c.authors)}
    found = [b for sha in sorted(own) for b in blamed.get(sha, ())]
    return [
        f"a later fix, {fix[:8]}, changed lines of {path} that it had written (SZZ blame)"
        for fix, path in dict.fromkeys(found)
    ]


def _graph_reasons(found: _Evidence, later: bool, failed_fix: bool) -> tuple[float, list[str]]:
    """The score and reasons from what a commit did to the migration graph as a whole."""
    reasons: list[str] = []
    score = SCORE_OTHER
    if found.broke:
        score = SCORE_BROKE
        if failed_fix:
            lead = "a fix attempt that broke the migration graph in a new way"
        elif later:
            lead = "after the failures began, it broke the migration graph anew"
        else:
            lead = "it broke the migration graph"
        reasons += [f"{lead}: {text}" for text in found.broke]
    if found.left_broken:
        score = max(score, SCORE_LEFT_BROKEN)
        reasons += [
            f"the migration graph was still broken after it: {t}" for t in found.left_broken
        ]
    if later:
        reasons += [f"it resolved the {text}: an attempted fix" for text in found.resolved]
    return score, reasons


def _file_reasons(found: _Evidence, score: float) -> tuple[float, list[str]]:
    """``score`` raised, and the reasons, by the migration files a commit edited after
    production applied them or added."""
    reasons: list[str] = []
    for change in found.applied_edits:
        score = max(score, SCORE_APPLIED_EDIT)
        reasons.append(
            f"it edited {change.path} (revision {change.revision or '?'}), which production had "
            f"already applied; kind of change: {change.kind.value}"
        )
    for change in found.added:
        score = max(score, SCORE_NEW_MIGRATION)
        reasons.append(f"it added the migration {change.path} (revision {change.revision or '?'})")
    return score, reasons


def _suspect(
    commit: CommitRecord,
    window: FailureWindow,
    index: _Index,
    applied: Collection[AppliedMigration],
    role: SuspectRole,
    blamed: Mapping[str, Sequence[Blame]],
    cause_paths: Collection[str] = (),
) -> Suspect:
    found = _evidence(commit, index, applied)
    later = role is SuspectRole.LATER
    # A later commit on the files the causes changed was working on the incident: if it
    # broke the graph, it is a fix attempt that failed, not only another break.
    failed_fix = later and bool(found.broke)
    failed_fix = failed_fix and any(c.path in cause_paths for c in index.changes_by(commit.sha))
    score, reasons = _graph_reasons(found, later, failed_fix)
    score, file_reasons = _file_reasons(found, score)
    reasons += file_reasons
    if not later:
        szz = _blame_reasons(commit, index, blamed)
        if szz:
            score += SZZ_BONUS
            reasons += szz
    if not reasons:
        when = "during the failures" if commit.committed_at >= window.start else "before them"
        reasons.append(f"it changed no migration file; it was committed {when}")
    return Suspect(
        commit=commit.sha,
        score=round(score, 3),
        reasons=tuple(reasons),
        role=role,
        failed_fix=failed_fix,
    )


def _by_time(commits: Iterable[CommitRecord]) -> list[CommitRecord]:
    return sorted({c.sha: c for c in commits}.values(), key=lambda c: (c.committed_at, c.sha))


def rank_suspects(
    window: FailureWindow,
    candidates: Sequence[CommitRecord],
    history: GraphHistory,
    applied: Sequence[AppliedMigration],
    *,
    later: Sequence[CommitRecord] = (),
    bounded: bool = True,
    blamed: Mapping[str, Sequence[Blame]] | None = None,
) -> tuple[Suspect, ...]:
    """``candidates`` are the commits the first failed deploy shipped that the last good one
    did not (``git log FIRST_FAILED ^LAST_GOOD``); only they can have caused the failures.
    ``later`` are the commits shipped after them (``git log RECOVERED ^FIRST_FAILED
    ^LAST_GOOD``), listed apart after the causes, oldest first. ``bounded`` is False when
    no good deploy is known: the candidates are then what came before the first failure,
    with no lower bound. ``blamed`` maps a commit to the ``(fix, path)`` pairs whose SZZ
    blame points at it (``Git.get_commits_last_modified_lines`` over the later fixes).

    Possible causes come first, highest score first; among equals, the earliest commit
    first, since the first break is the likeliest cause."""
    role = SuspectRole.CAUSE if bounded else SuspectRole.UNBOUNDED
    blame = blamed or {}
    index = _Index(history)
    causes = [_suspect(c, window, index, applied, role, blame) for c in _by_time(candidates)]
    seen = {c.commit for c in causes}
    paths = {c.path for s in seen for c in index.changes_by(s)}
    after = [
        _suspect(c, window, index, applied, SuspectRole.LATER, blame, paths)
        for c in _by_time(later)
        if c.sha not in seen
    ]
    return tuple(sorted([*causes, *after], key=lambda s: s.order))
