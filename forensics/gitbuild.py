"""Builds real git repositories with pinned names and dates, for the demo and the tests.

Writes go through the ``git`` command with a clean environment, so that a developer's own
configuration (hooks, signing, templates) never leaks into a generated repository.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path


class RepoBuilder:
    """A repository under construction. Every commit gets explicit author and dates."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)
        self.git("config", "commit.gpgsign", "false")
        self.git("config", "core.autocrlf", "false")

    def git(self, *args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
        base = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.path),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "LANG": "C.UTF-8",
        }
        result = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env={**base, **(env or {})},
            input=input,
            capture_output=True,
            check=True,
        )
        return result.stdout.decode("utf-8", errors="replace").strip()

    def write(self, relpath: str, content: str | bytes) -> None:
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        target.write_bytes(content)

    def delete(self, relpath: str) -> None:
        self.git("rm", "-q", "-r", "--", relpath)

    def move(self, old: str, new: str) -> None:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", old, new)

    def commit(
        self,
        message: str,
        at: datetime | str,
        author: str = "Dev",
        email: str = "dev@example.com",
        files: dict[str, str | bytes] | None = None,
        allow_empty: bool = False,
    ) -> str:
        """Write ``files``, stage everything and commit at ``at`` (ISO text keeps its zone)."""
        for relpath, content in (files or {}).items():
            self.write(relpath, content)
        self.git("add", "-A")
        stamp = at if isinstance(at, str) else at.isoformat()
        env = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": stamp,
        }
        args = ["commit", "-q", "--no-verify", "-F", "-"]
        if allow_empty:
            args.append("--allow-empty")
        self.git(*args, env=env, input=message.encode())
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def checkout(self, ref: str, create: bool = False) -> None:
        self.git("checkout", "-q", *(["-b"] if create else []), ref)

    def merge(self, ref: str, message: str, at: datetime | str, author: str = "Dev") -> str:
        stamp = at if isinstance(at, str) else at.isoformat()
        env = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": "dev@example.com",
            "GIT_COMMITTER_DATE": stamp,
        }
        self.git("merge", "-q", "--no-ff", "--no-edit", "-m", message, ref, env=env)
        return self.head()

    def tag(
        self,
        name: str,
        ref: str = "HEAD",
        message: str | None = None,
        at: datetime | str | None = None,
    ) -> None:
        env = {}
        if at is not None:
            stamp = at if isinstance(at, str) else at.isoformat()
            env = {
                "GIT_COMMITTER_DATE": stamp,
                "GIT_COMMITTER_NAME": "Dev",
                "GIT_COMMITTER_EMAIL": "dev@example.com",
            }
        if message is None:
            self.git("tag", name, ref, env=env)
        else:
            self.git("tag", "-a", name, "-m", message, ref, env=env)
