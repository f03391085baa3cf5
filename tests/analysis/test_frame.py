"""The commits table and the per-migration edit table, from a real repository."""

from __future__ import annotations

from collections.abc import Callable

from forensics.analysis.bursts import migration_edits
from forensics.analysis.metrics import COMMIT_COLUMNS, changes_frame, commits_frame, edits_per_path
from forensics.gitbuild import RepoBuilder
from forensics.sources.git import GitSource
from tests.activity import MIGRATION, T0, mine, seed_burst


def test_one_row_per_commit_and_file(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    seed_burst(repo, make_migration)
    repo.commit("empty", T0.replace(hour=12), allow_empty=True)
    commits = GitSource(repo.path).log("HEAD")
    frame = commits_frame(commits)
    assert tuple(frame.columns) == COMMIT_COLUMNS
    assert len(frame) == sum(max(len(c.files), 1) for c in commits)
    assert str(frame["authored_at"].dt.tz) == "UTC"
    burst_rows = frame[frame["path"] == MIGRATION]
    assert len(burst_rows) == 11  # the add and the ten burst commits
    assert set(burst_rows["author"]) == {"Dev", "Dudley"}
    empty = frame[frame["subject"] == "empty"]
    assert len(empty) == 1 and empty["path"].isna().all()
    assert not frame["is_merge"].any()


def test_edit_table_agrees_with_the_churn_counts(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    seed_burst(repo, make_migration)
    changes, commits = mine(GitSource(repo.path))
    table = edits_per_path(changes, commits)
    assert table.loc[MIGRATION, "edits"] == 10
    assert dict(table["edits"]) == migration_edits(changes, commits)
    assert table.loc[MIGRATION, "first_at"] < table.loc[MIGRATION, "last_at"]
    assert set(changes_frame(changes, commits)["kind"]) == {"added", "code"}
