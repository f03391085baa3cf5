"""``forensics guard``: stops a change that would repeat the incident before it ships.

It compares the migration graphs on both sides of a change, read from git objects only:

- a range ``--base..--rev`` (commits named), or the staged index against ``HEAD``
  (``--staged``, for pre-commit);
- the default base is the merge-base of ``--rev`` with its upstream (``@{upstream}``, else
  ``origin/HEAD``) when that is an older commit, else the parent of ``--rev`` (nothing, for a
  root commit).

The change fails (exit 1) when it edits (not cosmetically), rewires or removes a migration
that is applied, or adds a graph fault: a second unlabelled head, a file that does not parse,
a duplicate revision id, a missing parent, a cycle, a file without a revision. A migration is
applied when the lock file (``--lock``) lists it, or when it is in the graph at the latest
successful deploy of ``--deploys`` (release tags included; what production runs and its
ancestors). An edit that keeps the applied AST fingerprint is cosmetic: listed, and a failure
only with ``strict``. ``write_lock`` writes the lock file instead (see ``forensics.lockfile``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from forensics.analysis import shell
from forensics.analysis.applied import applied_set, production_revisions
from forensics.analysis.changes import classify
from forensics.analysis.graph import build_state
from forensics.errors import Diagnostics, InputError, UsageError
from forensics.lockfile import (
    LockEntry,
    LockUpdate,
    compare,
    fingerprint_of,
    parse_lock,
    read_lock,
    write_lock,
)
from forensics.model.commits import CommitRecord
from forensics.model.findings import Severity
from forensics.model.migrations import ChangeKind, GraphProblem, GraphState, MigrationFile
from forensics.sources.alembic_files import ConstantResolver, read_migration
from forensics.sources.deploys import load_deploys
from forensics.sources.environments import discover_environments, migration_paths
from forensics.sources.git import GitSource, TreeEntry

STAGED = "staged"

_KIND_NAMES = {
    ChangeKind.CODE: "edited",
    ChangeKind.ADDED: "edited",
    ChangeKind.METADATA: "rewired",
    ChangeKind.PARSE_ERROR: "broken",
    ChangeKind.DELETED: "removed",
}
_PROBLEM_KINDS = {
    "FX101": "new-head",
    "FX102": "duplicate-revision",
    "FX103": "missing-parent",
    "FX104": "cycle",
    "FX105": "unparseable",
    "FX106": "missing-revision",
}


@dataclass(frozen=True)
class Violation:
    """One thing the change does. ``kind``: ``edited``, ``rewired``, ``removed``,
    ``broken`` (an applied file no longer parses), ``cosmetic``, ``new-head``,
    ``duplicate-revision``, ``missing-parent``, ``cycle``, ``unparseable``,
    ``missing-revision`` or ``relock-refused``. ``commits`` are full SHAs, or ``staged``."""

    kind: str
    message: str
    revision: str | None = None
    path: str | None = None
    commits: tuple[str, ...] = ()
    # the line that declares the revision, where an annotation points
    line: int | None = None


@dataclass(frozen=True)
class GuardResult:
    """``violations`` fail the change; ``cosmetic`` lists format-only edits of applied
    migrations (also in ``violations`` when ``strict``)."""

    mode: str  # "range", "staged" or "write-lock"
    rev: str | None = None
    base: str | None = None
    violations: tuple[Violation, ...] = ()
    cosmetic: tuple[Violation, ...] = ()
    notes: tuple[str, ...] = ()
    lock_update: LockUpdate | None = None
    files_checked: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.violations else 0


# -- the two sides of a change --------------------------------------------------------------
@dataclass
class _Snapshot:
    """The graphs of one side of a guarded range, with each revision's file."""

    states: list[GraphState]
    by_revision: dict[str, tuple[MigrationFile, GraphState]] = field(default_factory=dict)

    @property
    def problems(self) -> list[GraphProblem]:
        return [p for s in self.states for p in s.problems]

    @property
    def migration_paths(self) -> set[str]:
        return {m.path for s in self.states for m in s.migrations}

    @property
    def versions_dirs(self) -> set[str]:
        return {d for s in self.states for d in s.environment.versions_dirs}


