"""The migration graphs of a repository, read from git objects: the graph of each Alembic
environment at a revision (``load_graphs``), the environments of every era of its history
(``history_environments``) and the graph over that history (``load_history``). Shared by
the pipeline, ``dag`` and ``history``."""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence

from forensics.analysis.graph import build_state
from forensics.analysis.graph_history import Brought, walk
from forensics.errors import Diagnostics, InputError, log
from forensics.model.commits import ChangeStatus, CommitRecord, FileChange
from forensics.model.migrations import (
    Environment,
    GraphHistory,
    GraphState,
    MigrationFile,
    SourceDialect,
)
from forensics.sources.alembic_files import read_migration
from forensics.sources.cache import cache_key
from forensics.sources.environments import SYMLINK_MODE, discover_environments
from forensics.sources.git import GitSource, TreeEntry
from forensics.sources.migration_code.constants import ConstantResolver
from forensics.sources.migration_tree import MigrationTree, tree_reader


def load_graphs(
    git: GitSource,
    rev: str,
    migrations: Sequence[str],
    diag: Diagnostics,
    discovered: Callable[[Sequence[Environment]], None] | None = None,
) -> tuple[list[Environment], list[GraphState]]:
    """The Alembic environments at ``rev`` and the graph of each. Raises ``InputError`` when
    there is none; warns (and carries on) about empty versions folders and odd files.
    ``discovered`` is told the environments as soon as they are known, before their files
    are read."""
    sha = git.resolve(rev)
    tree = MigrationTree(git, git.tree(sha), migrations, diag)
    if not tree.environments:
        raise InputError(
            f"no Alembic environment found at {rev}: pass --migrations DIR with the folder "
            "that holds the migration files (or its versions/ folder)"
        )
    if discovered is not None:
        discovered(tree.environments)
    states = []
    for env, parsed in tree.parsed():
        if not parsed:
            diag.warn(
                f"environment {env.name}: versions folder {', '.join(env.versions_dirs)} holds "
                "no migration files at this revision"
            )
        for migration in parsed:
            for warning in migration.warnings:
                diag.warn(f"{migration.path}: {warning}")
        # One line per environment: real projects carry dozens of stale headers.
        mismatched = sum(1 for m in parsed if m.docstring_mismatches)
        if mismatched:
            diag.warn(
                f"environment {env.name}: {mismatched} migration file(s) have a docstring "
                "header (Revision ID, Revises) that disagrees with the code, which Alembic "
                "follows; the JSON lists them (environments[].docstring_mismatches)"
            )
        states.append(build_state(env, parsed))
    note_python2(states)
    return list(tree.environments), states


def note_python2(states: Sequence[GraphState]) -> None:
    """Says once per environment how many of its migrations are Python 2 source: they ran
    under Python 2, so they are read as such and are not unparseable."""
    for state in states:
        count = sum(m.dialect is SourceDialect.PYTHON2 for m in state.migrations)
        if count:
            noun = "migration is" if count == 1 else "migrations are"
            log.info("environment %s: %d %s Python 2 source", state.environment.name, count, noun)


def env_py(env: Environment) -> str:
    """The path of the ``env.py`` of ``env``."""
    return posixpath.join(env.script_location, "env.py") if env.script_location else "env.py"


def _moved(location: str, moves: Sequence[tuple[str, str]]) -> str:
    """Where a folder ended up after the folder moves (oldest first)."""
    for old, new in moves:
        if location == old or location.startswith(old + "/"):
            location = new + location[len(old) :]
    return location


def history_environments(
    git: GitSource, rev: str, envs: Sequence[Environment]
) -> list[Environment]:
    """The environments of every era of the first-parent history of ``rev``, not only
    those at ``rev``: the environments found just before each commit that moved the
    ``env.py`` of an environment of ``rev``. A folder that moved belongs to the environment
    it moved into, which then owns both folders, so that the move is a rename inside one
    environment rather than a break; another environment found there and gone by ``rev``
    stays as it was."""
    sha = git.resolve(rev)
    cache = git.cache if git.cache is not None and git.cache.enabled else None
    key = cache_key("eras", sha, *(repr(e) for e in envs))
    if cache is not None:
        found = cache.get("eras", key, tuple[Environment, ...])
        if found is not None:
            return list(found)
    incomplete = git.incomplete
    # Each environment's env.py followed back through its renames: one cheap path-limited
    # walk each (a pattern such as **/env.py would make git diff every whole tree).
    renames = sorted(
        (commit.committed_at, fc.old_path, fc.path, commit.parents[0])
        for env in envs
        for commit in git.log(sha, paths=[env_py(env)], first_parent=True, follow=True)
        if commit.parents
        for fc in commit.files
        if fc.status is ChangeStatus.RENAMED and fc.old_path
        if posixpath.dirname(fc.old_path) != posixpath.dirname(fc.path)
    )
    moves = [(posixpath.dirname(old), posixpath.dirname(new)) for _at, old, new, _c in renames]
    points = dict.fromkeys(parent for *_move, parent in renames)
    result = {env.name: env for env in envs}
    by_location = {env.script_location: env.name for env in envs}
    for point in points:
        files = git.tree(point)
        read, _resolver = tree_reader(git, files)
        for old in discover_environments(files, read, diag=Diagnostics()):
            home = by_location.get(_moved(old.script_location, moves), old.name)
            known = result.get(home)
            if known is None:
                result[home] = dataclasses.replace(old, name=home)
            elif not set(old.versions_dirs) <= set(known.versions_dirs):
                dirs = tuple(dict.fromkeys((*known.versions_dirs, *old.versions_dirs)))
                result[home] = dataclasses.replace(known, versions_dirs=dirs)
    eras = list(result.values())
    if cache is not None and git.incomplete == incomplete:
        cache.put("eras", key, tuple(eras), tuple[Environment, ...])
    return eras


