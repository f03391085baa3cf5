"""The checks of ``forensics guard``, on the graphs of both sides of a change: applied
migrations edited (not cosmetically), rewired or removed; graph faults the change adds; a
re-lock that would bless an edit. Each becomes a ``Violation`` with its fix advice.

Pure: the graphs, what production applied and who made each change come from the caller
(``blame`` names the commits of the change that touched some paths; ``restore`` gives the
command that puts a path back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from forensics.analysis import shell
from forensics.analysis.applied import applied_set, production_revisions
from forensics.analysis.changes import classify
from forensics.model.commits import CommitRecord
from forensics.model.deploys import Deploy
from forensics.model.findings import Severity
from forensics.model.guard import (
    STAGED,
    LockEntry,
    LockUpdate,
    Violation,
    ViolationKind,
    fingerprint_of,
)
from forensics.model.migrations import ChangeKind, GraphProblem, GraphState, MigrationFile
from forensics.model.report import ProductionSource
from forensics.model.rules import RuleId

Restore = Callable[[str], str]
Load = Callable[[str, str | None], MigrationFile | None]

_KIND_NAMES = {
    ChangeKind.CODE: ViolationKind.EDITED,
    ChangeKind.ADDED: ViolationKind.EDITED,
    ChangeKind.METADATA: ViolationKind.REWIRED,
    ChangeKind.PARSE_ERROR: ViolationKind.BROKEN,
    ChangeKind.DELETED: ViolationKind.REMOVED,
}
_PROBLEM_KINDS = {
    RuleId.FX101: ViolationKind.NEW_HEAD,
    RuleId.FX102: ViolationKind.DUPLICATE_REVISION,
    RuleId.FX103: ViolationKind.MISSING_PARENT,
    RuleId.FX104: ViolationKind.CYCLE,
    RuleId.FX105: ViolationKind.UNPARSEABLE,
    RuleId.FX106: ViolationKind.MISSING_REVISION,
}
_HINTS = {
    RuleId.FX103: "point down_revision at an existing revision (the current head)",
    RuleId.FX104: "break the cycle: a revision cannot descend from itself",
    RuleId.FX105: "fix the syntax error: every deploy that runs migrations would fail",
    RuleId.FX106: 'give the file a literal `revision = "..."`',
}
_NEW_REVISION = ("alembic", "revision", "-m", shell.text("<what the edit does>"))


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


# -- advice ---------------------------------------------------------------------------------
def _who(commits: Sequence[str]) -> str:
    if not commits:
        return "this change"
    if commits == (STAGED,):
        return "the staged change"
    shown = ", ".join(c[:8] for c in commits[:5]) + (" …" if len(commits) > 5 else "")
    return f"commit{'s' if len(commits) > 1 else ''} {shown}"


def shown(*line: str | shell.Arg) -> str:
    """A command in backquotes, every value quoted; or, for an implausible value, why there
    is no command."""
    try:
        return f"`{shell.command(*line)}`"
    except shell.UnsafeValue as exc:
        return f"(no command: {exc})"


def _carry_forward(state: GraphState | None) -> str:
    heads = list(state.heads) if state else []
    if len(heads) == 1:
        where, command = f"on the current head {heads[0]}", shown(*_NEW_REVISION)
    elif heads:
        where = f"on one of the heads {', '.join(heads)}"
        command = shown(*_NEW_REVISION, "--head", shell.revision(heads[0]))
    else:
        where, command = "on the current head", shown(*_NEW_REVISION)
    return f"Carry the change forward as a new revision {where}: {command}"


def _rewiring(before: MigrationFile | None, after: MigrationFile) -> str:
    """``down_revision a -> b`` for each metadata field that changed."""
    if before is None:
        return "revision, down_revision, depends_on or branch_labels"

    def fields(m: MigrationFile) -> dict[str, tuple[str | None, ...]]:
        return {
            "revision": (m.revision,),
            "down_revision": m.down_revisions,
            "depends_on": m.depends_on,
            "branch_labels": m.branch_labels,
        }

    old, now = fields(before), fields(after)
    changed = [
        f"{name} {', '.join(map(str, was)) or 'None'} -> {', '.join(map(str, now[name])) or 'None'}"
        for name, was in old.items()
        if was != now[name]
    ]
    return "; ".join(changed) or "its metadata is no longer a literal"


def baseline_of(
    references: Sequence[Reference], before: MigrationFile | None
) -> MigrationFile | None:
    """What an edit is measured against: the file before the change, else as deployed."""
    return before or next((r.file for r in references if r.file), None)


# -- applied migrations ---------------------------------------------------------------------
def applied_changes(
    before: Snapshot,
    after: Snapshot,
    refs: dict[str, list[Reference]],
    blame: Blame,
    restore: Restore,
) -> tuple[list[Violation], list[Violation], int]:
    """The violations against applied migrations, the cosmetic edits of them, and how many
    applied files the change touched."""
    violations: list[Violation] = []
    cosmetic: list[Violation] = []
    checked = 0
    for revision in sorted(refs):
        references = refs[revision]
        old = before.by_revision.get(revision)
        old_file = old[0] if old else None
        # Still at its path, but declaring another revision or no longer parsing?
        new = after.by_revision.get(revision) or (
            after.file_at(old_file.path) if old_file else None
        )
        if new is None and old_file is None:
            continue  # gone before this change: not this change's doing
        if new is not None and old_file is not None and old_file.blob == new[0].blob:
            continue
        checked += 1
        found = (
            _removed(revision, references[0].source, old_file, blame, restore)
            if new is None
            else _changed(revision, references, old_file, *new, blame, restore)
        )
        if found is not None:
            (cosmetic if found.kind is ViolationKind.COSMETIC else violations).append(found)
    return violations, cosmetic, checked


def _removed(
    revision: str, source: str, old: MigrationFile | None, blame: Blame, restore: Restore
) -> Violation:
    assert old is not None
    commits = blame(old.path, semantic=False)
    return Violation(
        kind=ViolationKind.REMOVED,
        revision=revision,
        path=old.path,
        commits=commits,
        line=old.revision_line,
        message=(
            f"{old.path}: migration {revision} is applied ({source}) and {_who(commits)} "
            "removed it or moved it out of the versions folder; production's history still "
            f"needs it. Put it back ({restore(old.path)})"
        ),
    )


def _changed(
    revision: str,
    references: Sequence[Reference],
    old: MigrationFile | None,
    new: MigrationFile,
    state: GraphState,
    blame: Blame,
    restore: Restore,
) -> Violation | None:
    fingerprint = fingerprint_of(new.ast_fingerprint or "")
    if new.parses and fingerprint in {r.fingerprint for r in references}:
        if old is None:
            return None
        commits = blame(old.path, new.path, semantic=False)
        return Violation(
            kind=ViolationKind.COSMETIC,
            revision=revision,
            path=new.path,
            commits=commits,
            message=(
                f"{new.path}: {_who(commits)} reformatted applied migration {revision}; its "
                "code and metadata are unchanged"
            ),
        )
    baseline = baseline_of(references, old)
    kind = classify(baseline, new)
    if kind is ChangeKind.COSMETIC:
        return None  # the file already differed from what was applied; this only reformats
    paths = (old.path if old else None, new.path)
    commits = blame(*paths)
    label = _KIND_NAMES.get(kind, ViolationKind.EDITED)
    what = {
        ViolationKind.REWIRED: f"rewired it ({_rewiring(baseline, new)})",
        ViolationKind.BROKEN: "left it unparseable, so every deploy that runs migrations fails",
    }.get(label, "changed its code")
    return Violation(
        kind=label,
        revision=revision,
        path=new.path,
        commits=commits,
        line=new.revision_line or (old.revision_line if old else None),
        message=(
            f"{new.path}: migration {revision} is applied ({references[0].source}) and "
            f"{_who(commits)} {what}. Production will never run the edit. "
            f"{_carry_forward(state)}, then put the file back ({restore(paths[0] or new.path)})"
        ),
    )


# -- graph faults ---------------------------------------------------------------------------
def new_problems(
    before: Snapshot, after: Snapshot, blame: Blame, reported: set[str | None]
) -> list[Violation]:
    """Graph faults the change adds (``reported`` paths already have a violation)."""
    seen = {(p.kind, p.revision, p.path) for p in before.problems}
    violations = []
    for state in after.states:
        for problem in state.problems:
            if problem.severity < Severity.HIGH or problem.rule not in _PROBLEM_KINDS:
                continue
            if (problem.kind, problem.revision, problem.path) in seen:
                continue
            if problem.rule == RuleId.FX105 and problem.path in reported:
                continue
            revision, path, paths, hint = _located(problem, state, before)
            commits = blame(*paths)
            violations.append(
                Violation(
                    kind=_PROBLEM_KINDS[problem.rule],
                    revision=revision,
                    path=path,
                    commits=commits,
                    message=f"{problem.detail} (added by {_who(commits)}): {hint}",
                )
            )
    return violations


def _located(
    problem: GraphProblem, state: GraphState, before: Snapshot
) -> tuple[str | None, str | None, list[str | None], str]:
    """The revision and path a fault names, the paths to blame, and the fix."""
    if problem.rule == RuleId.FX101:
        old_heads = {h for s in before.states for h in s.heads}
        added = [h for h in state.heads if h not in old_heads]
        files = state.by_revision()
        paths = [files[h].path for h in added if h in files]
        merge = shown(
            "alembic", "merge", "-m", shell.text("merge heads"), *map(shell.revision, state.heads)
        )
        hint = (
            "base the new migration on the current head instead (set its down_revision), or "
            f"merge the heads with {merge}"
        )
        return ", ".join(added) or None, ", ".join(paths) or None, [*paths], hint
    if problem.rule == RuleId.FX102:
        earlier = before.by_revision.get(problem.revision or "")
        paths = [
            m.path
            for m in state.migrations
            if m.revision == problem.revision and (earlier is None or earlier[0].path != m.path)
        ]
        hint = "give the new file its own revision id (`alembic revision` makes one)"
        return problem.revision, ", ".join(paths) or problem.path, [*paths], hint
    return problem.revision, problem.path, [problem.path], _HINTS[problem.rule]


# -- the lock file --------------------------------------------------------------------------
def lock_refusals(update: LockUpdate, rev: str, force: bool) -> tuple[list[Violation], list[str]]:
    """A re-lock's changed and removed entries: refused, or with ``force`` noted."""
    violations: list[Violation] = []
    notes: list[str] = []
    for old, new in update.changed:
        what = "moved to " + new.path if old.path != new.path else "changed its fingerprint"
        if force:
            notes.append(f"re-locked {old.revision} ({old.path}), which {what} (--force)")
            continue
        message = (
            f"{new.path}: locked migration {old.revision} {what} since it was locked, so it was "
            "edited after it was applied. Undo the edit and carry it forward as a new "
            "revision, or re-lock it on purpose with --force"
        )
        violations.append(Violation(ViolationKind.RELOCK_REFUSED, message, old.revision, new.path))
    for gone in update.removed:
        if force:
            notes.append(f"unlocked {gone.revision} ({gone.path}), which is gone (--force)")
            continue
        message = (
            f"{gone.path}: locked migration {gone.revision} is gone at {rev}; put it back, or "
            "unlock it on purpose with --force"
        )
        violations.append(
            Violation(ViolationKind.RELOCK_REFUSED, message, gone.revision, gone.path)
        )
    return violations, notes


def relock_notes(lock: str, update: LockUpdate) -> list[str]:
    """What a change did to a tracked lock file: re-locked or unlocked entries pass, but
    they are said out loud."""
    return [
        f"{lock}: this change re-locks {o.revision} ({o.path}), whose fingerprint "
        "changed; it passes because the lock says so, make sure that was intended"
        for o, _n in update.changed
    ] + [
        f"{lock}: this change unlocks {gone.revision} ({gone.path}); make sure that was intended"
        for gone in update.removed
    ]
