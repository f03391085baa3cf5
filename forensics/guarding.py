"""``forensics guard``: stops a change that would repeat the incident before it ships.

It compares the migration graphs on both sides of a change, read from git objects only
with the loader ``analyze`` uses (``sources.migration_tree``):

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
only with ``strict``. ``write_lock_file`` writes the lock file (``forensics.lockfile``).
The rules are in ``detectors.change_rules`` (the findings are the detectors' ones), the
text in ``render.guard_text``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from forensics import lockfile
from forensics.analysis import shell, snapshots
from forensics.analysis.graph import build_state
from forensics.analysis.snapshots import Deployed, Reference, Restore, Snapshot
from forensics.detectors import change_rules as checks
from forensics.errors import Diagnostics, InputError
from forensics.model.commits import CommitRecord
from forensics.model.guard import GuardMode, GuardResult, LockEntry
from forensics.sources.deploys import load_deploys
from forensics.sources.git import GitSource, TreeEntry
from forensics.sources.migration_tree import MigrationTree, file_loader


def _snapshot(git: GitSource, entries: Sequence[TreeEntry], diag: Diagnostics) -> Snapshot:
    """The migration graphs of a tree (a commit's, or the index)."""
    tree = MigrationTree(git, entries, diag=diag)
    return Snapshot.of([build_state(env, parsed) for env, parsed in tree.parsed()])


# -- what counts as applied -----------------------------------------------------------------
def _deployed(git: GitSource, specs: Sequence[str], rev: str, diag: Diagnostics) -> Deployed | None:
    """What the latest successful deploy (or release tag) of ``specs`` applied."""
    seen: dict[str, Snapshot] = {}

    def at(commit: str) -> Snapshot:
        if commit not in seen:
            seen[commit] = _snapshot(git, git.tree(commit), diag)
        return seen[commit]

    return snapshots.deployed(load_deploys(specs, git, rev, diag), at)


def _references(
    git: GitSource, deploys: Sequence[str], lock: Path | None, rev: str, diag: Diagnostics
) -> tuple[dict[str, list[Reference]], list[str]]:
    locked = lockfile.read_lock(lock).entries if lock is not None else ()
    found = _deployed(git, deploys, rev, diag) if deploys else None
    notes: list[str] = []
    if deploys and found is None:
        notes.append(
            "no successful deploy or release tag in --deploys: none of them marks a "
            "migration as applied"
        )
    if lock is None and not deploys:
        notes.append(
            "neither --deploys nor --lock says which migrations are applied, so only the "
            "graph was checked; pass --deploys, or --lock with a file written by "
            "`forensics guard --write-lock`"
        )
    return snapshots.references(locked, str(lock), found), notes


# -- the two sides of a change --------------------------------------------------------------
@dataclass(frozen=True)
class _Sides:
    before: Snapshot
    after: Snapshot
    rev: str | None
    base: str | None
    commits: list[CommitRecord] | None  # None for the staged index: no commits yet
    restore: Restore


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


def _staged(git: GitSource, diag: Diagnostics) -> _Sides:
    head = git.try_resolve("HEAD")
    before = _snapshot(git, git.tree(head) if head else [], diag)

    def restore(path: str) -> str:
        return shell.shown(
            "git", "restore", "--staged", "--worktree", "--source", "HEAD", "--", shell.path(path)
        )

    return _Sides(before, _snapshot(git, git.index(), diag), head, head, None, restore)


def _range(git: GitSource, base: str | None, rev: str, diag: Diagnostics) -> _Sides:
    rev_sha = git.resolve(rev)
    base_sha = git.resolve(base) if base else default_base(git, rev_sha)
    if base and base_sha and not git.is_ancestor(base_sha, rev_sha):
        raise InputError(
            f"--base {base} is not an ancestor of --rev {rev}: pass a commit from the "
            f"history of {rev} (for a branch: `git merge-base main {rev}`)"
        )
    before = _snapshot(git, git.tree(base_sha) if base_sha else [], diag)
    after = _snapshot(git, git.tree(rev_sha), diag)
    dirs = sorted(before.versions_dirs | after.versions_dirs)
    exclude = [base_sha] if base_sha else []
    log = (
        git.log(rev_sha, paths=dirs, first_parent=False, no_merges=True, exclude=exclude)
        if dirs
        else []
    )
    source = shell.commit((base_sha or rev_sha)[:12])

    def restore(path: str) -> str:
        return shell.shown("git", "restore", "--source", source, "--", shell.path(path))

    return _Sides(before, after, rev_sha, base_sha, log, restore)


# -- entry points ---------------------------------------------------------------------------
def check_change(
    git: GitSource,
    mode: GuardMode,
    base: str | None = None,
    rev: str = "HEAD",
    deploys: Sequence[str] = (),
    lock: Path | None = None,
    *,
    strict: bool = False,
    diag: Diagnostics | None = None,
) -> GuardResult:
    """The violations of a change: the range ``base..rev``, or the staged index."""
    diag = diag or Diagnostics()
    sides = _staged(git, diag) if mode is GuardMode.STAGED else _range(git, base, rev, diag)
    before, after = sides.before, sides.after
    if not before.states and not after.states:
        nothing = ("no Alembic environment found: nothing to check",)
        return GuardResult(mode, sides.rev, sides.base, notes=nothing)
    refs, notes = _references(git, deploys, lock, sides.rev or "HEAD", diag)
    if lock is not None and sides.base and mode is GuardMode.RANGE:
        notes += _relocked(git, lock, sides.base)
    blame = snapshots.Blame(sides.commits, file_loader(git))
    violations, cosmetic, checked = checks.applied_changes(
        before, after, refs, blame, sides.restore
    )
    violations += checks.new_problems(before, after, blame, {v.path for v in violations})
    if strict:
        violations += [replace(c, detail=c.detail + " (--strict)") for c in cosmetic]
    return GuardResult(
        mode=mode,
        rev=sides.rev,
        base=sides.base,
        violations=tuple(violations),
        cosmetic=tuple(cosmetic),
        notes=tuple(notes),
        files_checked=len(after.migration_paths ^ before.migration_paths) + checked,
    )


def _relocked(git: GitSource, lock: Path, base: str) -> list[str]:
    """Entries of a tracked lock file that the change re-locked (``--write-lock --force``):
    they pass, but they are said out loud."""
    try:
        relative = lock.resolve().relative_to(git.path.resolve()).as_posix()
    except (ValueError, OSError):
        return []
    data = git.read_path(base, relative)
    if data is None:
        return []
    try:
        text = data.decode("utf-8", errors="replace")
        old = lockfile.parse_lock(text, relative, conflicts_ok=True)
    except InputError:
        return []
    return checks.relock_notes(relative, lockfile.compare(old, lockfile.read_lock(lock).entries))


def write_lock_file(
    git: GitSource,
    rev: str,
    lock: Path,
    *,
    deploys: Sequence[str] = (),
    force: bool = False,
    diag: Diagnostics | None = None,
) -> GuardResult:
    """The lock file from ``rev``: every revision of its graph, or, with ``deploys``, the
    applied ones as the latest successful deploy has them. A changed, moved or removed
    locked revision is refused unless ``force``."""
    diag = diag or Diagnostics()
    rev_sha = git.resolve(rev)
    if deploys:
        found = _deployed(git, deploys, rev_sha, diag)
        if found is None:
            raise InputError(
                "no successful deploy or release tag in --deploys: nothing to lock; drop "
                "--deploys to lock every migration at --rev"
            )
        files = [found.snapshot.by_revision[r][0] for r in sorted(found.applied)]
        notes = [f"locked the migrations {found.evidence}"]
    else:
        files = [m for m, _state in _snapshot(git, git.tree(rev_sha), diag).by_revision.values()]
        notes = [f"locked every migration at {rev_sha[:8]}"]
    entries = [
        LockEntry(m.revision, m.path, lockfile.fingerprint_of(m.ast_fingerprint))
        for m in files
        if m.revision and m.ast_fingerprint
    ]
    if not entries:
        raise InputError(
            f"no migration to lock at {rev}: is this the right repository and revision?"
        )
    update = lockfile.write_lock(lock, entries, force=force)
    violations, forced = checks.lock_refusals(update, rev, force)
    notes += forced
    if violations:
        notes.append(f"{lock} was not written")
    else:
        notes.append(f"wrote {lock}: {len(entries)} migration(s), {len(update.added)} newly locked")
    return GuardResult(
        GuardMode.WRITE_LOCK,
        rev=rev_sha,
        violations=tuple(violations),
        notes=tuple(notes),
        lock_update=update,
        files_checked=len(entries),
    )
