"""What production has applied, and since when.

Production's revisions come from, in this order: the database, ``--prod-revision``, the
latest successful deploy (the heads of the graph at its commit), the latest release tag.
The applied set is everything those revisions descend from. A revision counts as applied
from the first successful deploy (or release tag) whose tree contains its file; a later
commit on the first-parent chain that touches the file edits an applied migration. A file is
followed through renames (the same revision id under a new path). A revision whose file was
deleted, and that no file of its environment declares any more, counts as applied when a
deploy or tag before the deletion held it, whether or not today's heads descend from it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime

from forensics.analysis.changes import classify
from forensics.analysis.graph import ancestors, topological
from forensics.model.deploys import AppliedEvidence, AppliedMigration, Deploy
from forensics.model.migrations import (
    ChangeKind,
    GraphHistory,
    GraphState,
    HistoryPoint,
    MigrationChange,
    MigrationFile,
)
from forensics.model.report import Production, ProductionSource

TAG_SOURCE_PREFIX = "tags:"


def is_tag(deploy: Deploy) -> bool:
    """Release tags stand in for deploys (``tags:PATTERN``); they rank last as evidence of
    what production runs."""
    return deploy.source.startswith(TAG_SOURCE_PREFIX)


def successful(deploys: Iterable[Deploy]) -> list[Deploy]:
    """Successful deploys (live or superseded) whose commit the repository knows, oldest
    first."""
    return sorted(
        (d for d in deploys if d.category.succeeded and d.commit and d.commit_known),
        key=lambda d: (d.created_at, d.id),
    )


def point_as_of(
    history: GraphHistory, commit: str, committed_at: datetime | None
) -> HistoryPoint | None:
    """The graph as of ``commit``: its own history point, else the last point at or before
    its commit time (``None`` when no migration existed yet or the time is unknown)."""
    point = history.point_at(commit)
    if point is not None or committed_at is None:
        return point
    earlier = [p for p in history.points if p.at <= committed_at]
    return earlier[-1] if earlier else None


def heads_of(point: HistoryPoint | None) -> tuple[str, ...]:
    """Every environment's heads at a history point, in one tuple."""
    if point is None:
        return ()
    return tuple(dict.fromkeys(head for _env, heads in point.heads for head in heads))


def production_revisions(
    heads_at: Callable[[str], tuple[str, ...]],
    *,
    database: Sequence[str] | None = None,
    database_url: str | None = None,
    flags: Sequence[str] = (),
    deploys: Sequence[Deploy] = (),
) -> Production:
    """Where production's revisions come from, first source that has them wins.

    ``database`` is what ``alembic_version`` holds (``None`` when no ``--db-url``);
    ``heads_at(commit)`` the heads of the graph at a commit, from the history points.
    """
    if database is not None:
        return Production(
            revisions=tuple(database), source=ProductionSource.DATABASE, database=database_url
        )
    if flags:
        return Production(
            revisions=tuple(dict.fromkeys(f.strip() for f in flags if f.strip())),
            source=ProductionSource.FLAG,
        )
    ok = successful(deploys)
    for want_tag, source in ((False, ProductionSource.DEPLOY), (True, ProductionSource.TAGS)):
        chosen = [d for d in ok if is_tag(d) is want_tag]
        if chosen:
            latest = chosen[-1]
            assert latest.commit is not None
            return Production(
                revisions=heads_at(latest.commit),
                source=source,
                deploy=latest.id,
                commit=latest.commit,
            )
    return Production()


def applied_set(
    states: Sequence[GraphState],
    production: Iterable[str],
    removed: Sequence[MigrationFile] = (),
) -> set[str]:
    """Production's revisions and everything they descend from. ``removed`` are migration
    files the history saw that are gone from the analysed tree (``before`` of deleted
    changes): an applied revision whose file was deleted stays applied, and so do its
    parents."""
    seeds = {r for r in production if r}
    kept = set(seeds)
    present = {rev: m for state in states for rev, m in state.by_revision().items()}
    gone = {m.revision: m for m in removed if m.revision and m.revision not in present}
    found: set[str] = set()
    while seeds:
        grown = set(seeds)
        for state in states:
            grown |= ancestors(state, seeds)
        found |= grown
        following: set[str] = set()
        for rev in grown:
            file = present.get(rev) or gone.get(rev)
            if file is not None:
                following |= {p for p in (*file.down_revisions, *file.depends_on) if p in gone}
        seeds = following - found
    return {r for r in found if r in present or r in gone or r in kept}


def _paths(
    states: Sequence[GraphState], changes: Sequence[MigrationChange]
) -> Callable[[str, str], list[str]]:
    """``paths(environment, revision)``: every path a file declaring the revision had on the
    first-parent chain, oldest first. Paths recorded under an environment that no longer
    exists (a moved folder) count for every environment."""
    current = {state.environment.name for state in states}
    found: dict[tuple[str | None, str], dict[str, None]] = {}
    for change in changes:
        if change.revision:
            found.setdefault((change.environment, change.revision), {})[change.path] = None

    def paths(environment: str, revision: str) -> list[str]:
        moved = [
            p for (e, r), ps in found.items() if r == revision and e not in current for p in ps
        ]
        return list(dict.fromkeys([*found.get((environment, revision), {}), *moved]))

    return paths


