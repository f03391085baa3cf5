"""Graph states and commit records of a real repository, read with the real sources."""

from __future__ import annotations

from pathlib import Path

from forensics.analysis.graph import build_state
from forensics.model.commits import CommitRecord
from forensics.model.migrations import Environment, GraphState
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
