"""Git mining: the one module that owns PyDriller and GitPython.

The whole history is read with one ``git log --raw -z`` (path-limited where possible)
through PyDriller's GitPython handle, and file contents through GitPython's long-lived
``git cat-file --batch`` process. ``Commit.modified_files`` builds a full patch per commit
and is used only for the few commits a report shows in detail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import git as gitpython
from pydriller import Git

from forensics.errors import Diagnostics, InputError
from forensics.model.commits import ChangeStatus, CommitRecord, FileChange, Person

_RS, _US = "\x1e", "\x1f"
_FORMAT = _RS + _US.join(["%H", "%P", "%an", "%ae", "%at", "%cn", "%ce", "%ct", "%B"]) + _US
_ZERO = "0" * 40
_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s+(.+)$")


@dataclass(frozen=True)
class TreeEntry:
    path: str
    blob: str
    mode: str


def _text(data: bytes) -> str:
    """Untrusted bytes: decoded with replacement, never rejected."""
    return data.decode("utf-8", errors="replace")


def _utc(stamp: str) -> datetime:
    return datetime.fromtimestamp(int(stamp), tz=UTC)


def parse_trailers(message: str) -> tuple[tuple[str, str], ...]:
    """``Key: value`` lines of the last paragraph, as ``git interpret-trailers`` sees them."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return ()
    pairs = []
    for line in paragraphs[-1].splitlines():
        match = _TRAILER.match(line.strip())
        if not match:
            return ()
        pairs.append((match.group(1), match.group(2).strip()))
    return tuple(pairs)


def _parse_raw(fields: list[str]) -> tuple[FileChange, ...]:
    """Parse the ``--raw -z`` part: ``:mode mode old new STATUS`` then one or two paths."""
    changes: list[FileChange] = []
    i = 0
    while i < len(fields):
        head = fields[i].strip("\n")
        if not head.startswith(":"):
            i += 1
            continue
        parts = head[1:].split()
        old_blob, new_blob, status = parts[2], parts[3], parts[4]
        letter = status[0]
        if letter in "RC":
            old_path, path = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old_path, path = None, fields[i + 1]
            i += 2
        try:
            kind = ChangeStatus(letter)
        except ValueError:
            kind = ChangeStatus.MODIFIED
        changes.append(
            FileChange(
                path=path,
                status=kind,
                old_path=old_path,
                old_blob=None if old_blob == _ZERO else old_blob,
                new_blob=None if new_blob == _ZERO else new_blob,
            )
        )
    return tuple(changes)


