"""Git mining: the one module that owns PyDriller and GitPython.

The whole history is read with one ``git log --raw -z`` (path-limited where possible)
through PyDriller's GitPython handle, and file contents through GitPython's long-lived
``git cat-file --batch`` process. ``Commit.modified_files`` builds a full patch per commit
and is used only for the few commits a report shows in detail (``details``).

A shallow clone or missing objects give a warning and a partial result, never a traceback.
With a ``MiningCache`` the parsed ``log`` and merge attributions are reused across runs.
"""

from __future__ import annotations

import fnmatch
import os
import re
import secrets
import shlex
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git as gitpython

from forensics.errors import Diagnostics, InputError
from forensics.model.commits import ChangeStatus, CommitRecord, DiffStat, FileChange, Person
from forensics.model.text import decode
from forensics.sources.cache import MiningCache, cache_key

# Record and field separators carry a per-process nonce: commit messages are untrusted and
# may contain the control characters themselves, but cannot guess the nonce.
_NONCE = secrets.token_hex(8)
_RS, _US = "\x1e" + _NONCE, "\x1f" + _NONCE
_FORMAT = _RS + _US.join(["%H", "%P", "%an", "%ae", "%at", "%cn", "%ce", "%ct", "%B"]) + _US
_ZERO = "0" * 40
_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s+(.+)$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class TreeEntry:
    """A file of a git tree: its path, blob id and mode."""

    path: str
    blob: str
    mode: str


@dataclass(frozen=True)
class TagInfo:
    """A release tag: the commit it names and when it was made (the tagger date of an
    annotated tag, the commit date of a lightweight one), in UTC."""

    name: str
    commit: str
    at: datetime
    annotated: bool = False


def _text(data: bytes) -> str:
    """Untrusted bytes: decoded with replacement, never rejected."""
    return decode(data)


def _utc(stamp: str) -> datetime:
    """A unix timestamp as UTC; whatever zone the commit was written in does not matter."""
    try:
        return datetime.fromtimestamp(int(stamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, tz=UTC)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:200] if lines else "no detail from git"


def parse_trailers(message: str) -> tuple[tuple[str, str], ...]:
    """``Key: value`` lines of the last paragraph, as ``git interpret-trailers`` sees them."""
    head, gap, last = message.strip().rpartition("\n\n")
    if not gap or not head.strip():
        return ()
    pairs = []
    for line in last.strip().splitlines():
        match = _TRAILER.match(line.strip())
        if not match:
            return ()
        pairs.append((match.group(1), match.group(2).strip()))
    return tuple(pairs)


def _parse_raw(fields: list[str]) -> tuple[FileChange, ...]:
    """Parse the ``--raw -z`` part: ``:mode mode old new STATUS`` then one or two paths.
    Anything malformed is skipped rather than trusted."""
    changes: list[FileChange] = []
    i = 0
    while i < len(fields):
        head = fields[i].strip("\n")
        parts = head[1:].split() if head.startswith(":") else []
        if len(parts) < 5 or not parts[4]:
            i += 1
            continue
        old_blob, new_blob, status = parts[2], parts[3], parts[4]
        letter = status[0]
        width = 3 if letter in "RC" else 2
        if i + width > len(fields):
            break
        old_path, path = (fields[i + 1], fields[i + 2]) if width == 3 else (None, fields[i + 1])
        i += width
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


@dataclass(frozen=True)
class _RawLog:
    """What the cache keeps of one ``log``: git's own output and the nonce of its
    separators. Parsing it again is faster than decoding the records from JSON."""

    nonce: str
    out: str
    chain: tuple[str, ...] | None


def _parse_log(
    out: bytes | str,
    first_parent: set[str] | bool,
    boundary: frozenset[str] = frozenset(),
    nonce: str = _NONCE,
) -> list[CommitRecord]:
    """Commit records from ``git log --format=_FORMAT -z --raw`` output. ``first_parent`` is
    True (every record is on the first-parent chain) or the set of SHAs that are. Commits at
    a shallow boundary keep no files: their diff against nothing is not a real change."""
    rs, us = "\x1e" + nonce, "\x1f" + nonce
    records: list[CommitRecord] = []
    for chunk in (out if isinstance(out, str) else _text(out)).split(rs)[1:]:
        header = chunk.split(us)
        if len(header) != 10 or not _HEX40.match(header[0]):
            continue
        sha, parents, an, ae, at, cn, ce, ct, body, rest = header
        message = body.rstrip("\n")
        on_chain = first_parent if isinstance(first_parent, bool) else sha in first_parent
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
                files=() if sha in boundary else _parse_raw(rest.split("\0")),
                first_parent=on_chain,
            )
        )
    return records