def _snapshot(git: GitSource, entries: Sequence[TreeEntry], diag: Diagnostics) -> _Snapshot:
    """The migration graphs of a tree (a commit's, or the index), read from git objects."""
    blobs = {e.path: e.blob for e in entries}

    def read(path: str) -> bytes | None:
        blob = blobs.get(path)
        return git.read_blob(blob) if blob else None

    resolver = ConstantResolver(blobs, read)
    states = []
    for env in discover_environments(entries, read, diag=diag):
        parsed = []
        for entry in migration_paths(env, entries, diag):
            data = git.read_blob(entry.blob)
            if data is not None:
                parsed.append(read_migration(entry.path, data, blob=entry.blob, constants=resolver))
        states.append(build_state(env, parsed))
    snap = _Snapshot(states)
    for state in states:
        for migration in state.migrations:
            if migration.revision and migration.parses:
                snap.by_revision.setdefault(migration.revision, (migration, state))
    return snap


# -- what counts as applied -----------------------------------------------------------------
@dataclass(frozen=True)
class _Reference:
    """What production applied of one revision: its fingerprint, and where that is known."""

    fingerprint: str
    source: str
    file: MigrationFile | None = None


def _from_lock(lock: Path) -> dict[str, list[_Reference]]:
    refs: dict[str, list[_Reference]] = {}
    for entry in read_lock(lock).entries:
        refs.setdefault(entry.revision, []).append(
            _Reference(entry.fingerprint, f"locked in {lock}")
        )
    return refs


def _deployed(
    git: GitSource, specs: Sequence[str], rev: str, diag: Diagnostics
) -> tuple[_Snapshot | None, set[str], str]:
    """The graph at the latest successful deploy (or release tag), the applied revisions in
    it, and how to name that evidence."""
    deploys = load_deploys(specs, git, rev, diag)
    snapshots: dict[str, _Snapshot] = {}

    def at(commit: str) -> _Snapshot:
        if commit not in snapshots:
            snapshots[commit] = _snapshot(git, git.tree(commit), diag)
        return snapshots[commit]

    def heads_at(commit: str) -> tuple[str, ...]:
        return tuple(h for s in at(commit).states for h in s.heads)

    production = production_revisions(heads_at, deploys=deploys)
    if production.commit is None:
        return None, set(), ""
    snap = at(production.commit)
    applied = applied_set(snap.states, production.revisions)
    what = "released in" if production.source == "tags" else "deployed by"
    deploy = (production.deploy or "").removeprefix("tag:")
    return snap, applied, f"{what} {deploy} at commit {production.commit[:8]}"


def _references(
    git: GitSource, deploys: Sequence[str], lock: Path | None, rev: str, diag: Diagnostics
) -> tuple[dict[str, list[_Reference]], list[str]]:
    refs: dict[str, list[_Reference]] = {}
    notes: list[str] = []
    if lock is not None:
        refs = _from_lock(lock)
    if deploys:
        snap, applied, source = _deployed(git, deploys, rev, diag)
        if snap is None:
            notes.append(
                "no successful deploy or release tag in --deploys: none of them marks a "
                "migration as applied"
            )
        else:
            for revision in sorted(applied):
                if revision in snap.by_revision:
                    file = snap.by_revision[revision][0]
                    fingerprint = fingerprint_of(file.ast_fingerprint or "")
                    refs.setdefault(revision, []).append(_Reference(fingerprint, source, file))
    if lock is None and not deploys:
        notes.append(
            "neither --deploys nor --lock says which migrations are applied, so only the "
            "graph was checked; pass --deploys, or --lock with a file written by "
            "`forensics guard --write-lock`"
        )
    return refs, notes


# -- who did it -----------------------------------------------------------------------------
class _Blame:
    """Names the commits of a range that changed a file (``git log --no-merges`` order,
    oldest first), preferring those whose own change was more than cosmetic."""

    def __init__(self, git: GitSource, commits: Sequence[CommitRecord] | None) -> None:
        self.git = git
        self.commits = list(reversed(commits)) if commits is not None else None

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
        def load(blob: str | None) -> MigrationFile | None:
            data = self.git.read_blob(blob) if blob else None
            return read_migration(path, data) if data is not None else None

        return classify(load(old), load(new))


