"""FX201-FX204: applied migrations that changed, were rewired or removed, and production
revisions that no longer exist.

An applied migration is one production's revisions descend from (``ctx.production.applied``);
its application point (``ctx.applied``) is the first successful deploy or release tag whose
tree holds its file. Only first-parent changes after that point count; without such a point
every change since the file was added counts, with lower confidence, and the finding says so.
Renames are followed; a revision is removed (FX203) only when no file of its environment
declares it any more and a deploy or tag before the deletion held it (or production's
database or ``--prod-revision`` descends from it).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from forensics.analysis.applied import edited_after, follow_renames
from forensics.detectors.base import Context
from forensics.model.deploys import AppliedEvidence, AppliedMigration
from forensics.model.findings import ChangeRef, Confidence, Finding, Severity
from forensics.model.migrations import ChangeKind, MigrationChange, MigrationFile
from forensics.model.report import ProductionSource
from forensics.model.rules import Rule, RuleGroup, RuleId, in_group

RULES: tuple[Rule, ...] = in_group(RuleGroup.APPLIED)

_SERIOUS = {ChangeKind.CODE, ChangeKind.METADATA, ChangeKind.PARSE_ERROR}


def _short(sha: str | None) -> str:
    return (sha or "?")[:8]


def _evidence(
    changes: Sequence[MigrationChange],
) -> tuple[tuple[str, ...], tuple[ChangeRef, ...], tuple[str, ...]]:
    """The commits that really made the changes, each with its kind, and the merges that
    brought them onto the first-parent chain."""
    commits: dict[str, None] = {}
    refs: dict[tuple[str, str], ChangeRef] = {}
    merges: dict[str, None] = {}
    for change in changes:
        for sha in change.authors or (change.commit,):
            commits[sha] = None
            refs.setdefault((sha, change.kind), ChangeRef(sha, change.kind))
        if change.merge:
            merges[change.merge] = None
    return tuple(commits), tuple(refs.values()), tuple(merges)


def _confidence(ctx: Context, point: AppliedMigration) -> Confidence:
    if point.evidence is not AppliedEvidence.NONE:
        return Confidence.HIGH
    return (
        Confidence.MEDIUM
        if ctx.production.source in (ProductionSource.DATABASE, ProductionSource.FLAG)
        else Confidence.LOW
    )


def _applied_when(ctx: Context, point: AppliedMigration) -> str:
    if point.evidence is AppliedEvidence.NONE:
        return (
            f"No deploy or release tag shows when production applied it (production's "
            f"revisions come from: {ctx.production.source}), so every change since the file "
            "was added is listed and confidence is lower."
        )
    what = "release tag" if point.evidence is AppliedEvidence.TAG else "deploy"
    when = f" at {point.since_at:%Y-%m-%d %H:%M} UTC" if point.since_at else ""
    return (
        f"Production applied it with {what} {point.since_deploy} of commit "
        f"{_short(point.since_commit)}{when}."
    )


def _counts(changes: Sequence[MigrationChange]) -> str:
    kinds: dict[str, int] = {}
    for change in changes:
        kinds[change.kind.value] = kinds.get(change.kind.value, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in kinds.items())


def _modified(ctx: Context, point: AppliedMigration, changes: list[MigrationChange]) -> Finding:
    commits = _evidence(changes)[0]
    serious = any(c.kind in _SERIOUS for c in changes)
    restored = point.content_blob is not None and changes[-1].new_blob == point.content_blob
    severity = Severity.HIGH if serious and not restored else Severity.LOW
    detail = (
        f"{_applied_when(ctx, point)} Afterwards {len(commits)} commit(s) changed "
        f"{point.path} ({_counts(changes)})."
    )
    if restored:
        detail += " The file is now back to the content production applied."
    elif serious:
        detail += (
            " Production never runs the new content; fresh databases would. Restore the "
            "applied content and carry the change forward in a new migration."
        )
    else:
        detail += " The edits are cosmetic only (formatting, comments, docstrings)."
    facts = [("changes", _counts(changes))]
    if point.content_blob:
        facts.append(("applied content (blob)", point.content_blob[:12]))
    return _about_changes(
        ctx,
        point,
        changes,
        rule=RuleId.FX201,
        severity=severity,
        title=f"Applied migration {point.revision} changed by {len(commits)} commit(s) after "
        "it was applied",
        detail=detail,
        facts=facts,
    )


def _about_changes(
    ctx: Context,
    point: AppliedMigration,
    changes: list[MigrationChange],
    *,
    rule: RuleId,
    severity: Severity,
    title: str,
    detail: str,
    facts: list[tuple[str, str]],
) -> Finding:
    """A finding about the changes to one applied migration, with their evidence."""
    commits, refs, merges = _evidence(changes)
    return Finding(
        rule=rule,
        name=rule.rule.name,
        severity=severity,
        confidence=_confidence(ctx, point),
        title=title,
        detail=detail,
        revision=point.revision,
        path=point.path,
        # where the revision is declared now: what an annotation on the file points at
        line=next((c.after.revision_line for c in reversed(changes) if c.after), None),
        commits=commits,
        changes=refs,
        merges=merges,
        deploys=(point.since_deploy,) if point.since_deploy else (),
        start=changes[0].at,
        end=changes[-1].at,
        environment=point.environment,
        facts=tuple(facts),
    )


def _edges(m: MigrationFile | None) -> str:
    if m is None:
        return "(file did not parse)"
    if not m.parses:
        return "(file did not parse)"
    down = ", ".join(m.down_revisions) or "None"
    text = f"revision {m.revision or '?'} ← down_revision {down}"
    if m.depends_on:
        text += f"; depends_on {', '.join(m.depends_on)}"
    if m.branch_labels:
        text += f"; branch_labels {', '.join(m.branch_labels)}"
    return text


def _rewired(ctx: Context, point: AppliedMigration, changes: list[MigrationChange]) -> Finding:
    commits = _evidence(changes)[0]
    facts: list[tuple[str, str]] = []
    for change in changes:
        who = ", ".join(_short(s) for s in change.authors or (change.commit,))
        facts.append((f"{who} before", _edges(change.before)))
        facts.append((f"{who} after", _edges(change.after)))
    return _about_changes(
        ctx,
        point,
        changes,
        rule=RuleId.FX202,
        severity=Severity.HIGH,
        title=f"Applied migration {point.revision} rewired by {len(commits)} commit(s)",
        detail=(
            f"{_applied_when(ctx, point)} Afterwards {len(commits)} commit(s) changed its "
            "revision, down_revision, depends_on or branch_labels; the edges before and "
            "after each change are listed."
        ),
        facts=facts,
    )


def _removed(ctx: Context, point: AppliedMigration) -> Finding | None:
    deletions = [
        c
        for c in ctx.history.changes
        if c.kind is ChangeKind.DELETED and c.revision == point.revision and c.path == point.path
    ]
    if not deletions:
        return None
    change = deletions[-1]
    commits, refs, merges = _evidence([change])
    if point.evidence is AppliedEvidence.NONE:
        held = (
            f"Production's revisions (from: {ctx.production.source}) descend from "
            f"{point.revision}, but no deploy or release tag shows when it was applied."
        )
    else:
        held = _applied_when(ctx, point)
    added = [
        c.revision
        for c in ctx.history.changes
        if c.commit == change.commit
        and c.kind is ChangeKind.ADDED
        and c.environment == point.environment
        and c.revision
    ]
    # A squash deletes many revisions and adds their replacement in one commit: name it.
    also = f" The same commit added {', '.join(added)}." if added else ""
    return Finding(
        rule=RuleId.FX203,
        name=RuleId.FX203.rule.name,
        severity=Severity.HIGH,
        confidence=_confidence(ctx, point),
        title=f"Applied migration {point.revision} was removed from {point.path}",
        detail=(
            f"{held} Commit {_short(change.commit)} then deleted {point.path}, and no file of "
            f"the environment declares revision {point.revision} any more.{also}"
        ),
        revision=point.revision,
        path=point.path,
        line=change.before.revision_line if change.before else None,
        commits=commits,
        changes=refs,
        merges=merges,
        deploys=(point.since_deploy,) if point.since_deploy else (),
        start=change.at,
        end=change.at,
        environment=point.environment,
        facts=(("applied with", point.since_deploy or ctx.production.source),),
    )


def _missing(ctx: Context) -> Iterator[Finding]:
    declared = {rev for state in ctx.states for rev in state.by_revision()}
    for revision in ctx.production.revisions:
        if revision in declared:
            continue
        gone = [
            c
            for c in ctx.history.changes
            if c.kind is ChangeKind.DELETED and c.revision == revision
        ]
        commits, refs, merges = _evidence(gone[-1:])
        where = (
            f" Commit {_short(gone[-1].commit)} removed its file {gone[-1].path}."
            if gone
            else " No file in the analysed history ever declared it: check the revision id."
        )
        yield Finding(
            rule=RuleId.FX204,
            name=RuleId.FX204.rule.name,
            severity=Severity.HIGH,
            confidence=Confidence.HIGH
            if ctx.production.source is ProductionSource.DATABASE
            else Confidence.MEDIUM,
            title=f"Production's revision {revision} does not exist in the tree",
            detail=(
                f"Production is at {revision} (from: {ctx.production.source}), but no migration "
                f"at {_short(ctx.rev)} declares it, so `alembic upgrade` cannot start.{where}"
            ),
            revision=revision,
            path=gone[-1].path if gone else None,
            commits=commits,
            changes=refs,
            merges=merges,
            deploys=(ctx.production.deploy,) if ctx.production.deploy else (),
            facts=(("production source", ctx.production.source),),
        )


def detect(ctx: Context) -> Iterator[Finding]:
    history = follow_renames(ctx.history.changes)
    # Only the changes under a path the migration had can be edits to it.
    by_path: dict[str, list[int]] = {}
    for i, change in enumerate(history):
        by_path.setdefault(change.path, []).append(i)
    for point in ctx.applied:
        paths = dict.fromkeys((point.path, *point.earlier_paths))
        candidates = sorted({i for path in paths for i in by_path.get(path, ())})
        changes = [
            c
            for c in (history[i] for i in candidates)
            if c.kind is not ChangeKind.DELETED and edited_after(c, point)
        ]
        if changes:
            yield _modified(ctx, point, changes)
            rewires = [c for c in changes if c.kind is ChangeKind.METADATA]
            if rewires:
                yield _rewired(ctx, point, rewires)
        removed = _removed(ctx, point) if point.removed else None
        if removed is not None:
            yield removed
    yield from _missing(ctx)
