"""Helpers for activity tests: migration changes mined from a real repository, and the
seed-like burst scenario (10 templated commits in 20 minutes, in three time zones)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from forensics.gitbuild import RepoBuilder
from forensics.model.commits import ChangeStatus, CommitRecord
from forensics.model.migrations import ChangeKind, MigrationChange
from forensics.sources.git import GitSource

VERSIONS = "backend/alembic/versions/"
MIGRATION = VERSIONS + "774225e563ca_add_document_ai.py"
T0 = datetime(2025, 11, 13, 9, 0, tzinfo=UTC)
ZONES = (timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)), UTC)
# seconds after T0: ten commits in under 20 minutes, irregular but fast
BURST_OFFSETS = (0, 110, 250, 330, 480, 600, 750, 840, 1020, 1170)
VERBS = (
    "cleanup",
    "finalize",
    "rewrite",
    "refactor",
    "tidy",
    "harden",
    "simplify",
    "restore",
    "polish",
    "fix",
)


def mine(
    source: GitSource, rev: str = "HEAD", prefix: str = VERSIONS
) -> tuple[list[MigrationChange], dict[str, CommitRecord]]:
    """MigrationChanges along the first-parent chain (merges attributed to the branch
    commits that really changed each file), and every commit read."""
    commits = {c.sha: c for c in source.log(rev, first_parent=False)}
    changes = []
    merged = source.merged_changes(rev, [prefix])
    for record in reversed(source.log(rev, paths=[prefix])):
        for f in record.files:
            if not f.path.startswith(prefix):
                continue
            authors = (
                tuple(
                    r.sha
                    for r in merged.get(record.sha, ())
                    if any(f.path in (fc.path, fc.old_path) for fc in r.files)
                )
                if record.is_merge
                else (record.sha,)
            )
            kind = {
                ChangeStatus.ADDED: ChangeKind.ADDED,
                ChangeStatus.DELETED: ChangeKind.DELETED,
            }.get(f.status, ChangeKind.CODE)
            changes.append(
                MigrationChange(
                    commit=record.sha,
                    at=record.committed_at,
                    path=f.path,
                    kind=kind,
                    revision=f.path.rsplit("/", 1)[-1].split("_", 1)[0],
                    old_blob=f.old_blob,
                    new_blob=f.new_blob,
                    authors=authors,
                    merge=record.sha if record.is_merge else None,
                )
            )
    return changes, commits


def seed_burst(repo: RepoBuilder, migration: Callable[..., str]) -> list[str]:
    """The seed incident in miniature. Returns the SHAs of the ten commits that changed the
    migration; a commit in the middle names the migration but changes other files only."""
    repo.commit(
        "add document AI tables",
        T0 - timedelta(days=3),
        files={MIGRATION: migration("774225e563ca", "65e4b4ef883d")},
    )
    repo.commit("app work", T0 - timedelta(hours=2), files={"app/main.py": "print(1)\n"})
    shas = []
    for i, offset in enumerate(BURST_OFFSETS):
        when = (T0 + timedelta(seconds=offset)).astimezone(ZONES[i % 3])
        message = (
            f"fix: {VERBS[i]} alembic guard helpers for 774225e563ca\n\n"
            "Co-Authored-By: Claude <noreply@anthropic.com>\n"
        )
        body = f"    op.execute('select {i}')"
        shas.append(
            repo.commit(
                message,
                when.isoformat(),
                author="Dudley",
                email="dudley@example.com",
                files={MIGRATION: migration("774225e563ca", "65e4b4ef883d", body=body)},
            )
        )
        if i == 4:
            repo.commit(
                "chore: add Render deployment utilities and update migration formatting "
                "for 774225e563ca",
                (T0 + timedelta(seconds=offset + 60)).isoformat(),
                author="Dudley",
                email="dudley@example.com",
                files={"scripts/render_utils.py": "x = 1\n"},
            )
    return shas