def _who(commits: Sequence[str]) -> str:
    if not commits:
        return "this change"
    if commits == (STAGED,):
        return "the staged change"
    shown = ", ".join(c[:8] for c in commits[:5]) + (" …" if len(commits) > 5 else "")
    return f"commit{'s' if len(commits) > 1 else ''} {shown}"


def _shown(*line: str | shell.Arg) -> str:
    """A command in backquotes, every value quoted; or, for an implausible value, why there
    is no command."""
    try:
        return f"`{shell.command(*line)}`"
    except shell.UnsafeValue as exc:
        return f"(no command: {exc})"


_NEW_REVISION = ("alembic", "revision", "-m", shell.text("<what the edit does>"))


def _sentence(text: str) -> str:
    """``text`` with its first letter capitalised and the rest as it is (ids keep their case)."""
    return text[:1].upper() + text[1:]


def _carry_forward(state: GraphState | None) -> str:
    heads = list(state.heads) if state else []
    if len(heads) == 1:
        where = f"on the current head {heads[0]}"
        command = _shown(*_NEW_REVISION)
    elif heads:
        where = f"on one of the heads {', '.join(heads)}"
        command = _shown(*_NEW_REVISION, "--head", shell.revision(heads[0]))
    else:
        where, command = "on the current head", _shown(*_NEW_REVISION)
    return f"carry the change forward as a new revision {where}: {command}"


# -- the checks -----------------------------------------------------------------------------
def _applied_changes(
    before: _Snapshot,
    after: _Snapshot,
    refs: dict[str, list[_Reference]],
    blame: Callable[..., tuple[str, ...]],
    restore: Callable[[str], str],
) -> tuple[list[Violation], list[Violation], int]:
    violations: list[Violation] = []
    cosmetic: list[Violation] = []
    checked = 0
    for revision in sorted(refs):
        references = refs[revision]
        old = before.by_revision.get(revision)
        new = after.by_revision.get(revision)
        old_file = old[0] if old else None
        source = references[0].source
        if new is None:
            if old_file is None:
                continue  # gone before this change: not this change's doing
            # still at its path, but declaring another revision or no longer parsing?
            new = _file_at(after, old_file.path)
        if new is None:
            assert old_file is not None
            commits = blame(old_file.path, semantic=False)
            violations.append(
                Violation(
                    kind="removed",
                    revision=revision,
                    path=old_file.path,
                    commits=commits,
                    line=old_file.revision_line,
                    message=(
                        f"{old_file.path}: migration {revision} is applied ({source}) and "
                        f"{_who(commits)} removed it or moved it out of the versions folder; "
                        "production's history still needs it. Put it back "
                        f"({restore(old_file.path)})"
                    ),
                )
            )
            checked += 1
            continue
        new_file, state = new
        if old_file is not None and old_file.blob == new_file.blob:
            continue
        checked += 1
        fingerprint = fingerprint_of(new_file.ast_fingerprint or "")
        if new_file.parses and fingerprint in {r.fingerprint for r in references}:
            if old_file is not None:
                commits = blame(old_file.path, new_file.path, semantic=False)
                cosmetic.append(
                    Violation(
                        kind="cosmetic",
                        revision=revision,
                        path=new_file.path,
                        commits=commits,
                        message=(
                            f"{new_file.path}: {_who(commits)} reformatted applied migration "
                            f"{revision}; its code and metadata are unchanged"
                        ),
                    )
                )
            continue
        kind = classify(baseline_of(references, old_file), new_file)
        if kind is ChangeKind.COSMETIC:
            # the file already differed from what was applied; this change only reformats
            continue
        paths = (old_file.path if old_file else None, new_file.path)
        commits = blame(*paths)
        label = _KIND_NAMES.get(kind, "edited")
        what = {
            "rewired": f"rewired it ({_rewiring(baseline_of(references, old_file), new_file)})",
            "broken": "left it unparseable, so every deploy that runs migrations fails",
        }.get(label, "changed its code")
        violations.append(
            Violation(
                kind=label,
                revision=revision,
                path=new_file.path,
                commits=commits,
                line=new_file.revision_line or (old_file.revision_line if old_file else None),
                message=(
                    f"{new_file.path}: migration {revision} is applied ({source}) and "
                    f"{_who(commits)} {what}. Production will never run the edit. "
                    f"{_sentence(_carry_forward(state))}, then put the file back "
                    f"({restore(paths[0] or new_file.path)})"
                ),
            )
        )
    return violations, cosmetic, checked


