"""Hostile text from the analysed repository on the terminal and in the reports: revision ids,
paths and commit messages that carry escape sequences, bidi overrides and line separators."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from forensics.gitbuild import RepoBuilder
from forensics.lockfile import read_lock
from tests.conftest import Run, migration
from tests.hostile import controls

# Sets the window title, clears the screen, turns text red; then reverses what follows.
ATTACK = "\x1b]0;TITLE\x07\x1b[2J\x1b[31m"
BIDI = "\u202egnp.evil\u202c"
INI = "[alembic]\nscript_location = db\n"


@pytest.fixture
def hostile_repo(git_repo: Callable[..., RepoBuilder]) -> RepoBuilder:
    """Two heads whose revision ids carry escape sequences, committed with hostile messages
    and author names; the second head's file path holds an escape sequence too."""
    repo = git_repo()
    repo.commit(
        f"base {ATTACK} {BIDI}\n\nbody \x1b[2J line",
        "2025-11-13T09:00:00+00:00",
        author=f"Mallory {ATTACK}",
        files={"alembic.ini": INI, "db/env.py": "", "db/versions/a1.py": migration("a1", None)},
    )
    repo.commit(
        f"two heads {ATTACK}\u2028second line",
        "2025-11-13T09:10:00+00:00",
        files={
            f"db/versions/b{ATTACK}.py": migration(f"b2{ATTACK}", "a1", message=f"m {ATTACK}"),
            "db/versions/c3.py": migration(f"c3{BIDI}", "a1"),
        },
    )
    return repo


def test_dag_and_history_print_no_escape_sequence(hostile_repo: RepoBuilder, run: Run) -> None:
    for command in (
        ("dag",),
        ("dag", "--format", "mermaid"),
        ("history",),
        ("dag", "--format", "json"),
        ("history", "--format", "json"),
    ):
        code, out, err = run(*command, "--repo", str(hostile_repo.path))
        assert code in (0, 1), err
        assert not controls(out) and not controls(err), command
    code, text, _ = run("dag", "--repo", str(hostile_repo.path))
    assert "heads: b2, c3gnp.evil" in text
    code, text, _ = run("history", "--repo", str(hostile_repo.path))
    assert "heads db: b2, c3gnp.evil" in text
    # JSON keeps the ids exactly, as escapes
    _code, doc, _ = run("dag", "--repo", str(hostile_repo.path), "--format", "json")
    (env,) = json.loads(doc)["environments"]
    assert env["heads"] == sorted([f"b2{ATTACK}", f"c3{BIDI}"])


def test_report_to_stdout_and_files_hold_no_controls(
    hostile_repo: RepoBuilder, run: Run, tmp_path: Path
) -> None:
    base = ["analyze", "--repo", str(hostile_repo.path), "--no-cache", "--since", "2025-11-01"]
    code, out, err = run(*base, "--until", "2025-11-14", "--out", "-", "--format", "md")
    assert code == 0, err
    assert "Mallory" in out and "two heads" in out
    assert not controls(out) and not controls(err)
    code, _out, err = run(*base, "--until", "2025-11-14", "--out", str(tmp_path), "--stem", "r")
    assert code == 0, err
    for suffix in ("md", "html"):
        text = (tmp_path / f"r.{suffix}").read_text()
        assert "Mallory" in text and not controls(text), suffix
    doc = json.loads((tmp_path / "r.json").read_text())
    assert any(e["heads"] == sorted([f"b2{ATTACK}", f"c3{BIDI}"]) for e in doc["environments"])


def test_warning_lines_name_hostile_paths_safely(
    hostile_repo: RepoBuilder, run: Run, tmp_path: Path
) -> None:
    deploys = tmp_path / f"deploys{ATTACK}.csv"
    deploys.write_text(
        "id,commit,status,created_at\n"
        f"d1,{hostile_repo.head()},exploded{ATTACK},2025-11-13T09:20:00Z\n"
    )
    code, _out, err = run(
        "analyze",
        "--repo",
        str(hostile_repo.path),
        "--no-cache",
        "--deploys",
        f"csv:{deploys}",
        "--out",
        "-",
        "--format",
        "json",
    )
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("WARNING:")]
    assert any("unknown deploy status" in line for line in warnings)
    assert not controls(err)


def test_guard_fail_lines_and_a_lock_with_line_separators(
    git_repo: Callable[..., RepoBuilder], run: Run, tmp_path: Path
) -> None:
    repo = git_repo()
    weird = f"db/versions/b2{ATTACK}\u2028\x0c\x85.py"
    b2 = migration("b2b2", "a1a1", message="add email", body="    op.add_column('u', 'e')")
    deployed = repo.commit(
        "deployed",
        "2025-11-10T09:00:00+00:00",
        files={
            "alembic.ini": INI,
            "db/env.py": "",
            "db/versions/a1.py": migration("a1a1", None),
            weird: b2,
        },
    )
    lock = tmp_path / "forensics.lock"
    args = ("guard", "--repo", str(repo.path), "--lock", str(lock))
    code, out, err = run(*args, "--rev", deployed, "--write-lock")
    assert code == 0, out + err
    assert {e.path for e in read_lock(lock).entries} == {"db/versions/a1.py", weird}
    # Written once, read back as it was: locking again changes nothing and needs no --force.
    code, out, err = run(*args, "--rev", deployed, "--write-lock")
    assert code == 0 and "lock file written" in out, out + err
    edited = repo.commit(
        "edit", "2025-11-11T09:00:00+00:00", files={weird: b2.replace("'e'", "'email'")}
    )
    code, out, err = run(*args, "--base", deployed, "--rev", edited)
    assert code == 1, out + err
    fails = [line for line in out.split("\n") if line.startswith("FAIL")]
    assert fails and "b2b2" in fails[0]
    assert not controls(out) and not controls(err)