def _removed(
    states: Sequence[GraphState], changes: Sequence[MigrationChange]
) -> dict[tuple[str, str], MigrationChange]:
    """(environment, revision) -> the last deletion of a revision that no file of its
    environment declares any more (of any environment, for a folder that moved away). A
    rename, the same revision under a new path, is not a removal."""
    current = {state.environment.name for state in states}
    declared = {(s.environment.name, rev) for s in states for rev in s.by_revision()}
    anywhere = {rev for _env, rev in declared}
    gone: dict[tuple[str, str], MigrationChange] = {}
    for change in changes:
        if change.kind is not ChangeKind.DELETED or not change.revision:
            continue
        env = change.environment or ""
        kept = (env, change.revision) in declared if env in current else change.revision in anywhere
        if not kept:
            gone[(env, change.revision)] = change
    return gone


def _held(
    point: AppliedMigration,
    evidence: Sequence[Deploy],
    file_exists_at: Callable[[str, str], str | None],
    commit_time: Callable[[str], datetime | None],
    window: tuple[datetime, datetime] | None,
) -> AppliedMigration:
    """``point`` with the first deploy or tag whose tree holds the file under any of its
    paths. ``window`` (first seen, deleted) skips deploys of commits outside it."""
    for deploy in evidence:
        assert deploy.commit is not None
        at = commit_time(deploy.commit)
        if window is not None and at is not None and not window[0] <= at < window[1]:
            continue
        for path in (point.path, *point.earlier_paths):
            blob = file_exists_at(deploy.commit, path)
            if blob is not None:
                return dataclasses.replace(
                    point,
                    evidence=AppliedEvidence.TAG if is_tag(deploy) else AppliedEvidence.DEPLOY,
                    since_deploy=deploy.id,
                    since_commit=deploy.commit,
                    since_at=deploy.created_at,
                    content_blob=blob,
                    since_commit_at=at,
                )
    return point


def application_points(
    states: Sequence[GraphState],
    applied: Collection[str],
    deploys: Sequence[Deploy],
    file_exists_at: Callable[[str, str], str | None],
    commit_time: Callable[[str], datetime | None],
    changes: Sequence[MigrationChange] = (),
) -> tuple[AppliedMigration, ...]:
    """One ``AppliedMigration`` per applied revision present in ``states``, and one per
    removed revision (see ``_removed``) that a successful deploy or tag between its first
    appearance and its deletion held (or that is applied): the first successful deploy or
    tag (oldest first) whose tree holds the file under any of its paths.

    ``file_exists_at(commit, path)`` gives the file's blob at that commit, or ``None``;
    ``commit_time(commit)`` the commit's time, which orders later edits against it.
    ``changes`` are the first-parent changes of the graph history.
    """
    evidence = successful(deploys)
    paths = _paths(states, changes)
    first_seen: dict[str, datetime] = {}
    for change in changes:
        if change.revision:
            first_seen.setdefault(change.revision, change.at)
    result: list[AppliedMigration] = []
    for state in states:
        env = state.environment.name
        for migration in state.migrations:
            if migration.revision is None or migration.revision not in applied:
                continue
            earlier = [p for p in paths(env, migration.revision) if p != migration.path]
            point = AppliedMigration(
                revision=migration.revision,
                path=migration.path,
                environment=env,
                earlier_paths=tuple(earlier),
            )
            result.append(_held(point, evidence, file_exists_at, commit_time, None))
    for (env, revision), deletion in _removed(states, changes).items():
        earlier = [p for p in paths(env, revision) if p != deletion.path]
        point = AppliedMigration(
            revision=revision,
            path=deletion.path,
            environment=env,
            earlier_paths=tuple(earlier),
            removed=True,
        )
        window = (first_seen.get(revision, deletion.at), deletion.at)
        point = _held(point, evidence, file_exists_at, commit_time, window)
        if point.evidence is not AppliedEvidence.NONE or revision in applied:
            result.append(point)
    return tuple(sorted(result, key=lambda a: (a.environment, a.path)))


def follow_renames(changes: Sequence[MigrationChange]) -> list[MigrationChange]:
    """``changes`` with each rename (the file added under a new path while its old path is
    deleted in the same commit) classified against the old content: a rename that changed
    nothing stays an addition, which ``edited_after`` ignores."""
    deleted = {(c.commit, c.path): c for c in changes if c.kind is ChangeKind.DELETED}
    followed = []
    for change in changes:
        old = deleted.get((change.commit, change.old_path or ""))
        if (
            change.kind is ChangeKind.ADDED
            and old is not None
            and old.before is not None
            and change.old_blob != change.new_blob
        ):
            kind = classify(old.before, change.after)
            change = dataclasses.replace(change, kind=kind, before=old.before)
        followed.append(change)
    return followed


def edited_after(change: MigrationChange, migration: AppliedMigration) -> bool:
    """Whether a first-parent change touched the applied file (under any of its paths) after
    its application point. A rename that changed nothing is no edit. Without evidence of
    that point every change after the file was added counts."""
    if change.path != migration.path and change.path not in migration.earlier_paths:
        return False
    if change.old_path is not None and change.old_blob == change.new_blob:
        return False
    if migration.since_commit is None or migration.since_commit_at is None:
        return change.kind is not ChangeKind.ADDED
    return change.commit != migration.since_commit and change.at > migration.since_commit_at


def tables_expected(states: Sequence[GraphState], applied: Collection[str]) -> tuple[str, ...]:
    """The tables the applied migrations leave behind, replaying their ``create``,
    ``drop`` and ``rename`` in graph order (for comparison with the database's tables)."""
    tables: set[str] = set()
    for state in states:
        files = state.by_revision()
        for rev in topological(state):
            if rev not in applied or rev not in files:
                continue
            ops = files[rev].tables
            tables |= set(ops.create)
            tables -= set(ops.drop)
            for old, new in ops.rename:
                tables.discard(old)
                tables.add(new)
    return tuple(sorted(tables))