def baseline_of(
    references: Sequence[_Reference], before: MigrationFile | None
) -> MigrationFile | None:
    """What an edit is measured against: the file before the change, else as deployed."""
    return before or next((r.file for r in references if r.file), None)


def _rewiring(before: MigrationFile | None, after: MigrationFile) -> str:
    """``down_revision a -> b`` for each metadata field that changed."""
    if before is None:
        return "revision, down_revision, depends_on or branch_labels"
    fields = {
        "revision": (before.revision,),
        "down_revision": before.down_revisions,
        "depends_on": before.depends_on,
        "branch_labels": before.branch_labels,
    }
    now = {
        "revision": (after.revision,),
        "down_revision": after.down_revisions,
        "depends_on": after.depends_on,
        "branch_labels": after.branch_labels,
    }
    changed = [
        f"{name} {', '.join(map(str, old)) or 'None'} -> {', '.join(map(str, now[name])) or 'None'}"
        for name, old in fields.items()
        if old != now[name]
    ]
    return "; ".join(changed) or "its metadata is no longer a literal"


def _file_at(snap: _Snapshot, path: str) -> tuple[MigrationFile, GraphState] | None:
    for state in snap.states:
        for migration in state.migrations:
            if migration.path == path:
                return migration, state
    return None


def _new_problems(
    before: _Snapshot,
    after: _Snapshot,
    blame: Callable[..., tuple[str, ...]],
    reported: set[str | None],
) -> list[Violation]:
    """Graph faults the change adds (``reported`` paths already have a violation)."""
    seen = {(p.kind, p.revision, p.path) for p in before.problems}
    old_heads = {h for s in before.states for h in s.heads}
    violations = []
    for state in after.states:
        for problem in state.problems:
            if problem.severity < Severity.HIGH or problem.rule not in _PROBLEM_KINDS:
                continue
            if (problem.kind, problem.revision, problem.path) in seen:
                continue
            if problem.rule == "FX105" and problem.path in reported:
                continue
            revision, path = problem.revision, problem.path
            if problem.rule == "FX101":
                added = [h for h in state.heads if h not in old_heads]
                files = state.by_revision()
                paths = [files[h].path for h in added if h in files]
                revision = ", ".join(added) or None
                path = ", ".join(paths) or None
                commits = blame(*paths)
                merge = _shown(
                    "alembic",
                    "merge",
                    "-m",
                    shell.text("merge heads"),
                    *map(shell.revision, state.heads),
                )
                hint = (
                    "base the new migration on the current head instead (set its "
                    f"down_revision), or merge the heads with {merge}"
                )
            elif problem.rule == "FX102":
                paths = [
                    m.path
                    for m in state.migrations
                    if m.revision == problem.revision
                    and (
                        problem.revision not in before.by_revision
                        or before.by_revision[problem.revision][0].path != m.path
                    )
                ]
                path = ", ".join(paths) or problem.path
                commits = blame(*paths)
                hint = "give the new file its own revision id (`alembic revision` makes one)"
            else:
                commits = blame(problem.path)
                hint = {
                    "FX103": "point down_revision at an existing revision (the current head)",
                    "FX104": "break the cycle: a revision cannot descend from itself",
                    "FX105": "fix the syntax error: every deploy that runs migrations would fail",
                    "FX106": 'give the file a literal `revision = "..."`',
                }[problem.rule]
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


# -- entry point ----------------------------------------------------------------------------
def default_base(git: GitSource, rev: str) -> str | None:
    """The merge-base of ``rev`` with its upstream (``@{upstream}``, else ``origin/HEAD``)
    when that is an older commit; else the parent of ``rev``; ``None`` for a root commit."""
    for ref in ("@{upstream}", "origin/HEAD"):
        upstream = git.try_resolve(ref)
        if upstream:
            base = git.merge_base(rev, upstream)
            if base and base != rev:
                return base
    return git.try_resolve(f"{rev}^")


