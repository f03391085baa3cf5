"""Wires the stages: sources -> analysis -> detectors -> report.

Everything is read from git objects at the analysed revision, never from the working tree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from forensics.analysis.graph import build_state
from forensics.analysis.graph_history import walk
from forensics.errors import Diagnostics, InputError
from forensics.model.commits import CommitRecord
from forensics.model.migrations import Environment, GraphHistory, GraphState, MigrationFile
from forensics.sources.alembic_files import ConstantResolver, read_migration
from forensics.sources.environments import discover_environments, migration_paths
from forensics.sources.git import GitSource, TreeEntry


def _reader(
    git: GitSource, files: Sequence[TreeEntry]
) -> tuple[Callable[[str], bytes | None], ConstantResolver]:
    """``read(path)`` over the tree ``files`` (git objects), and the constant resolver."""
    blobs = {f.path: f.blob for f in files}

    def read(path: str) -> bytes | None:
        blob = blobs.get(path)
        return git.read_blob(blob) if blob else None

    return read, ConstantResolver([f.path for f in files if f.path.endswith(".py")], read)


def load_graphs(
    git: GitSource, rev: str, migrations: Sequence[str], diag: Diagnostics
) -> tuple[list[Environment], list[GraphState]]:
    """The Alembic environments at ``rev`` and the graph of each. Raises ``InputError`` when
    there is none; warns (and carries on) about empty versions folders and odd files."""
    sha = git.resolve(rev)
    files = git.tree(sha)
    read, resolver = _reader(git, files)
    envs = discover_environments(files, read, migrations, diag=diag)
    if not envs:
        raise InputError(
            f"no Alembic environment found at {rev}: pass --migrations DIR with the folder "
            "that holds the migration files (or its versions/ folder)"
        )
    states = []
    for env in envs:
        entries = migration_paths(env, files)
        if not entries:
            diag.warn(
                f"environment {env.name}: versions folder {', '.join(env.versions_dirs)} holds "
                "no migration files at this revision"
            )
        parsed = []
        for entry in entries:
            data = git.read_blob(entry.blob)
            if data is None:
                continue
            migration = read_migration(entry.path, data, blob=entry.blob, constants=resolver)
            for warning in migration.warnings:
                diag.warn(f"{entry.path}: {warning}")
            parsed.append(migration)
        states.append(build_state(env, parsed))
    return envs, states


def load_history(
    git: GitSource, rev: str, envs: Sequence[Environment], diag: Diagnostics
) -> GraphHistory:
    """The graph over the first-parent history of ``rev``: one path-limited ``git log``,
    each distinct blob parsed once, merged changes attributed to the commits that made them.

    Names imported from other modules are resolved with the modules as they are at ``rev``.
    """
    sha = git.resolve(rev)
    dirs = sorted({d for env in envs for d in env.versions_dirs})
    commits = list(reversed(git.log(sha, paths=dirs, first_parent=True)))
    _read, resolver = _reader(git, git.tree(sha))
    memo: dict[str, MigrationFile] = {}

    def load(path: str, blob: str) -> MigrationFile:
        known = memo.get(blob)
        if known is None:
            data = git.read_blob(blob)
            known = read_migration(
                path, data if data is not None else b"", blob=blob, constants=resolver
            )
            if data is None:
                known = dataclasses.replace(known, warnings=(*known.warnings, "git object missing"))
            memo[blob] = known
        return known if known.path == path else dataclasses.replace(known, path=path)

    def authors(commit: CommitRecord, path: str) -> tuple[tuple[str, ...], str | None]:
        shas = git.merge_attribution(commit, path)
        if not shas:
            return (commit.sha,), None
        return tuple(reversed(shas)), commit.sha

    return walk(envs, commits, load, authors=authors)
