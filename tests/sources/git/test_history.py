"""SZZ blame and file diffs through PyDriller, on real repositories, with the analysed
repository's diff drivers unable to start a program."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from forensics.gitbuild import RepoBuilder
from forensics.sources.cache import MiningCache
from forensics.sources.git import GitSource

PATH = "alembic/versions/m.py"
FILE = (
    "revision = 'm'\ndown_revision = {down}\n\n\n"
    "def upgrade():\n    op.execute('{step}')\n\n\n"
    "def downgrade():\n    op.execute('undo')\n"
)


def _hostile(repo: RepoBuilder, tmp_path: Path) -> Path:
    """A textconv driver for every file, which plain `git blame` runs."""
    marker = tmp_path / "textconv-ran"
    script = tmp_path / "conv.sh"
    script.write_text(f'#!/bin/sh\ntouch "{marker}"\ncat "$1"\n')
    script.chmod(0o755)
    subprocess.run(["git", "-C", str(repo.path), "config", "diff.evil.textconv", str(script)])
    (repo.path / ".git" / "info" / "attributes").write_text("* diff=evil\n")
    return marker


def test_szz_names_the_commit_whose_lines_the_fix_changed(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    base = repo.commit(
        "add", "2025-11-01T10:00:00Z", files={PATH: FILE.format(down=None, step="a")}
    )
    broke = repo.commit(
        "break", "2025-11-01T11:00:00Z", files={PATH: FILE.format(down=None, step="b")}
    )
    other = repo.commit("docs", "2025-11-01T11:30:00Z", files={"README": "x\n"})
    fix = repo.commit("fix", "2025-11-01T12:00:00Z", files={PATH: FILE.format(down=None, step="c")})
    marker = _hostile(repo, tmp_path)
    plain = subprocess.run(
        ["git", "-C", str(repo.path), "blame", f"{fix}^", "--", PATH], capture_output=True
    )
    assert plain.returncode == 0 and marker.exists()  # the driver is real
    marker.unlink()

    git = GitSource(repo.path)
    try:
        blamed = git.last_modified_lines([fix], {PATH})
        detail = git.file_diff(base, fix, [PATH])
        later = git.file_diff(base, other, [PATH])  # a commit that did not touch the file
        same = git.file_diff(broke, other, [PATH])
    finally:
        git.close()
    assert blamed == {broke: [(fix, PATH)]}
    assert detail is not None and detail.changed_methods == ("upgrade",)
    assert [t for _n, t in detail.deleted] == ["    op.execute('a')"]
    assert [t for _n, t in detail.added] == ["    op.execute('c')"]
    assert later is not None and [t for _n, t in later.added] == ["    op.execute('b')"]
    assert same is not None and same.diff == "" and same.changed_methods == ()
    assert not marker.exists()


def test_unknown_commits_give_a_warning_not_a_traceback(
    git_repo: Callable[..., RepoBuilder],
) -> None:
    repo = git_repo()
    repo.commit("add", "2025-11-01T10:00:00Z", files={PATH: FILE.format(down=None, step="a")})
    git = GitSource(repo.path)
    try:
        assert git.last_modified_lines(["f" * 40], {PATH}) == {}
        assert git.file_diff("e" * 40, "f" * 40, [PATH]) is None
    finally:
        git.close()
    assert len(git.diag.warnings) == 2
    assert all("f" * 12 in w for w in git.diag.warnings)


def test_a_diff_between_two_commits_comes_from_the_cache_on_the_next_run(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    base = repo.commit(
        "add", "2025-11-01T10:00:00Z", files={PATH: FILE.format(down=None, step="a")}
    )
    fix = repo.commit("fix", "2025-11-01T12:00:00Z", files={PATH: FILE.format(down=None, step="c")})
    folder = tmp_path / "cache"
    first = GitSource(repo.path, cache=MiningCache(folder))
    detail = first.file_diff(base, fix, [PATH])
    first.close()
    assert detail is not None and detail.changed_methods == ("upgrade",)

    # the commit is gone: only the cache can answer now
    (repo.path / ".git" / "objects" / fix[:2] / fix[2:]).unlink()
    second = GitSource(repo.path, cache=MiningCache(folder))
    try:
        assert second.file_diff(base, fix, [PATH]) == detail
        assert second.file_diff(base, fix, [PATH, "old/m.py"]) is None  # another question
    finally:
        second.close()