def guard(
    repo: Path,
    base: str | None = None,
    rev: str = "HEAD",
    staged: bool = False,
    deploys: Sequence[str] = (),
    lock: Path | None = None,
    strict: bool = False,
    write_lock: bool = False,
    force: bool = False,
    diag: Diagnostics | None = None,
) -> GuardResult:
    """Check a change (the range ``base..rev``, or with ``staged`` the index against
    ``HEAD``), or with ``write_lock`` write the lock file from ``rev``. Raises
    ``ForensicsError`` (exit 2) for bad input; the result's ``exit_code`` is 0 or 1."""
    diag = diag or Diagnostics()
    if staged and base:
        raise UsageError("--staged checks the index against HEAD: drop --base (or --staged)")
    if (write_lock or force) and lock is None:
        raise UsageError("--write-lock and --force need --lock FILE (for example forensics.lock)")
    if force and not write_lock:
        raise UsageError("--force only applies to --write-lock: add --write-lock")
    git = GitSource(repo, diag)
    try:
        if write_lock:
            assert lock is not None
            return _write(git, rev, deploys, lock, force, diag)
        return _check(git, base, rev, staged, deploys, lock, strict, diag)
    finally:
        git.close()


def _check(
    git: GitSource,
    base: str | None,
    rev: str,
    staged: bool,
    deploys: Sequence[str],
    lock: Path | None,
    strict: bool,
    diag: Diagnostics,
) -> GuardResult:
    if staged:
        head = git.try_resolve("HEAD")
        before = _snapshot(git, git.tree(head) if head else [], diag)
        after = _snapshot(git, git.index(), diag)
        rev_sha, base_sha, commits = head, head, None

        def restore(path: str) -> str:
            return _shown(
                "git",
                "restore",
                "--staged",
                "--worktree",
                "--source",
                "HEAD",
                "--",
                shell.path(path),
            )
    else:
        rev_sha = git.resolve(rev)
        if base:
            base_sha = git.resolve(base)
            if not git.is_ancestor(base_sha, rev_sha):
                raise InputError(
                    f"--base {base} is not an ancestor of --rev {rev}: pass a commit from the "
                    f"history of {rev} (for a branch: `git merge-base main {rev}`)"
                )
        else:
            base_sha = default_base(git, rev_sha)
        before = _snapshot(git, git.tree(base_sha) if base_sha else [], diag)
        after = _snapshot(git, git.tree(rev_sha), diag)
        dirs = sorted(before.versions_dirs | after.versions_dirs)
        commits = (
            git.log(
                rev_sha,
                paths=dirs,
                first_parent=False,
                no_merges=True,
                exclude=[base_sha] if base_sha else [],
            )
            if dirs
            else []
        )

        def restore(path: str) -> str:
            source = shell.commit((base_sha or rev_sha)[:12])
            return _shown("git", "restore", "--source", source, "--", shell.path(path))

    mode = STAGED if staged else "range"
    if not before.states and not after.states:
        return GuardResult(
            mode, rev_sha, base_sha, notes=("no Alembic environment found: nothing to check",)
        )
    refs, notes = _references(git, deploys, lock, rev_sha or "HEAD", diag)
    if lock is not None and base_sha and not staged:
        notes += _relocked(git, lock, base_sha)
    blame = _Blame(git, commits)
    violations, cosmetic, checked = _applied_changes(before, after, refs, blame, restore)
    violations += _new_problems(before, after, blame, {v.path for v in violations})
    if strict:
        violations += [
            Violation("cosmetic", c.message + " (--strict)", c.revision, c.path, c.commits)
            for c in cosmetic
        ]
    changed = len(after.migration_paths ^ before.migration_paths) + checked
    return GuardResult(
        mode=mode,
        rev=rev_sha,
        base=base_sha,
        violations=tuple(violations),
        cosmetic=tuple(cosmetic),
        notes=tuple(notes),
        files_checked=changed,
    )


