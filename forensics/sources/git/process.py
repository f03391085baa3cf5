"""How git is started: the one module that imports GitPython.

The analysed repository is untrusted, and so is its .git/config: settings there can name
programs for git to start (core.fsmonitor, hooks, pagers, external diff and textconv
drivers, gpg through log.showSignature, ssh and credential helpers on a lazy fetch).
Every git process of a ``GitSource`` gets ``SAFE_CONFIG`` as command-line-scope
configuration through the environment (GIT_CONFIG_COUNT), which outranks every
configuration file and reaches the processes GitPython and PyDriller start too, the
long-lived cat-file included. The system and global files are left in place: they are the
configuration of the user who runs the tool (safe.directory lives there), not of the
repository.

Also here: opening a repository, git's errors as one-line messages, and fetching a
repository by URL for the fleet (the only place a transport is allowed).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import git as gitpython

from forensics.errors import InputError

SAFE_CONFIG = {
    "core.fsmonitor": "false",
    "core.hooksPath": os.devnull,
    "core.pager": "cat",
    "log.showSignature": "false",
    "credential.helper": "",
    # No transport at all: a partial clone would otherwise fetch missing objects on demand.
    "protocol.allow": "never",
}
SAFE_ENV = {
    "GIT_CONFIG_COUNT": str(len(SAFE_CONFIG)),
    **{f"GIT_CONFIG_KEY_{i}": key for i, key in enumerate(SAFE_CONFIG)},
    **{f"GIT_CONFIG_VALUE_{i}": value for i, value in enumerate(SAFE_CONFIG.values())},
    "GIT_PAGER": "cat",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
}
# Diff drivers are chosen by .gitattributes, so they cannot be switched off by name: the
# commands that can make a diff (blame too, which PyDriller's SZZ runs) are always given
# these.
_DIFFING = frozenset({"log", "show", "diff", "diff-tree", "diff-index", "diff-files", "blame"})
_NO_DRIVERS = ("--no-ext-diff", "--no-textconv")
_DUBIOUS = "dubious ownership"

# What a failed git command raises, under a name that keeps GitPython in this module.
GitCommandError = gitpython.GitCommandError


def safe_command(command: Sequence[str]) -> list[str]:
    """``git SUBCOMMAND ...`` with the diff drivers off where the subcommand can diff."""
    words = list(command)
    if len(words) > 1 and words[1] in _DIFFING:
        words[2:2] = _NO_DRIVERS
    return words


class SafeGit(gitpython.Git):  # type: ignore[misc]
    """GitPython's command runner, for every command: ours, GitPython's and PyDriller's."""

    def __init__(self, working_dir: Any = None) -> None:
        super().__init__(working_dir)
        self.update_environment(**SAFE_ENV)

    def execute(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(command, str):
            command = safe_command(command)
        return super().execute(command, *args, **kwargs)

    def execute_to_file(self, args: Sequence[str], stdin: Any = None) -> tuple[int, bytes, bytes]:
        """``git ARGS`` as ``execute`` runs it (same command line, same environment), with
        its output going to a temporary file: ``(status, stdout, stderr)``, each without
        its last newline as ``execute`` gives them. Through a pipe, a long output wakes
        the reading thread for every few hundred bytes, and each wake-up waits for the
        interpreter while the main thread parses: git then stalls on the full pipe."""
        command = safe_command(["git", *args])
        env = {**os.environ, "LANGUAGE": "C", "LC_ALL": "C", **self.environment()}
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                status = subprocess.run(
                    command,
                    cwd=self.working_dir,
                    env=env,
                    stdin=stdin if stdin is not None else subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    check=False,
                ).returncode
            except FileNotFoundError as exc:
                raise gitpython.GitCommandNotFound(command, exc) from None
            out.seek(0)
            err.seek(0)
            output, errors = out.read(), err.read()
        return status, _chomp(output), _chomp(errors)


def _chomp(data: bytes) -> bytes:
    return data[:-1] if data.endswith(b"\n") else data


class _SafeRepo(gitpython.Repo):  # type: ignore[misc]
    GitCommandWrapperType = SafeGit


def open_repository(path: Path) -> Any:
    """The GitPython repository at ``path`` (not a parent's), every command of it run by
    ``SafeGit``; an ``InputError`` when there is none."""
    try:
        return _SafeRepo(str(path), search_parent_directories=False)
    except gitpython.NoSuchPathError:
        raise InputError(f"{path} does not exist: pass --repo with a git repository") from None
    except gitpython.InvalidGitRepositoryError:
        raise InputError(
            f"{path} is not a git repository: pass --repo with the repository's root"
        ) from None


def refused(path: Path, stderr: object) -> None:
    """git's refusal of a repository owned by another user, as its own error."""
    if _DUBIOUS in str(stderr):
        raise InputError(
            f"git refuses to read {path}: it belongs to another user (git's 'dubious "
            "ownership' check). Run forensics as the owner, or, if you trust the "
            f"repository, run `git config --global --add safe.directory {shlex.quote(str(path))}`"
        ) from None


def first_line(text: str) -> str:
    """The first non-blank line of git's error output, for a one-line message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:200] if lines else "no detail from git"


# -- fetching a repository by URL (fleet) ------------------------------------------------------
# Fetching needs a transport, which reading never does: these are allowed for it alone.
_FETCH_CONFIG = {
    "protocol.https.allow": "always",
    "protocol.ssh.allow": "always",
    "protocol.git.allow": "always",
    "protocol.file.allow": "always",
}


def _fetch_env() -> dict[str, str]:
    config = {**SAFE_CONFIG, **_FETCH_CONFIG}
    return {
        **SAFE_ENV,
        "GIT_CONFIG_COUNT": str(len(config)),
        **{f"GIT_CONFIG_KEY_{i}": key for i, key in enumerate(config)},
        **{f"GIT_CONFIG_VALUE_{i}": value for i, value in enumerate(config.values())},
    }


def fetch_repository(url: str, dest: Path, timeout: float | None = None) -> Path:
    """A bare copy of the repository at ``url`` in ``dest``: created on the first call,
    brought up to date (branches, tags, the remote's default branch as HEAD) on later ones.

    The URL is passed to each fetch and never written into the copy's configuration, so
    credentials in it stay out of every file; errors say what went wrong on one line, with
    credentials removed. Raises ``InputError``."""
    from forensics.errors import redact

    shown = redact(url)
    dest.mkdir(parents=True, exist_ok=True)
    runner = SafeGit(str(dest))
    env = _fetch_env()

    def git(*args: str) -> str:
        try:
            out = runner.execute(
                ["git", *args], env=env, kill_after_timeout=timeout, stdout_as_string=True
            )
        except gitpython.GitCommandError as exc:
            lines = [ln.strip() for ln in str(exc.stderr or "").splitlines() if ln.strip()]
            reason = next((ln for ln in lines if "fatal" in ln.lower()), lines[-1] if lines else "")
            reason = reason.removeprefix("stderr:").strip().strip("'").removeprefix("fatal: ")
            raise InputError(
                f"cannot fetch {shown}: {redact(reason) or f'git exit code {exc.status}'}; "
                "check the URL and the access to it"
            ) from None
        return str(out)

    if not (dest / "HEAD").exists():
        git("init", "--bare", "--quiet")
    git("fetch", "--quiet", "--force", "--prune", "--tags", url, "+refs/heads/*:refs/heads/*")
    listed = git("ls-remote", "--symref", url, "HEAD")
    for line in listed.splitlines():
        if line.startswith("ref: ") and line.endswith("\tHEAD"):
            git("symbolic-ref", "HEAD", line[5:].split("\t", 1)[0])
            break
    return dest
