"""The migration graph over the first-parent history: states, problem events, file changes.

``walk`` replays first-parent commits oldest first, keeping ``path -> blob`` per environment
up to date from each commit's changed files, and rebuilds the graph of every environment a
commit touched. It does no I/O: ``load(path, blob)`` reads a file version (the caller
memoises it per blob).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from forensics.analysis.changes import classify
from forensics.analysis.graph import build_state
from forensics.model.commits import ChangeStatus, CommitRecord, FileChange
from forensics.model.migrations import (
    ChangeKind,
    Environment,
    GraphEvent,
    GraphHistory,
    GraphProblem,
    GraphState,
    HistoryPoint,
    MigrationChange,
    MigrationFile,
)

Loader = Callable[[str, str], MigrationFile]
Authors = Callable[[CommitRecord, str], tuple[tuple[str, ...], str | None]]


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
    who: tuple[tuple[str, ...], str | None],
    fc: FileChange,
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
        authors=who[0],
        merge=who[1],
        environment=env.name,
        before=before,
        after=after,
    )


class _Walker:
    def __init__(self, envs: Sequence[Environment], load: Loader, authors: Authors | None) -> None:
        self.envs = envs
        self.load = load
        self.authors = authors
        self.blobs: dict[str, dict[str, str]] = {env.name: {} for env in envs}
        self.states: dict[str, GraphState] = {}
        self.changes: list[MigrationChange] = []

    def who(self, commit: CommitRecord, path: str) -> tuple[tuple[str, ...], str | None]:
        if self.authors is not None and commit.is_merge:
            return self.authors(commit, path)
        return (commit.sha,), None

    def remove(self, commit: CommitRecord, fc: FileChange, path: str) -> str | None:
        env = _owner(self.envs, path)
        if env is None:
            return None
        blob = self.blobs[env.name].pop(path, None) or fc.old_blob
        before = self.load(path, blob) if blob else None
        self.changes.append(
            _change(commit, env, path, ChangeKind.DELETED, before, None, self.who(commit, path), fc)
        )
        return env.name

    def put(self, commit: CommitRecord, fc: FileChange, fresh: bool) -> str | None:
        env = _owner(self.envs, fc.path)
        if env is None or fc.new_blob is None:
            return None
        old = None if fresh else (fc.old_blob or self.blobs[env.name].get(fc.path))
        self.blobs[env.name][fc.path] = fc.new_blob
        before = self.load(fc.path, old) if old else None
        after = self.load(fc.path, fc.new_blob)
        kind = classify(before, after)
        if fresh and kind is not ChangeKind.PARSE_ERROR:
            kind = ChangeKind.ADDED
        self.changes.append(
            _change(commit, env, fc.path, kind, before, after, self.who(commit, fc.path), fc)
        )
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

    def rebuild(self, names: Iterable[str]) -> None:
        for env in self.envs:
            if env.name in names:
                files = [self.load(p, b) for p, b in sorted(self.blobs[env.name].items())]
                self.states[env.name] = build_state(env, files)

    def problems(self) -> list[GraphProblem]:
        return [
            p
            for env in self.envs
            if env.name in self.states
            for p in self.states[env.name].problems
        ]


def walk(
    envs: Sequence[Environment],
    commits: Sequence[CommitRecord],
    load: Loader,
    *,
    initial: Mapping[str, str] | None = None,
    authors: Authors | None = None,
) -> GraphHistory:
    """Replay ``commits`` (first-parent, OLDEST FIRST, with blob ids in ``files``).

    ``initial`` is ``path -> blob`` before the first commit; problems already present there
    are the baseline and open no event. ``authors(commit, path)`` gives, for a merge commit,
    the non-merge commits that really changed ``path`` and the merge to show beside them;
    without it a change is attributed to the commit itself.
    """
    walker = _Walker(envs, load, authors)
    for path, blob in (initial or {}).items():
        env = _owner(envs, path)
        if env is not None:
            walker.blobs[env.name][path] = blob
    walker.rebuild(env.name for env in envs)
    open_events: dict[tuple[str | None, ...], GraphEvent] = {}
    baseline = {p.key for p in walker.problems()}
    closed: list[GraphEvent] = []
    points: list[HistoryPoint] = []
    for commit in commits:
        touched = walker.apply(commit)
        if not touched:
            continue
        walker.rebuild(touched)
        problems = walker.problems()
        current = {p.key: p for p in problems}
        for key in list(open_events):
            if key not in current:
                event = open_events.pop(key)
                closed.append(_resolve(event, commit.sha, commit.committed_at))
        baseline &= set(current)
        for key, problem in current.items():
            if key not in open_events and key not in baseline:
                open_events[key] = _open(problem, commit.sha, commit.committed_at)
        heads = tuple((env.name, walker.states[env.name].heads) for env in envs)
        points.append(HistoryPoint(commit.sha, commit.committed_at, heads, tuple(problems)))
    events = sorted([*closed, *open_events.values()], key=lambda e: (e.at, e.kind, e.path or ""))
    return GraphHistory(points=tuple(points), events=tuple(events), changes=tuple(walker.changes))


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