class GitSource:
    """A repository opened for reading. Nothing here touches the working tree."""

    def __init__(self, path: Path, diag: Diagnostics | None = None) -> None:
        self.diag = diag or Diagnostics()
        try:
            repo = gitpython.Repo(str(path), search_parent_directories=False)
        except gitpython.NoSuchPathError:
            raise InputError(f"{path} does not exist: pass --repo with a git repository") from None
        except gitpython.InvalidGitRepositoryError:
            raise InputError(
                f"{path} is not a git repository: pass --repo with the repository's root"
            ) from None
        self.repo = repo
        self.path = Path(repo.working_tree_dir or repo.git_dir)
        self._driller: Git | None = None
        self._shallow_warned = False

    # -- plumbing ---------------------------------------------------------------------------
    def _run(self, *args: str) -> bytes:
        out: bytes = self.repo.git.execute(["git", *args], stdout_as_string=False)
        return out

    @property
    def driller(self) -> Git:
        """PyDriller's handle, opened only when a report needs commit details."""
        if self._driller is None:
            self._driller = Git(str(self.path))
        return self._driller

    def close(self) -> None:
        self.repo.close()
        if self._driller is not None:
            self._driller.clear()

    # -- revisions --------------------------------------------------------------------------
    def resolve(self, rev: str) -> str:
        """The full SHA of a commit, or a one-line error naming the bad revision."""
        try:
            return _text(self._run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")).strip()
        except gitpython.GitCommandError:
            raise InputError(
                f"unknown revision {rev!r}: pass --rev with a branch, tag or commit of this "
                "repository"
            ) from None

    def try_resolve(self, rev: str) -> str | None:
        try:
            return self.resolve(rev)
        except InputError:
            return None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        try:
            self._run("merge-base", "--is-ancestor", ancestor, descendant)
        except gitpython.GitCommandError:
            return False
        return True

    @property
    def is_shallow(self) -> bool:
        return _text(self._run("rev-parse", "--is-shallow-repository")).strip() == "true"

    def warn_if_shallow(self) -> None:
        if self.is_shallow and not self._shallow_warned:
            self._shallow_warned = True
            self.diag.warn(
                "this is a shallow clone: history before its cut-off is missing, so results "
                "are partial; run `git fetch --unshallow` for a full analysis"
            )

    # -- history ----------------------------------------------------------------------------
    def log(
        self,
        rev: str,
        *,
        paths: Sequence[str] = (),
        first_parent: bool = True,
        since: datetime | None = None,
        until: datetime | None = None,
        exclude: Iterable[str] = (),
        no_merges: bool = False,
    ) -> list[CommitRecord]:
        """Commits reachable from ``rev``, newest first, with their changed files (against
        the first parent for merges), in one ``git log --raw -z``."""
        args = ["log", "-z", "--raw", "--no-abbrev", "-M", f"--format={_FORMAT}"]
        args.append("--no-merges" if no_merges else "--diff-merges=first-parent")
        if first_parent:
            args.append("--first-parent")
        if since is not None:
            args.append(f"--since={int(since.timestamp())}")
        if until is not None:
            args.append(f"--until={int(until.timestamp())}")
        args += [rev, *(f"^{x}" for x in exclude), "--"]
        args += list(paths)
        try:
            out = self._run(*args)
        except gitpython.GitCommandError as exc:
            self.diag.warn(f"git log failed, history is partial: {_text(exc.stderr or b'')[:200]}")
            return []
        return self._parse_log(out, first_parent)

    def _parse_log(self, out: bytes, first_parent: bool) -> list[CommitRecord]:
        records: list[CommitRecord] = []
        for chunk in _text(out).split(_RS)[1:]:
            header = chunk.split(_US, 9)
            if len(header) < 10:
                continue
            sha, parents, an, ae, at, cn, ce, ct, body, rest = header
            message = body.rstrip("\n")
            records.append(
                CommitRecord(
                    sha=sha,
                    parents=tuple(parents.split()),
                    author=Person(an, ae),
                    committer=Person(cn, ce),
                    authored_at=_utc(at),
                    committed_at=_utc(ct),
                    message=message,
                    trailers=parse_trailers(message),
                    files=_parse_raw(rest.split("\0")),
                    first_parent=first_parent,
                )
            )
        return records

    # -- trees and blobs --------------------------------------------------------------------
    def tree(self, rev: str, prefixes: Sequence[str] = ()) -> list[TreeEntry]:
        """Every file of the tree at ``rev`` (under ``prefixes`` when given)."""
        out = self._run("ls-tree", "-r", "-z", "--full-tree", rev, "--", *prefixes)
        entries = []
        for line in _text(out).split("\0"):
            if not line:
                continue
            meta, _, path = line.partition("\t")
            mode, kind, blob = meta.split()
            if kind == "blob":
                entries.append(TreeEntry(path=path, blob=blob, mode=mode))
        return entries

    def read_blob(self, blob: str) -> bytes | None:
        """A blob's bytes through the long-lived ``cat-file --batch``; ``None`` (and a
        warning) when the object is missing."""
        try:
            _sha, _kind, _size, data = self.repo.git.get_object_data(blob)
        except (ValueError, gitpython.GitCommandError, OSError):
            self.diag.warn(
                f"git object {blob[:12]} is missing from the repository; results that need it "
                "are partial (run `git fetch` or `git fsck` to repair)"
            )
            return None
        result: bytes = data
        return result

    def read_path(self, rev: str, path: str) -> bytes | None:
        """The content of ``path`` at ``rev``, or ``None`` when it does not exist there."""
        try:
            _sha, kind, _size, data = self.repo.git.get_object_data(f"{rev}:{path}")
        except (ValueError, gitpython.GitCommandError, OSError):
            return None
        if kind != "blob":
            return None
        result: bytes = data
        return result
