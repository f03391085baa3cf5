"""The two sides of a change that ``forensics guard`` compares: the migration graphs of each
side with each revision's file, what production applied of each revision (as a lock file or
the latest successful deploy says), and which commits of the change touched a path.

Pure: the graphs at a commit and the versions of a file come from the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from forensics.analysis.applied import applied_set, production_revisions
from forensics.analysis.changes import classify
from forensics.model.commits import CommitRecord
from forensics.model.deploys import Deploy
from forensics.model.guard import STAGED, LockEntry, fingerprint_of
from forensics.model.migrations import ChangeKind, GraphProblem, GraphState, MigrationFile
from forensics.model.report import ProductionSource

Restore = Callable[[str], str]
Load = Callable[[str, str | None], MigrationFile | None]


@dataclass
class Snapshot:
    """The graphs of one side of a guarded change, with each revision's file."""

    states: list[GraphState]
    by_revision: dict[str, tuple[MigrationFile, GraphState]] = field(default_factory=dict)

    @classmethod
    def of(cls, states: list[GraphState]) -> Snapshot:
        snap = cls(states)
        for state in states:
            for migration in state.migrations:
                if migration.revision and migration.parses:
                    snap.by_revision.setdefault(migration.revision, (migration, state))
        return snap

    @property
    def problems(self) -> list[GraphProblem]:
        return [p for s in self.states for p in s.problems]

    @property
    def migration_paths(self) -> set[str]:
        return {m.path for s in self.states for m in s.migrations}

    @property
    def versions_dirs(self) -> set[str]:
        return {d for s in self.states for d in s.environment.versions_dirs}

    def file_at(self, path: str) -> tuple[MigrationFile, GraphState] | None:
        for state in self.states:
            for migration in state.migrations:
                if migration.path == path:
                    return migration, state
        return None


@dataclass(frozen=True)
class Reference:
    """What production applied of one revision: its fingerprint, and where that is known."""

    fingerprint: str
    source: str
    file: MigrationFile | None = None


class Blame:
    """Names the commits of a range that changed a file (``git log --no-merges`` order,
    oldest first), preferring those whose own change was more than cosmetic. Without
    commits (``None``: the staged index) the change is ``staged``. ``load(path, blob)``
    reads one version of a file."""

    def __init__(self, commits: Sequence[CommitRecord] | None, load: Load) -> None:
        self.commits = list(reversed(commits)) if commits is not None else None
        self.load = load

    def __call__(self, *paths: str | None, semantic: bool = True) -> tuple[str, ...]:
        if self.commits is None:
            return (STAGED,)
        wanted = {p for p in paths if p}
        touching: list[str] = []
        meaningful: list[str] = []
        for commit in self.commits:
            for change in commit.files:
                if change.path not in wanted and change.old_path not in wanted:
                    continue
                touching.append(commit.sha)
                if semantic and self._kind(change.path, change.old_blob, change.new_blob) not in (
                    ChangeKind.COSMETIC,
                ):
                    meaningful.append(commit.sha)
                break
        return tuple(dict.fromkeys(meaningful or touching))

    def _kind(self, path: str, old: str | None, new: str | None) -> ChangeKind:
        return classify(self.load(path, old), self.load(path, new))


@dataclass(frozen=True)
class Deployed:
    """The graph at the latest successful deploy (or release tag), the revisions applied
    in it, and how to name that evidence."""

    snapshot: Snapshot
    applied: set[str]
    evidence: str


def deployed(deploys: Sequence[Deploy], at: Callable[[str], Snapshot]) -> Deployed | None:
    """What the latest successful deploy (or release tag) of ``deploys`` applied; ``at``
    gives the graphs at a commit."""

    def heads_at(commit: str) -> tuple[str, ...]:
        return tuple(h for s in at(commit).states for h in s.heads)

    production = production_revisions(heads_at, deploys=deploys)
    if production.commit is None:
        return None
    snap = at(production.commit)
    what = "released in" if production.source is ProductionSource.TAGS else "deployed by"
    deploy = (production.deploy or "").removeprefix("tag:")
    evidence = f"{what} {deploy} at commit {production.commit[:8]}"
    return Deployed(snap, applied_set(snap.states, production.revisions), evidence)


def references(
    locked: Iterable[LockEntry], lock: str, deployed: Deployed | None
) -> dict[str, list[Reference]]:
    """What production applied of each revision, as the lock file and the deploys say."""
    refs: dict[str, list[Reference]] = {}
    for entry in locked:
        refs.setdefault(entry.revision, []).append(
            Reference(entry.fingerprint, f"locked in {lock}")
        )
    for revision in sorted(deployed.applied) if deployed else ():
        if deployed and revision in deployed.snapshot.by_revision:
            file = deployed.snapshot.by_revision[revision][0]
            fingerprint = fingerprint_of(file.ast_fingerprint or "")
            refs.setdefault(revision, []).append(Reference(fingerprint, deployed.evidence, file))
    return refs
