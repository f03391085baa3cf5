"""Graph states and commit records of a real repository, read with the real sources; and
graph states of migration texts without a repository (``migration_file``, ``state_of``)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from forensics.analysis.graph import build_state
from forensics.model.commits import CommitRecord
from forensics.model.migrations import Environment, GraphState, MigrationFile
from forensics.sources.alembic_files import read_migration
from forensics.sources.git import GitSource

ENV = Environment("backend/alembic", "backend/alembic", ("backend/alembic/versions",))


def state_at(repo: Path, rev: str) -> GraphState:
    git = GitSource(repo)
    try:
        migrations = []
        for entry in git.tree(rev, ENV.versions_dirs):
            data = git.read_blob(entry.blob)
            assert data is not None
            migrations.append(read_migration(entry.path, data, blob=entry.blob))
        return build_state(ENV, migrations)
    finally:
        git.close()


def commit_records(repo: Path) -> dict[str, CommitRecord]:
    git = GitSource(repo)
    try:
        return {c.sha: c for c in git.log("HEAD", first_parent=False)}
    finally:
        git.close()


def blob_id(data: bytes) -> str:
    """The id git gives a blob of ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def migration_file(path: str, text: str) -> MigrationFile:
    """One migration file read by the real reader, with the blob id git would give it."""
    data = text.encode()
    return read_migration(path, data, blob=blob_id(data))


def state_of(files: Mapping[str, str], env: Environment = ENV) -> GraphState:
    """The graph of migration texts by path, as the pipeline builds it from a tree."""
    return build_state(env, [migration_file(p, t) for p, t in files.items()])
