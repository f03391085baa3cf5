"""The ``forensics-guard`` hook of ``.pre-commit-hooks.yaml``, run by the real ``pre-commit``
on ``git commit`` in a scratch repository whose applied migrations are listed in a lock file.

The hook is taken from our ``.pre-commit-hooks.yaml`` as it is, except that it runs the
installed ``forensics`` (``language: system``) instead of having pre-commit build a fresh
virtualenv from the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from forensics.gitbuild import RepoBuilder
from tests.conftest import migration

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FORENSICS = BIN / "forensics"
A1 = "db/versions/a1_create_users.py"
B2 = "db/versions/b2_add_email.py"
A1_TEXT = migration("a1a1a1a1a1a1", None, body="    op.create_table('users')")
B2_TEXT = migration(
    "b2b2b2b2b2b2",
    "a1a1a1a1a1a1",
    body="    op.add_column('users', sa.Column('email', sa.String()))",
)


def _cli_has_guard() -> bool:
    if not FORENSICS.exists():
        return False
    done = subprocess.run([str(FORENSICS), "guard", "--help"], capture_output=True, check=False)
    return done.returncode == 0


pytestmark = pytest.mark.skipif(
    not (BIN / "pre-commit").exists() or not _cli_has_guard(),
    reason="needs pre-commit and the `forensics guard` command installed in the venv",
)


def hook_config() -> str:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "forensics-guard")
    program, _, arguments = hook["entry"].partition(" ")
    assert program == "forensics"
    local = {
        **hook,
        "language": "system",
        "entry": f"{FORENSICS} {arguments}",
        "args": ["--lock", "forensics.lock"],
    }
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]})


def commit(repo: RepoBuilder, home: Path, message: str) -> subprocess.CompletedProcess[str]:
    """``git commit`` with the hooks on (RepoBuilder's own commits skip them)."""
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LANG": "C.UTF-8",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
        "GIT_AUTHOR_DATE": "2025-11-14T10:00:00+00:00",
        "GIT_COMMITTER_DATE": "2025-11-14T10:00:00+00:00",
    }
    return subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_hook_blocks_an_edit_of_a_locked_migration_and_passes_the_rest(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    home = tmp_path / "home"
    home.mkdir()
    repo.commit(
        "migrations",
        "2025-11-10T09:00:00+00:00",
        files={
            "db/env.py": "",
            A1: A1_TEXT,
            B2: B2_TEXT,
            ".pre-commit-config.yaml": hook_config(),
        },
    )
    locked = subprocess.run(
        [str(FORENSICS), "guard", "--write-lock", "--lock", "forensics.lock"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert locked.returncode == 0, locked.stderr
    repo.commit("lock applied migrations", "2025-11-10T09:10:00+00:00")
    installed = subprocess.run(
        [str(BIN / "pre-commit"), "install"],
        cwd=repo.path,
        env={**os.environ, "HOME": str(home), "PRE_COMMIT_HOME": str(home / "pre-commit")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # An edit of the applied b2 is blocked, and the output says which and what to do.
    repo.write(B2, B2_TEXT.replace("'email'", "'email_address'"))
    repo.git("add", B2)
    blocked = commit(repo, home, "rename the email column")
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert "b2b2b2b2b2b2" in output and B2 in output and "alembic revision" in output
    repo.git("checkout", "HEAD", "--", B2)

    # A reformat passes.
    repo.write(A1, A1_TEXT.replace("'users'", '"users"') + "# formatted\n")
    repo.git("add", A1)
    reformatted = commit(repo, home, "format")
    assert reformatted.returncode == 0, reformatted.stdout + reformatted.stderr

    # A new migration on the current head passes.
    repo.write("db/versions/c3_add_name.py", migration("c3c3c3c3c3c3", "b2b2b2b2b2b2"))
    repo.git("add", "-A")
    added = commit(repo, home, "add name")
    assert added.returncode == 0, added.stdout + added.stderr
    assert "c3_add_name.py" in repo.git("show", "--name-only", "--format=", "HEAD")
