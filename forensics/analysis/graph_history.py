"""The migration graph over the first-parent history: states, problem events, file changes.

``walk`` replays first-parent commits oldest first, keeping ``path -> blob`` per environment
up to date from each commit's changed files, and updates the graph of every environment a
commit touched, file by file. It does no I/O: ``load(path, blob)`` reads a file version (the caller
memoises it per blob).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from forensics.analysis.changes import classify
from forensics.analysis.graph import GraphTracker
from forensics.model.commits import ChangeStatus, CommitRecord, FileChange
from forensics.model.migrations import (
    ChangeKind,
    Environment,
    GraphEvent,
    GraphHistory,
    GraphProblem,
    HistoryPoint,
    MigrationChange,
    MigrationFile,
)

Loader = Callable[[str, str], MigrationFile]
Key = tuple[str | None, ...]
# For a merge commit and a path: the non-merge commits it brought that changed the path,
# OLDEST FIRST, each with its own change to that path against its own parent.
Brought = Callable[[CommitRecord, str], Sequence[tuple[str, FileChange]]]


def _owner(envs: Sequence[Environment], path: str | None) -> Environment | None:
    if path is None:
        return None
    for env in envs:
        if env.owns(path):
            return env
    return None


def _change(
    commit: CommitRecord,
    env: Environment,
    path: str,
    kind: ChangeKind,
    before: MigrationFile | None,
    after: MigrationFile | None,
    fc: FileChange,
    author: str | None = None,
) -> MigrationChange:
    known = after or before
    return MigrationChange(
        commit=commit.sha,
        at=commit.committed_at,
        path=path,
        kind=kind,
        revision=known.revision if known else None,
        old_blob=fc.old_blob,
        new_blob=fc.new_blob if kind is not ChangeKind.DELETED else None,
        old_path=fc.old_path if kind is ChangeKind.ADDED else None,
        authors=(author or commit.sha,),
        merge=commit.sha if author else None,
        environment=env.name,
        before=before,
        after=after,
    )


class _Walker:
    def __init__(self, envs: Sequence[Environment], load: Loader, brought: Brought | None) -> None:
        self.envs = envs
        self.load = load
        self.brought = brought
        self.blobs: dict[str, dict[str, str]] = {env.name: {} for env in envs}
        self.graphs = {env.name: GraphTracker(env) for env in envs}
        self.changes: list[MigrationChange] = []

    def record(
        self,
        commit: CommitRecord,
        env: Environment,
        path: str,
        kind: ChangeKind,
        before: MigrationFile | None,
        after: MigrationFile | None,
        fc: FileChange,
    ) -> None:
        """The change to ``path``; a merge's change is given once per commit it brought,
        each with its own kind, computed against that commit's own parent."""
        own = self.brought(commit, path) if self.brought is not None and commit.is_merge else ()
        if not own:
            self.changes.append(_change(commit, env, path, kind, before, after, fc))
        for sha, change in own:
            self.changes.append(_change(commit, env, path, *self.kind_of(change, path), sha))

    def kind_of(
        self, fc: FileChange, path: str
    ) -> tuple[ChangeKind, MigrationFile | None, MigrationFile | None, FileChange]:
        """What one commit's own ``fc`` did to ``path``."""
        if fc.status is ChangeStatus.DELETED or fc.path != path:
            before = self.load(path, fc.old_blob) if fc.old_blob else None
            return ChangeKind.DELETED, before, None, fc
        fresh = fc.status in (ChangeStatus.ADDED, ChangeStatus.COPIED, ChangeStatus.RENAMED)
        before = None if fresh or not fc.old_blob else self.load(path, fc.old_blob)
        after = self.load(path, fc.new_blob) if fc.new_blob else None
        kind = classify(before, after)
        if fresh and kind is not ChangeKind.PARSE_ERROR:
            kind = ChangeKind.ADDED
        return kind, before, after, fc

    def remove(self, commit: CommitRecord, fc: FileChange, path: str) -> str | None:
        env = _owner(self.envs, path)
        if env is None:
            return None
        blob = self.blobs[env.name].pop(path, None) or fc.old_blob
        before = self.load(path, blob) if blob else None
        self.graphs[env.name].put(path, None)
        self.record(commit, env, path, ChangeKind.DELETED, before, None, fc)
        return env.name

    def put(self, commit: CommitRecord, fc: FileChange, fresh: bool) -> str | None:
        env = _owner(self.envs, fc.path)
        if env is None or fc.new_blob is None:
            return None
        old = None if fresh else (fc.old_blob or self.blobs[env.name].get(fc.path))
        self.blobs[env.name][fc.path] = fc.new_blob
        before = self.load(fc.path, old) if old else None
        after = self.load(fc.path, fc.new_blob)
        self.graphs[env.name].put(fc.path, after)
        kind = classify(before, after)
        if fresh and kind is not ChangeKind.PARSE_ERROR:
            kind = ChangeKind.ADDED
        self.record(commit, env, fc.path, kind, before, after, fc)
        return env.name

    def apply(self, commit: CommitRecord) -> set[str]:
        touched: set[str] = set()
        for fc in commit.files:
            if fc.status is ChangeStatus.DELETED:
                touched.add(self.remove(commit, fc, fc.path) or "")
            elif fc.status is ChangeStatus.RENAMED and fc.old_path:
                touched.add(self.remove(commit, fc, fc.old_path) or "")
                touched.add(self.put(commit, fc, fresh=True) or "")
            else:
                fresh = fc.status in (ChangeStatus.ADDED, ChangeStatus.COPIED)
                touched.add(self.put(commit, fc, fresh=fresh) or "")
        touched.discard("")
        return touched

    def problems(self) -> list[GraphProblem]:
        return [p for env in self.envs for p in self.graphs[env.name].snapshot()[1]]


