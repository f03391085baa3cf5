"""The pipeline's git reading on real repositories: the number of git processes does not
grow with the number of merges or tags, and a run from the cache gives the same warnings."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forensics.gitbuild import RepoBuilder
from tests.conftest import Run

T0 = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)
V = "migrations/versions"


def at(step: int) -> datetime:
    return T0 + timedelta(hours=step)


def released(
    git_repo: Callable[..., RepoBuilder], migration: Callable[..., str], releases: int
) -> RepoBuilder:
    """One migration per release, every other tag annotated; each migration reaches main
    through a merge, and a docstring that disagrees with the code gives a warning."""
    repo = git_repo(f"released-{releases}")
    first = migration("r0", None).replace("Revision ID: r0", "Revision ID: other")
    repo.commit("base", at(0), files={"migrations/env.py": "", f"{V}/r0.py": first})
    for n in range(1, releases + 1):
        repo.checkout(f"f{n}", create=True)
        repo.commit(f"add r{n}", at(3 * n), files={f"{V}/r{n}.py": migration(f"r{n}", f"r{n - 1}")})
        repo.checkout("main")
        repo.merge(f"f{n}", f"Merge f{n}", at(3 * n + 1))
        repo.tag(f"v{n}", message=f"release {n}" if n % 2 else None, at=at(3 * n + 2))
    return repo


def git_commands(trace: Path) -> list[str]:
    """The git sub-commands started, from git's own trace."""
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    found = [e["argv"] for e in events if e.get("event") == "start"]
    trace.unlink()
    return [" ".join(argv[1:2]) for argv in found]


def analyze(run: Run, repo: RepoBuilder, *extra: str) -> tuple[int, dict[str, object], str]:
    code, out, err = run(
        "analyze",
        *("--repo", str(repo.path), "--since", "2025-10-01", "--until", "2025-12-01"),
        *("--deploys", "tags:v*", "--format", "json", "--out", "-", *extra),
    )
    return code, json.loads(out), err


def test_git_processes_do_not_grow_with_tags_or_merges(
    git_repo: Callable[..., RepoBuilder],
    make_migration: Callable[..., str],
    run: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    counts = []
    for releases in (3, 9):
        repo = released(git_repo, make_migration, releases)
        trace.unlink(missing_ok=True)
        code, report, _err = analyze(run, repo, "--no-cache")
        assert code in (0, 1)
        assert report["production"]["revisions"] == [f"r{releases}"]  # type: ignore[index]
        commands = git_commands(trace)
        assert commands.count("ls-tree") <= 2
        # the blob stream, the deploy commits, and the files at each tag (the folders
        # that hold them, then those folders' trees)
        assert commands.count("cat-file") <= 4
        counts.append(len(commands))
    assert counts[0] == counts[1]


def test_a_second_run_reads_the_cache_and_gives_the_same_warnings(
    git_repo: Callable[..., RepoBuilder],
    make_migration: Callable[..., str],
    run: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = released(git_repo, make_migration, 4)
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    _code, first, first_err = analyze(run, repo)
    cold = git_commands(trace)
    _code, second, second_err = analyze(run, repo)
    warm = git_commands(trace)
    assert "disagrees with the code" in first_err
    assert first_err == second_err
    assert first["findings"] == second["findings"]
    assert first["graph_events"] == second["graph_events"]
    for command in ("log", "rev-list", "cat-file", "ls-tree"):
        assert warm.count(command) < cold.count(command), command


def test_a_release_before_a_folder_move_still_applied_the_moved_file(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str], run: Run
) -> None:
    repo = git_repo()
    repo.commit(
        "layout",
        at(0),
        files={
            "alembic.ini": "[alembic]\nscript_location = migrations\n",
            "migrations/env.py": "from alembic import context\n",
            f"{V}/a.py": make_migration("a", None),
        },
    )
    repo.tag("v1", message="release 1", at=at(1))
    repo.move("migrations", "pkg/migrations")
    repo.move("alembic.ini", "pkg/alembic.ini")
    repo.commit("move migrations into the package", at(2))
    edit = repo.commit(
        "edit a",
        at(3),
        files={f"pkg/{V}/a.py": make_migration("a", None, body="    op.drop_table('x')")},
    )
    _code, report, _err = analyze(run, repo, "--no-cache")
    [finding] = [f for f in report["findings"] if f["rule"] == "FX201"]  # type: ignore[attr-defined]
    assert finding["path"] == f"pkg/{V}/a.py"
    # applied at the release, found under the file's name before the move
    assert finding["deploys"] == ["tag:v1"] and finding["confidence"] == "high"
    assert finding["commits"][-1] == edit
