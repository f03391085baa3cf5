"""Activity rules: bursts of commits on migration files (FX301), bursts that look automated
(FX302), and migrations edited far more often than their peers (FX303).

Only commits that really changed a migration file count (``MigrationChange.authors``);
bursts come prepared in ``Context.bursts``, churn is computed from ``Context.history``.
"""

from __future__ import annotations

from collections.abc import Iterator

from forensics.analysis.bursts import churn, duration_text
from forensics.detectors.base import Context
from forensics.model.findings import ChangeRef, Confidence, Finding, Severity
from forensics.model.migrations import MigrationChange
from forensics.model.report import Burst
from forensics.model.rules import Rule, RuleGroup, RuleId, in_group, rule

AUTOMATION_THRESHOLD = 0.5

RULES: tuple[Rule, ...] = in_group(RuleGroup.ACTIVITY)
FX301, FX302, FX303 = (rule(RuleId.FX301), rule(RuleId.FX302), rule(RuleId.FX303))


def detect(ctx: Context) -> Iterator[Finding]:
    for burst in ctx.bursts:
        if not _overlaps(ctx, burst):
            continue
        yield _burst_finding(ctx, burst)
        if burst.automation_score >= AUTOMATION_THRESHOLD:
            yield _automation_finding(burst)
    yield from _churn_findings(ctx)


def _overlaps(ctx: Context, burst: Burst) -> bool:
    return (ctx.since is None or burst.end >= ctx.since) and burst.start <= ctx.until


def _changes_of(
    ctx: Context, commits: tuple[str, ...], paths: tuple[str, ...]
) -> list[tuple[str, MigrationChange]]:
    """``(author commit, change)`` for each commit of ``commits`` that changed ``paths``."""
    wanted, found = set(commits), []
    for change in ctx.history.changes:
        if change.path in paths:
            found += [(s, change) for s in change.authors or (change.commit,) if s in wanted]
    return found


def _where(burst: Burst) -> str:
    if len(burst.paths) == 1:
        return burst.paths[0]
    return f"{len(burst.paths)} migration files"


def _burst_finding(ctx: Context, burst: Burst) -> Finding:
    pairs = _changes_of(ctx, burst.commits, burst.paths)
    kinds = {sha: change.kind for sha, change in pairs}
    revisions = [change.revision for _sha, change in pairs if change.revision]
    applied = {a.path for a in ctx.applied} & set(burst.paths)
    n = len(burst.commits)
    span = duration_text((burst.end - burst.start).total_seconds())
    detail = (
        f"{n} commits by {', '.join(burst.authors)} changed {', '.join(burst.paths)} "
        f"between {burst.start:%Y-%m-%d %H:%M} and {burst.end:%H:%M} UTC ({span}); median gap "
        f"{duration_text(burst.median_gap_seconds)}, longest gap "
        f"{duration_text(burst.longest_gap_seconds)}. Only commits that changed these files "
        "are counted, whatever other commits' messages say."
    )
    if burst.merges:
        detail += f" {len(burst.merges)} merge commit(s) brought them into the analysed branch."
    if applied:
        detail += f" {', '.join(sorted(applied))} was already applied in production."
    return Finding(
        rule=FX301.id,
        name=FX301.name,
        severity=Severity.MEDIUM if applied else FX301.severity,
        confidence=Confidence.HIGH,
        title=f"{n} commits on {_where(burst)} in {span}",
        detail=detail,
        revision=revisions[-1] if revisions else None,
        path=burst.paths[0] if burst.paths else None,
        commits=burst.commits,
        changes=tuple(ChangeRef(sha, kinds[sha]) for sha in burst.commits if sha in kinds),
        merges=burst.merges,
        start=burst.start,
        end=burst.end,
        facts=(
            ("commits", str(n)),
            ("authors", ", ".join(burst.authors)),
            ("paths", ", ".join(burst.paths)),
            ("median gap", duration_text(burst.median_gap_seconds)),
            ("longest gap", duration_text(burst.longest_gap_seconds)),
            ("automation score", f"{burst.automation_score:.2f}"),
        ),
    )


def _automation_finding(burst: Burst) -> Finding:
    score = burst.automation_score
    reasons = "; ".join(burst.signals)
    return Finding(
        rule=FX302.id,
        name=FX302.name,
        severity=FX302.severity,
        confidence=Confidence.HIGH if score >= 0.75 else Confidence.MEDIUM,
        title=f"{len(burst.commits)} commits on {_where(burst)} look automated (score {score:.2f})",
        detail=(
            f"Automation score {score:.2f} of 1 because {reasons}. Check for a script, a "
            "CI job or an AI assistant that commits and pushes in a loop."
        ),
        path=burst.paths[0] if burst.paths else None,
        commits=burst.commits,
        merges=burst.merges,
        start=burst.start,
        end=burst.end,
        facts=(("automation score", f"{score:.2f}"), *(("signal", s) for s in burst.signals)),
    )


def _churn_findings(ctx: Context) -> Iterator[Finding]:
    changes = ctx.history.changes
    t = ctx.thresholds
    for path, edits, cut in churn(
        changes, ctx.commits, min_edits=t.churn_min_edits, pct=t.churn_percentile
    ):
        mine = [c for c in changes if c.path == path]
        if not any(ctx.in_window(c.at) for c in mine):
            continue
        edited = [c for c in mine if c.kind.value not in ("added", "deleted")]
        pairs = [(s, c) for c in edited for s in c.authors or (c.commit,)]
        shas = tuple(dict.fromkeys(s for s, _c in pairs if not _is_merge(ctx, s)))
        revisions = [c.revision for c in mine if c.revision]
        yield Finding(
            rule=FX303.id,
            name=FX303.name,
            severity=FX303.severity,
            confidence=Confidence.MEDIUM,
            title=f"{path} was edited {edits} times after it was created",
            detail=(
                f"{edits} commits edited {path} after it was created; that is more than "
                f"{t.churn_min_edits} and above the {t.churn_percentile:g}th percentile of "
                f"the repository's migrations ({cut:g} edits)."
            ),
            revision=revisions[-1] if revisions else None,
            path=path,
            commits=shas,
            changes=tuple(ChangeRef(s, c.kind) for s, c in pairs if s in shas),
            merges=tuple(dict.fromkeys(c.merge for c in edited if c.merge)),
            start=min((c.at for c in edited), default=None),
            end=max((c.at for c in edited), default=None),
            facts=(("edits", str(edits)), (f"p{t.churn_percentile:g}", f"{cut:g}")),
        )


def _is_merge(ctx: Context, sha: str) -> bool:
    record = ctx.commits.get(sha)
    return record is not None and record.is_merge