def _relocked(git: GitSource, lock: Path, base: str) -> list[str]:
    """Entries of a tracked lock file that the change re-locked (``--write-lock --force``):
    they pass, but they are said out loud."""
    try:
        relative = lock.resolve().relative_to(git.path.resolve()).as_posix()
    except (ValueError, OSError):
        return []
    entries = [e for e in git.tree(base, [relative]) if e.path == relative]
    data = git.read_blob(entries[0].blob) if entries else None
    if data is None:
        return []
    try:
        old = parse_lock(data.decode("utf-8", errors="replace"), relative, conflicts_ok=True)
    except InputError:
        return []
    update = compare(old, read_lock(lock).entries)
    return [
        f"{relative}: this change re-locks {o.revision} ({o.path}), whose fingerprint "
        "changed; it passes because the lock says so, make sure that was intended"
        for o, _n in update.changed
    ] + [
        f"{relative}: this change unlocks {gone.revision} ({gone.path}); make sure that was "
        "intended"
        for gone in update.removed
    ]


def _write(
    git: GitSource,
    rev: str,
    deploys: Sequence[str],
    lock: Path,
    force: bool,
    diag: Diagnostics,
) -> GuardResult:
    """The lock file from ``rev``: every revision of its graph, or, with ``deploys``, the
    applied ones as the latest successful deploy has them."""
    rev_sha = git.resolve(rev)
    notes: list[str] = []
    if deploys:
        snap, applied, source = _deployed(git, deploys, rev_sha, diag)
        if snap is None:
            raise InputError(
                "no successful deploy or release tag in --deploys: nothing to lock; drop "
                "--deploys to lock every migration at --rev"
            )
        files: Iterable[MigrationFile] = [snap.by_revision[r][0] for r in sorted(applied)]
        notes.append(f"locked the migrations {source}")
    else:
        snap = _snapshot(git, git.tree(rev_sha), diag)
        files = [m for m, _state in snap.by_revision.values()]
        notes.append(f"locked every migration at {rev_sha[:8]}")
    entries = [
        LockEntry(m.revision, m.path, fingerprint_of(m.ast_fingerprint))
        for m in files
        if m.revision and m.ast_fingerprint
    ]
    if not entries:
        raise InputError(
            f"no migration to lock at {rev}: is this the right repository and revision?"
        )
    update = write_lock(lock, entries, force=force)
    violations: list[Violation] = []
    for old, new in update.changed:
        what = "moved to " + new.path if old.path != new.path else "changed its fingerprint"
        if force:
            notes.append(f"re-locked {old.revision} ({old.path}), which {what} (--force)")
        else:
            violations.append(
                Violation(
                    kind="relock-refused",
                    revision=old.revision,
                    path=new.path,
                    message=(
                        f"{new.path}: locked migration {old.revision} {what} since it was "
                        "locked, so it was edited after it was applied. Undo the edit and "
                        "carry it forward as a new revision, or re-lock it on purpose with "
                        "--force"
                    ),
                )
            )
    for gone in update.removed:
        if force:
            notes.append(f"unlocked {gone.revision} ({gone.path}), which is gone (--force)")
        else:
            violations.append(
                Violation(
                    kind="relock-refused",
                    revision=gone.revision,
                    path=gone.path,
                    message=(
                        f"{gone.path}: locked migration {gone.revision} is gone at {rev}; "
                        "put it back, or unlock it on purpose with --force"
                    ),
                )
            )
    if violations:
        notes.append(f"{lock} was not written")
    else:
        notes.append(f"wrote {lock}: {len(entries)} migration(s), {len(update.added)} newly locked")
    return GuardResult(
        "write-lock",
        rev=rev_sha,
        violations=tuple(violations),
        notes=tuple(notes),
        lock_update=update,
        files_checked=len(entries),
    )


def format_result(result: GuardResult) -> str:
    """The text ``forensics guard`` prints: one block per violation, the cosmetic edits,
    the notes, and a last line with the verdict."""
    lines: list[str] = []
    for v in result.violations:
        lines.append(f"FAIL [{v.kind}] {v.message}")
    for c in result.cosmetic:
        lines.append(f"cosmetic: {c.message}")
    for note in result.notes:
        lines.append(f"note: {note}")
    if result.mode == "write-lock":
        verdict = "lock file not written" if result.violations else "lock file written"
    elif result.violations:
        verdict = f"guard failed: {len(result.violations)} problem(s) in this change"
    else:
        verdict = "guard passed: no applied migration edited, no new graph fault"
    lines.append(verdict)
    return "\n".join(lines) + "\n"