def walk(
    envs: Sequence[Environment],
    commits: Sequence[CommitRecord],
    load: Loader,
    *,
    initial: Mapping[str, str] | None = None,
    brought: Brought | None = None,
) -> GraphHistory:
    """Replay ``commits`` (first-parent, OLDEST FIRST, with blob ids in ``files``).

    ``initial`` is ``path -> blob`` before the first commit; problems already present there
    are the baseline and open no event. ``brought(merge, path)`` gives the non-merge
    commits a merge brought that changed ``path``: its change is then one
    ``MigrationChange`` per such commit, each with the kind of that commit's own change and
    the merge beside it. Without it (or when the merge itself made the change) a change is
    attributed to the first-parent commit.

    The graphs are updated file by file (``GraphTracker``), so the cost grows with the
    number of changes, not with changes times the size of the graph.
    """
    walker = _Walker(envs, load, brought)
    for path, blob in (initial or {}).items():
        env = _owner(envs, path)
        if env is not None:
            walker.blobs[env.name][path] = blob
            walker.graphs[env.name].put(path, load(path, blob))
    open_events: dict[Key, GraphEvent] = {}
    baseline = {p.key for p in walker.problems()}
    closed: list[GraphEvent] = []
    points: list[HistoryPoint] = []
    for commit in commits:
        if not walker.apply(commit):
            continue
        problems = walker.problems()
        current = {p.key: p for p in problems}
        moved = {f.old_path: f.path for f in commit.files if f.status is ChangeStatus.RENAMED}
        if moved:  # a problem of a renamed file is the same problem under its new name
            open_events = {_renamed(k, moved): _follow(e, moved) for k, e in open_events.items()}
            baseline = {_renamed(k, moved) for k in baseline}
        for key in list(open_events):
            if key not in current:
                event = open_events.pop(key)
                closed.append(_resolve(event, commit.sha, commit.committed_at))
        baseline &= set(current)
        for key, problem in current.items():
            if key not in open_events and key not in baseline:
                open_events[key] = _open(problem, commit.sha, commit.committed_at)
        heads = tuple((env.name, walker.graphs[env.name].snapshot()[0]) for env in envs)
        points.append(HistoryPoint(commit.sha, commit.committed_at, heads, tuple(problems)))
    events = sorted([*closed, *open_events.values()], key=lambda e: (e.at, e.kind, e.path or ""))
    return GraphHistory(points=tuple(points), events=tuple(events), changes=tuple(walker.changes))


def _renamed(
    key: tuple[str | None, ...], moved: Mapping[str | None, str]
) -> tuple[str | None, ...]:
    environment, kind, revision, path = key
    return (environment, kind, revision, moved.get(path, path))


def _follow(event: GraphEvent, moved: Mapping[str | None, str]) -> GraphEvent:
    if event.path not in moved:
        return event
    return dataclasses.replace(event, path=moved[event.path])


def _open(problem: GraphProblem, sha: str, at: datetime) -> GraphEvent:
    return GraphEvent(
        kind=problem.kind,
        rule=problem.rule,
        commit=sha,
        at=at,
        detail=problem.detail,
        revision=problem.revision,
        path=problem.path,
        environment=problem.environment,
    )


def _resolve(event: GraphEvent, sha: str, at: datetime) -> GraphEvent:
    return dataclasses.replace(event, resolved_by=sha, resolved_at=at)


def events_between(
    events: Iterable[GraphEvent], since: datetime | None, until: datetime | None
) -> list[GraphEvent]:
    """Events that were open at some moment of ``[since, until]``."""
    return [
        e
        for e in events
        if (until is None or e.at <= until)
        and (since is None or e.resolved_at is None or e.resolved_at >= since)
    ]