def load_history(
    git: GitSource,
    rev: str,
    envs: Sequence[Environment],
    diag: Diagnostics,
    states: Sequence[GraphState] = (),
) -> GraphHistory:
    """The graph over the first-parent history of ``rev``: one path-limited ``git log``,
    each distinct blob parsed once, merged changes attributed to the commits that made them
    (one more ``git log`` and one ``rev-list`` for all merges together).

    Names imported from other modules are resolved with the modules as they are at ``rev``.
    ``states`` (``load_graphs`` at ``rev``) holds files already parsed the same way. The
    environments are those of every era (``history_environments``).
    """
    sha = git.resolve(rev)
    envs = history_environments(git, sha, envs)
    dirs = sorted({d for env in envs for d in env.versions_dirs})
    commits = list(reversed(git.log(sha, paths=dirs, first_parent=True)))
    # git reads the branches while the first-parent versions are parsed
    side = git.in_background(git.merged_changes, sha, dirs)
    tree = git.tree(sha)
    commits = _without_links(commits, tree)
    _read, resolver = tree_reader(git, tree)
    versions = _VersionReader(git, envs, resolver, states)
    versions.parse(commits)
    merged = side.result()
    versions.parse(record for group in merged.values() for record in group)
    return walk(envs, commits, versions.load, brought=_brought_from(merged))


def _without_links(commits: list[CommitRecord], tree: Sequence[TreeEntry]) -> list[CommitRecord]:
    """The commits without their changes to symbolic links: a link in a versions folder is
    no migration (``load_graphs`` warns about them)."""
    links = {entry.path for entry in tree if entry.mode == SYMLINK_MODE}
    if not links:
        return commits
    return [
        dataclasses.replace(c, files=tuple(f for f in c.files if f.path not in links))
        for c in commits
    ]


class _VersionReader:
    """The migration versions of a history, each blob read and parsed once: the files
    already parsed at ``rev`` are reused, and each batch of blobs is read in one go."""

    def __init__(
        self,
        git: GitSource,
        envs: Sequence[Environment],
        resolver: ConstantResolver,
        states: Sequence[GraphState],
    ) -> None:
        self._git = git
        self._envs = envs
        self._resolver = resolver
        self._memo = {m.blob: m for state in states for m in state.migrations if m.blob}
        self._contents: dict[str, bytes] = {}

    def _wanted(self, records: Iterable[CommitRecord]) -> list[tuple[str, str]]:
        """``(path, blob)`` of every migration version the commits name, not yet parsed."""
        return [
            (fc.path, blob)
            for record in records
            for fc in record.files
            if any(env.owns(fc.path) or env.owns(fc.old_path or "") for env in self._envs)
            for blob in (fc.old_blob, fc.new_blob)
            if blob and blob not in self._memo
        ]

    def parse(self, records: Iterable[CommitRecord]) -> None:
        """Parse every version the commits name, reading their blobs together first."""
        wanted = self._wanted(records)
        self._contents.update(self._git.read_blobs(blob for _path, blob in wanted))
        for path, blob in wanted:
            self.load(path, blob)

    def load(self, path: str, blob: str) -> MigrationFile:
        """The version ``blob`` of the migration at ``path``."""
        known = self._memo.get(blob)
        if known is None:
            contents = self._contents
            data = contents.pop(blob) if blob in contents else self._git.read_blob(blob)
            known = read_migration(
                path, data if data is not None else b"", blob=blob, constants=self._resolver
            )
            if data is None:
                known = dataclasses.replace(known, warnings=(*known.warnings, "git object missing"))
            self._memo[blob] = known
        return known if known.path == path else dataclasses.replace(known, path=path)


def _brought_from(merged: Mapping[str, Sequence[CommitRecord]]) -> Brought:
    """What ``walk`` asks of a merge: the commits it brought (``merged``, newest first)
    that changed a path, renames from it included, oldest first."""

    def brought(merge: CommitRecord, path: str) -> list[tuple[str, FileChange]]:
        found = [
            (record.sha, fc)
            for record in merged.get(merge.sha, ())
            for fc in record.files
            if fc.path == path or (fc.status is ChangeStatus.RENAMED and fc.old_path == path)
        ]
        return found[::-1]

    return brought