# -- how git is started ------------------------------------------------------------------------
# The analysed repository is untrusted, and so is its .git/config: settings there can name
# programs for git to start (core.fsmonitor, hooks, pagers, external diff and textconv
# drivers, gpg through log.showSignature, ssh and credential helpers on a lazy fetch).
# Every git process of a GitSource gets these as command-line-scope configuration through
# the environment (GIT_CONFIG_COUNT), which outranks every configuration file and reaches
# the processes GitPython and PyDriller start too, the long-lived cat-file included. The
# system and global files are left in place: they are the configuration of the user who
# runs the tool (safe.directory lives there), not of the repository.
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
# commands that can make a diff are always given these.
_DIFFING = frozenset({"log", "show", "diff", "diff-tree", "diff-index", "diff-files"})
_NO_DRIVERS = ("--no-ext-diff", "--no-textconv")
_DUBIOUS = "dubious ownership"


def safe_command(command: Sequence[str]) -> list[str]:
    """``git SUBCOMMAND ...`` with the diff drivers off where the subcommand can diff."""
    words = list(command)
    if len(words) > 1 and words[1] in _DIFFING:
        words[2:2] = _NO_DRIVERS
    return words


class _SafeGit(gitpython.Git):  # type: ignore[misc]
    """GitPython's command runner, for every command: ours, GitPython's and PyDriller's."""

    def __init__(self, working_dir: Any = None) -> None:
        super().__init__(working_dir)
        self.update_environment(**SAFE_ENV)

    def execute(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(command, str):
            command = safe_command(command)
        return super().execute(command, *args, **kwargs)


class _SafeRepo(gitpython.Repo):  # type: ignore[misc]
    GitCommandWrapperType = _SafeGit


def _refused(path: Path, stderr: object) -> None:
    """git's refusal of a repository owned by another user, as its own error."""
    if _DUBIOUS in str(stderr):
        raise InputError(
            f"git refuses to read {path}: it belongs to another user (git's 'dubious "
            "ownership' check). Run forensics as the owner, or, if you trust the "
            f"repository, run `git config --global --add safe.directory {shlex.quote(str(path))}`"
        ) from None


def _shared_git(path: Path, repo: gitpython.Repo) -> Any:
    """PyDriller's ``Git`` on our already-open GitPython repository. PyDriller's own opener
    writes ``blame.markUnblamableLines`` into the analysed repository's config; evidence is
    read, never modified. PyDriller loads here, for the few commits a report details, so
    that runs that need no patch do not pay for its import."""
    from pydriller import Git

    class SharedGit(Git):  # type: ignore[misc]
        def _open_repository(self) -> None:
            self._repo = repo
            self._discover_main_branch(self._repo)

    return SharedGit(str(path))


class GitSource:
    """A repository opened for reading. Nothing here touches the working tree.

    ``cache`` (optional) keeps parsed history between runs; results that are partial
    (shallow clone, missing objects) are never cached.
    """

    def __init__(
        self, path: Path, diag: Diagnostics | None = None, cache: MiningCache | None = None
    ) -> None:
        self.diag = diag or Diagnostics()
        try:
            repo = _SafeRepo(str(path), search_parent_directories=False)
        except gitpython.NoSuchPathError:
            raise InputError(f"{path} does not exist: pass --repo with a git repository") from None
        except gitpython.InvalidGitRepositoryError:
            raise InputError(
                f"{path} is not a git repository: pass --repo with the repository's root"
            ) from None
        self.repo = repo
        self.path = Path(repo.working_tree_dir or repo.git_dir)
        self._driller: Any = None
        self._shallow_warned = False
        # rev -> full SHA: one analysis is one snapshot of the refs, so ask git once each.
        self._resolved: dict[str, str] = {}
        self.cache = cache
        if cache is not None:
            self._check_cache(cache)

    # -- plumbing ---------------------------------------------------------------------------
    def _run(self, *args: str) -> bytes:
        try:
            out: bytes = self.repo.git.execute(["git", *args], stdout_as_string=False)
        except gitpython.GitCommandError as exc:
            _refused(self.path, exc.stderr)
            raise
        return out

    def _run_partial(self, *args: str) -> tuple[bytes, str | None]:
        """Output even when git fails half-way (missing objects): ``(stdout, error)``."""
        status, out, err = self.repo.git.execute(
            ["git", *args],
            stdout_as_string=False,
            with_extended_output=True,
            with_exceptions=False,
        )
        if status != 0:
            message = _text(err) if isinstance(err, bytes) else str(err)
            _refused(self.path, message)
            return out, _first_line(message)
        return out, None

    @property
    def driller(self) -> Any:
        """PyDriller's handle, opened only when a report needs commit details."""
        if self._driller is None:
            self._driller = _shared_git(self.path, self.repo)
        return self._driller

    def close(self) -> None:
        if self.cache is not None:
            self.cache.flush()
        self.repo.close()

    def _check_cache(self, cache: MiningCache) -> None:
        """A cache committed into the analysed repository would be attacker-controlled."""
        try:
            rel = cache.directory.resolve().relative_to(self.path.resolve())
        except (ValueError, OSError):
            return
        try:
            tracked = self._run("ls-files", "-z", "--", str(rel))
        except gitpython.GitCommandError:
            return
        if tracked.strip(b"\0"):
            self.diag.warn(
                f"the cache folder {rel} is tracked by git, so its content cannot be trusted; "
                "it is ignored (remove it from the repository)"
            )
            cache.disable()

    # -- revisions --------------------------------------------------------------------------
    def resolve(self, rev: str) -> str:
        """The full SHA of a commit, or a one-line error naming the bad revision."""
        known = self._resolved.get(rev)
        if known is not None:
            return known
        try:
            sha = _text(self._run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")).strip()
        except gitpython.GitCommandError:
            raise InputError(
                f"unknown revision {rev!r}: pass --rev with a branch, tag or commit of this "
                "repository"
            ) from None
        self._resolved[rev] = self._resolved[sha] = sha
        return sha

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

    def _shallow_commits(self) -> frozenset[str]:
        try:
            text = (Path(self.repo.common_dir) / "shallow").read_text(errors="replace")
        except OSError:
            return frozenset()
        return frozenset(line.strip() for line in text.splitlines() if line.strip())

    @property
    def is_shallow(self) -> bool:
        return bool(self._shallow_commits())

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
        max_count: int | None = None,
    ) -> list[CommitRecord]:
        """Commits reachable from ``rev``, newest first (at most ``max_count``), with their
        changed files (against the first parent for merges), in one ``git log --raw -z``.

        ``first_parent=False`` includes every commit; each record's ``first_parent`` then
        says whether it lies on the first-parent chain of ``rev``. ``since``/``until``
        compare commit dates. History cut short by a shallow clone or missing objects gives
        a warning and the commits git could read.
        """
        excluded = list(exclude)
        limits = []
        if since is not None:
            limits.append(f"--since={int(since.timestamp())}")
        if until is not None:
            limits.append(f"--until={int(until.timestamp())}")
        if max_count is not None:
            limits.append(f"--max-count={max_count}")
        key = self._log_key(rev, excluded, paths, first_parent, limits, no_merges)
        if key is not None and self.cache is not None:
            cached = self.cache.get("log", key, _RawLog)
            if cached is not None:
                chain_set = True if cached.chain is None else set(cached.chain)
                return _parse_log(cached.out, chain_set, nonce=cached.nonce)
        boundary = self._shallow_commits()
        if boundary:
            self.warn_if_shallow()
        # --encoding: commits with an encoding header (latin-1...) are re-encoded to UTF-8.
        args = [
            "log",
            "-z",
            "--raw",
            "--no-abbrev",
            "-M",
            "--encoding=UTF-8",
            f"--format={_FORMAT}",
        ]
        args.append("--no-merges" if no_merges else "--diff-merges=first-parent")
        if first_parent:
            args.append("--first-parent")
        revs = [rev, *(f"^{x}" for x in excluded)]
        out, error = self._run_partial(*args, *limits, *revs, "--", *paths)
        chain: set[str] | bool = True
        if not first_parent:
            chain = self._first_parent_set(revs, limits)
        text = _text(out)
        records = _parse_log(text, chain, boundary)
        if error is not None:
            self.diag.warn(
                f"git could not read the whole history ({error}); results are partial: "
                "run `git fsck` to find missing objects, or `git fetch` to restore them"
            )
        elif key is not None and self.cache is not None and not boundary:
            kept = None if isinstance(chain, bool) else tuple(sorted(chain))
            self.cache.put("log", key, _RawLog(_NONCE, text, kept))
        return records

    def records(self, shas: Iterable[str]) -> list[CommitRecord]:
        """The given commits alone (``git log --no-walk``); unknown ones are left out."""
        wanted = sorted({s for s in shas if s})
        if not wanted:
            return []
        args = ["log", "-z", "--raw", "--no-abbrev", "-M", "--encoding=UTF-8"]
        args += [f"--format={_FORMAT}", "--diff-merges=first-parent", "--no-walk=unsorted"]
        out, error = self._run_partial(*args, *wanted, "--")
        if error is not None:
            self.diag.warn(f"some commits could not be read ({error}); results are partial")
        return _parse_log(_text(out), True, self._shallow_commits())

    def log_in_background(self, rev: str, **options: Any) -> Future[list[CommitRecord]]:
        """``log`` in a worker thread, so that git walks the history while the caller reads
        blobs or builds graphs (git runs in its own process; the thread waits on its pipe).
        The result is the same as ``log(rev, **options)``; ``.result()`` waits for it."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="git-log")
        future = pool.submit(self.log, rev, **options)
        pool.shutdown(wait=False)
        return future

    def _log_key(
        self,
        rev: str,
        exclude: list[str],
        paths: Sequence[str],
        first_parent: bool,
        limits: list[str],
        no_merges: bool,
    ) -> str | None:
        """A cache key from resolved SHAs, so that a moved branch never hits an old entry."""
        if self.cache is None or not self.cache.enabled:
            return None
        resolved = [self.try_resolve(r) for r in [rev, *exclude]]
        if any(r is None for r in resolved):
            return None
        return cache_key(resolved, sorted(paths), first_parent, limits, no_merges, "-M")

    def _first_parent_set(self, revs: list[str], limits: list[str]) -> set[str]:
        out, _error = self._run_partial("rev-list", "--first-parent", *limits, *revs, "--")
        return set(_text(out).split())

    def merge_attribution(self, merge: CommitRecord, path: str) -> tuple[str, ...]:
        """The non-merge commits that really changed ``path`` and arrived with ``merge``:
        ``git log --no-merges merge^1..merge -- path``, newest first. For a plain commit
        that is the commit itself when it touched ``path``."""
        if not merge.is_merge and merge.files:
            # a plain commit's own file list already answers; no process per commit
            touched = any(path in (f.path, f.old_path) for f in merge.files)
            return (merge.sha,) if touched else ()
        key = cache_key(merge.sha, path)
        if self.cache is not None:
            cached = self.cache.get("attribution", key, tuple[str, ...])
            if cached is not None:
                return cached
        revs = [merge.sha, *(f"^{merge.parents[0]}" for _ in merge.parents[:1])]
        out, error = self._run_partial("log", "--no-merges", "--format=%H", *revs, "--", path)
        shas = tuple(s for s in _text(out).split() if _HEX40.match(s))
        if error is not None:
            self.diag.warn(
                f"could not attribute the changes merged by {merge.short} to {path} ({error}); "
                "the attribution is partial"
            )
        elif self.cache is not None:
            self.cache.put("attribution", key, shas, tuple[str, ...])
        return shas

    def details(self, shas: Iterable[str]) -> dict[str, DiffStat]:
        """Line counts and changed paths of the few commits a report shows, through
        PyDriller (one patch per commit: never call this over a whole history). Merge
        commits list no files, as PyDriller gives none."""
        stats: dict[str, DiffStat] = {}
        for sha in dict.fromkeys(shas):
            try:
                commit = self.driller.get_commit(sha)
                files = tuple(
                    sorted({m.new_path or m.old_path or "" for m in commit.modified_files} - {""})
                )
                stats[sha] = DiffStat(
                    sha=commit.hash,
                    insertions=int(commit.insertions),
                    deletions=int(commit.deletions),
                    files=files,
                )
            # GitPython and gitdb raise many unrelated types for unknown or missing objects.
            except Exception as exc:
                self.diag.warn(
                    f"no details for commit {sha[:12]} ({type(exc).__name__}); it is missing "
                    "or unreadable, so the report shows it without line counts"
                )
        return stats

    def tags(self, pattern: str, rev: str) -> list[TagInfo]:
        """Tags reachable from ``rev`` whose name matches the glob ``pattern``, oldest
        first."""
        target = self.resolve(rev)
        fmt = "%00".join(
            [
                "%(refname:strip=2)",
                "%(objecttype)",
                "%(objectname)",
                "%(*objecttype)",
                "%(*objectname)",
                "%(creatordate:unix)",
                "%(*committerdate:unix)",
            ]
        )
        out, error = self._run_partial(
            "for-each-ref", f"--merged={target}", f"--format={fmt}", "refs/tags"
        )
        if error is not None:
            self.diag.warn(f"could not list the tags ({error}); the tag list is partial")
        found: list[TagInfo] = []
        for line in _text(out).splitlines():
            parts = line.split("\0")
            if len(parts) != 7 or not fnmatch.fnmatchcase(parts[0], pattern):
                continue
            name, kind, obj, peeled_kind, peeled, created, peeled_date = parts
            if kind == "tag" and peeled_kind == "commit":
                found.append(TagInfo(name, peeled, _utc(created or peeled_date), annotated=True))
            elif kind == "commit":
                found.append(TagInfo(name, obj, _utc(created)))
        return sorted(found, key=lambda t: (t.at, t.name))

    # -- trees and blobs --------------------------------------------------------------------
    def tree(self, rev: str, prefixes: Sequence[str] = ()) -> list[TreeEntry]:
        """Every file of the tree at ``rev`` (under ``prefixes`` when given). A missing tree
        gives a warning and the entries git could list."""
        out, error = self._run_partial("ls-tree", "-r", "-z", "--full-tree", rev, "--", *prefixes)
        if error is not None:
            self.diag.warn(
                f"could not read the tree of {rev[:12]} ({error}); results that need it are "
                "partial (run `git fsck` to find missing objects)"
            )
        entries = []
        for line in _text(out).split("\0"):
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if len(fields) == 3 and fields[1] == "blob":
                entries.append(TreeEntry(path=path, blob=fields[2], mode=fields[0]))
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
        # GitPython reports the object type as bytes.
        if kind not in (b"blob", "blob"):
            return None
        result: bytes = data
        return result

    # -- for `forensics guard` (appended by the guard helper) -------------------------------
    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of two commits, or ``None`` when they share none."""
        out, error = self._run_partial("merge-base", a, b)
        sha = _text(out).strip()
        return sha if error is None and _HEX40.match(sha) else None

    def index(self) -> list[TreeEntry]:
        """The files staged in the index (``git ls-files -s``), as tree entries whose
        blobs ``read_blob`` reads. Unmerged paths raise ``InputError``."""
        out = self._run("ls-files", "-s", "-z")
        entries: list[TreeEntry] = []
        unmerged: list[str] = []
        for line in _text(out).split("\0"):
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if len(fields) != 3:
                continue
            if fields[2] != "0":
                unmerged.append(path)
            elif not fields[0].startswith("160"):  # submodules are commits, not files
                entries.append(TreeEntry(path=path, blob=fields[1], mode=fields[0]))
        if unmerged:
            raise InputError(
                f"the index has unresolved merge conflicts ({', '.join(sorted(set(unmerged))[:3])}"
                "): resolve them and `git add` the files first"
            )
        return entries
