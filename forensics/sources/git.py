"""Git mining: the one module that owns PyDriller and GitPython.

The whole history is read with one ``git log --raw -z`` (path-limited where possible)
through PyDriller's GitPython handle. Questions about many items are asked in one process:
many blobs in one ``cat-file --batch`` stream, many commits or files at many commits in one
``cat-file --batch-check``, the commits every merge brought in one ``log`` and one
``rev-list``; single blobs through GitPython's long-lived ``cat-file --batch``.
``Commit.modified_files`` builds a full patch per commit and is used only for the few
commits a report shows in detail (``details``).

A shallow clone or missing objects give a warning and a partial result, never a traceback.
With a ``MiningCache`` the raw ``log`` output, tag reachability and files at commits are
reused across runs.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
import re
import secrets
import shlex
import subprocess
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import git as gitpython

from forensics.errors import Diagnostics, InputError
from forensics.model.commits import ChangeStatus, CommitRecord, DiffStat, FileChange, Person
from forensics.model.evidence import DiffDetail
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
T = TypeVar("T")


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
# commands that can make a diff (blame too, which PyDriller's SZZ runs) are always given
# these.
_DIFFING = frozenset({"log", "show", "diff", "diff-tree", "diff-index", "diff-files", "blame"})
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
        self._unknown: set[str] = set()
        self._dags: dict[str, dict[str, tuple[str, ...]]] = {}
        self._dag_lock = threading.Lock()
        self._logs: dict[tuple[object, ...], Future[list[CommitRecord]]] = {}
        self._log_lock = threading.Lock()
        self._trees: dict[tuple[str, tuple[str, ...]], list[TreeEntry]] = {}
        # Counts the warnings about results git could give only in part: callers cache
        # what they computed only when this did not move meanwhile.
        self.incomplete = 0
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

    def _run_partial(self, *args: str, stdin: bytes | None = None) -> tuple[bytes, str | None]:
        """Output even when git fails half-way (missing objects): ``(stdout, error)``.
        ``stdin`` reaches git through a file, so that a long input and a long output
        cannot block each other on pipes."""
        with contextlib.ExitStack() as stack:
            source = None
            if stdin is not None:
                source = stack.enter_context(tempfile.TemporaryFile())
                source.write(stdin)
                source.seek(0)
            status, out, err = self.repo.git.execute_to_file(args, source)
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
        unknown = InputError(
            f"unknown revision {rev!r}: pass --rev with a branch, tag or commit of this repository"
        )
        if rev in self._unknown:
            raise unknown
        try:
            sha = _text(self._run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")).strip()
        except gitpython.GitCommandError:
            self._unknown.add(rev)
            raise unknown from None
        self._resolved[rev] = self._resolved[sha] = sha
        return sha

    def resolve_many(self, revs: Iterable[str]) -> dict[str, str | None]:
        """The full SHA of each commit (``None`` for those the repository does not know),
        in one ``cat-file --batch-check`` rather than one ``rev-parse`` each."""
        wanted = list(dict.fromkeys(revs))
        todo = [r for r in wanted if r not in self._resolved and r not in self._unknown]
        todo = [r for r in todo if "\n" not in r and r.strip() == r and r]
        answers = self._batch_check([f"{rev}^{{commit}}" for rev in todo]) if todo else []
        for rev, (sha, kind) in zip(todo, answers, strict=True):
            if kind == "commit":
                self._resolved[rev] = self._resolved[sha] = sha
            elif kind != "error":
                self._unknown.add(rev)
        return {rev: self._resolved.get(rev) or self.try_resolve(rev) for rev in wanted}

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

    def _partial(self, message: str) -> None:
        self.incomplete += 1
        self.diag.warn(message)

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
        full_history: bool = False,
        follow: bool = False,
        max_count: int | None = None,
    ) -> list[CommitRecord]:
        """Commits reachable from ``rev``, newest first (at most ``max_count``), with their
        changed files (against the first parent for merges), in one ``git log --raw -z``.

        ``first_parent=False`` includes every commit; each record's ``first_parent`` then
        says whether it lies on the first-parent chain of ``rev``. ``since``/``until``
        compare commit dates. ``full_history`` lists every commit that changed ``paths``,
        including side branches a merge did not keep (git's default prunes them); ``follow``
        (one path) follows the file through renames. History
        cut short by a shallow clone or missing objects gives
        a warning and the commits git could read.

        The same question asked twice in a run (from two threads, too) is answered once;
        callers must not change the list.
        """
        excluded = list(exclude)
        question: tuple[object, ...] = (rev, tuple(paths), first_parent, since, until)
        question += (tuple(excluded), no_merges, full_history, follow, max_count)
        with self._log_lock:
            answer = self._logs.get(question)
            mine = answer is None
            if answer is None:
                answer = self._logs[question] = Future()
        if not mine:
            return answer.result()
        try:
            records = self._log(
                rev,
                paths,
                first_parent,
                since,
                until,
                excluded,
                no_merges,
                max_count,
                ["--full-history"] * full_history + ["--follow"] * follow,
            )
        except BaseException as exc:
            answer.set_exception(exc)
            raise
        answer.set_result(records)
        return records

    def _log(
        self,
        rev: str,
        paths: Sequence[str],
        first_parent: bool,
        since: datetime | None,
        until: datetime | None,
        excluded: list[str],
        no_merges: bool,
        max_count: int | None,
        options: list[str],
    ) -> list[CommitRecord]:
        limits = []
        if since is not None:
            limits.append(f"--since={int(since.timestamp())}")
        if until is not None:
            limits.append(f"--until={int(until.timestamp())}")
        if max_count is not None:
            limits.append(f"--max-count={max_count}")
        limits += options
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
            chain = set(self._chain(rev))
        text = _text(out)
        records = _parse_log(text, chain, boundary)
        if error is not None:
            self._partial(
                f"git could not read the whole history ({error}); results are partial: "
                "run `git fsck` to find missing objects, or `git fetch` to restore them"
            )
        elif key is not None and self.cache is not None and not boundary:
            kept = None if isinstance(chain, bool) else tuple(sorted(chain))
            self.cache.put("log", key, _RawLog(_NONCE, text, kept))
        return records

    def commit_graph(
        self, tips: Iterable[str], exclude: Iterable[str] = ()
    ) -> dict[str, tuple[datetime, tuple[str, ...]]]:
        """Every commit reachable from ``tips`` and not from ``exclude``, with its commit
        time and parents: one ``git rev-list``, whatever the number of tips."""
        wanted = [t for t in dict.fromkeys(tips) if t]
        if not wanted:
            return {}
        revs = "".join(f"{t}\n" for t in wanted) + "".join(f"^{x}\n" for x in exclude if x)
        out, error = self._run_partial(
            "rev-list", "--parents", "--timestamp", "--stdin", stdin=revs.encode()
        )
        if error is not None:
            self._partial(f"git could not read the whole history ({error}); results are partial")
        graph: dict[str, tuple[datetime, tuple[str, ...]]] = {}
        for line in _text(out).splitlines():
            stamp, sha, *parents = line.split()
            graph[sha] = (_utc(stamp), tuple(parents))
        return graph

    def records(self, shas: Iterable[str]) -> list[CommitRecord]:
        """The given commits alone (``git log --no-walk``); unknown ones are left out."""
        wanted = sorted({s for s in shas if s})
        if not wanted:
            return []
        args = ["log", "-z", "--raw", "--no-abbrev", "-M", "--encoding=UTF-8"]
        args += [f"--format={_FORMAT}", "--diff-merges=first-parent", "--no-walk=unsorted"]
        out, error = self._run_partial(*args, *wanted, "--")
        if error is not None:
            self._partial(f"some commits could not be read ({error}); results are partial")
        return _parse_log(_text(out), True, self._shallow_commits())

    def in_background(self, call: Callable[..., T], *args: Any, **options: Any) -> Future[T]:
        """``call(*args, **options)`` (``log``, ``branch_commits``) in a worker thread, so
        that git walks the history while the caller reads blobs or builds graphs (git runs
        in its own process; the thread waits on its pipe). ``.result()`` waits for it."""
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="git-log")
        future = pool.submit(call, *args, **options)
        pool.shutdown(wait=False)
        return future

    def branch_commits(self, rev: str, paths: Sequence[str]) -> list[CommitRecord]:
        """Every non-merge commit reachable from ``rev`` that changed ``paths``, on branches
        too, each with its own changes against its own parent; newest first."""
        return self.log(rev, paths=paths, first_parent=False, no_merges=True, full_history=True)

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

    def _parents(self, rev: str) -> dict[str, tuple[str, ...]]:
        """Every commit reachable from ``rev`` with its parents: one ``rev-list --parents``
        (a few megabytes for a large history), kept for the run."""
        sha = self.try_resolve(rev) or rev
        with self._dag_lock:  # a log in the background may ask at the same time
            return self._dags.get(sha) or self._read_parents(sha)

    def _read_parents(self, sha: str) -> dict[str, tuple[str, ...]]:
        out, error = self._run_partial("rev-list", "--parents", sha, "--")
        if error is not None:
            self._partial(
                f"git could not walk the whole history ({error}); results are partial: "
                "run `git fsck` to find missing objects, or `git fetch` to restore them"
            )
        known: dict[str, tuple[str, ...]] = {}
        for line in _text(out).splitlines():
            shas = line.split()
            if shas and _HEX40.match(shas[0]):
                known[shas[0]] = tuple(shas[1:])
        self._dags = {sha: known}
        return known

    def _chain(self, rev: str) -> list[str]:
        """The first-parent chain of ``rev``, newest first."""
        parents = self._parents(rev)
        chain: list[str] = []
        sha = self.try_resolve(rev)
        while sha is not None and sha in parents:
            chain.append(sha)
            above = parents[sha]
            sha = above[0] if above else None
        return chain

    def merged_changes(self, rev: str, paths: Sequence[str]) -> dict[str, list[CommitRecord]]:
        """For each merge on the first-parent chain of ``rev``: the non-merge commits it
        brought (``merge^1..merge``) that changed something under ``paths``, newest first,
        each with its own changed files against its own parent.

        Two git processes for the whole history (one ``rev-list --parents``, one
        ``git log --no-merges --full-history --raw``), whatever the number of merges."""
        side = self.branch_commits(rev, paths)
        wanted = [c for c in side if not c.first_parent and c.files]
        if not wanted:
            return {}
        parents = self._parents(rev)
        chain = self._chain(rev)
        # Oldest merge first: what an older merge brought is reachable from every later
        # one's first parent, so each commit belongs to the first merge that reaches it.
        brought: dict[str, str] = {}
        seen = set(chain)
        for merge in reversed(chain):
            todo = list(parents.get(merge, ())[1:])
            while todo:
                sha = todo.pop()
                if sha in seen:
                    continue
                seen.add(sha)
                brought[sha] = merge
                todo.extend(parents.get(sha, ()))
        found: dict[str, list[CommitRecord]] = {}
        for record in wanted:
            owner = brought.get(record.sha)
            if owner is not None:
                found.setdefault(owner, []).append(record)
        return found

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

    def last_modified_lines(
        self, fixes: Iterable[str], paths: Collection[str]
    ) -> dict[str, list[tuple[str, str]]]:
        """SZZ through PyDriller (``Git.get_commits_last_modified_lines``): for each fix
        commit, the commits that last wrote the lines it changed or deleted in ``paths``.
        Gives blamed commit -> ``[(fix, path)]``. One patch and one ``git blame`` per file
        and fix: only for the few fixes of a failure window. Merge commits give nothing
        (PyDriller lists no files for them): pass the commits they brought."""
        found: dict[str, list[tuple[str, str]]] = {}
        for fix in dict.fromkeys(fixes):
            try:
                commit = self.driller.get_commit(fix)
                for mod in commit.modified_files:
                    if mod.new_path not in paths and mod.old_path not in paths:
                        continue
                    blamed = self.driller.get_commits_last_modified_lines(commit, mod)
                    for path, shas in sorted(blamed.items()):
                        for sha in sorted(shas):
                            found.setdefault(sha, []).append((commit.hash, path))
            # GitPython and gitdb raise many unrelated types for unknown or missing objects.
            except Exception as exc:
                self.diag.warn(
                    f"no blame for commit {fix[:12]} ({type(exc).__name__}); the suspects of "
                    "its window are ranked without it"
                )
        return found

    def file_diff(self, base: str | None, commit: str, paths: Sequence[str]) -> DiffDetail | None:
        """How one file changed from ``base`` to ``commit`` (from the commit's first parent
        when ``base`` is ``None``), through PyDriller's ``ModifiedFile`` over a diff limited
        to ``paths`` (the file's names over its renames); an empty diff when nothing
        differs. ``None`` (and a warning) when the commits cannot be read.

        Kept in the mining cache when both commits are full SHAs: the change between two
        commits never changes, and reading it through PyDriller costs a fifth of a warm run
        on a report with a hundred edits."""
        cache = self.cache if self.cache is not None and self.cache.enabled else None
        named = all(_HEX40.match(rev) for rev in (base, commit) if rev is not None)
        key = cache_key("diff", base, commit, list(paths)) if cache and named else None
        if cache is not None and key is not None:
            known = cache.get("diffs", key, DiffDetail)
            if known is not None:
                return known
        detail = self._file_diff(base, commit, paths)
        if cache is not None and key is not None and detail is not None:
            cache.put("diffs", key, detail, DiffDetail)
        return detail

    def _file_diff(self, base: str | None, commit: str, paths: Sequence[str]) -> DiffDetail | None:
        from pydriller.domain.commit import ModifiedFile

        try:
            after = self.repo.commit(commit)
            if base:
                before = self.repo.commit(base)
            elif after.parents:
                before = after.parents[0]
            else:
                return None
            wanted: list[str | os.PathLike[str]] = list(dict.fromkeys(paths))
            # One line of context: the report shows what changed, the link shows the rest.
            diffs = before.diff(after, paths=wanted, create_patch=True, unified=1)
            if not diffs:
                return DiffDetail(paths[0], "", (), (), (), (), ())
            mod = ModifiedFile(diffs[0])
            parsed = mod.diff_parsed
            try:
                methods = tuple(sorted({m.name for m in mod.changed_methods}))
                spans_before = tuple((m.start_line, m.end_line) for m in mod.methods_before)
                spans_after = tuple((m.start_line, m.end_line) for m in mod.methods)
            except Exception:  # lizard reads any text; a file it cannot read has no methods
                methods, spans_before, spans_after = (), (), ()
            return DiffDetail(
                path=mod.new_path or mod.old_path or paths[0],
                diff=mod.diff,
                added=tuple((int(n), str(t)) for n, t in parsed["added"]),
                deleted=tuple((int(n), str(t)) for n, t in parsed["deleted"]),
                changed_methods=methods,
                spans_before=spans_before,
                spans_after=spans_after,
            )
        except Exception as exc:
            self.diag.warn(
                f"no diff for {paths[0]} at commit {commit[:12]} ({type(exc).__name__}); the "
                "report shows the edit without it"
            )
            return None

    def remote_url(self, name: str = "origin") -> str | None:
        """The configured URL of a remote (``remote.NAME.url``), as written: it may hold
        credentials, so callers must not print it."""
        out, error = self._run_partial("config", "--get", f"remote.{name}.url")
        url = _text(out).strip()
        return url if error is None and url else None

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
        out, error = self._run_partial("for-each-ref", f"--format={fmt}", "refs/tags")
        if error is not None:
            self._partial(f"could not list the tags ({error}); the tag list is partial")
        listing = _text(out)
        reachable = self._reachable_tags(target, listing)
        found: list[TagInfo] = []
        for line in listing.splitlines():
            parts = line.split("\0")
            if len(parts) != 7 or parts[0] not in reachable:
                continue
            if not fnmatch.fnmatchcase(parts[0], pattern):
                continue
            name, kind, obj, peeled_kind, peeled, created, peeled_date = parts
            if kind == "tag" and peeled_kind == "commit":
                found.append(TagInfo(name, peeled, _utc(created or peeled_date), annotated=True))
            elif kind == "commit":
                found.append(TagInfo(name, obj, _utc(created)))
        return sorted(found, key=lambda t: (t.at, t.name))

    def _reachable_tags(self, target: str, listing: str) -> set[str]:
        """The names of the tags reachable from ``target`` (``for-each-ref --merged``, a
        walk of the history), cached under the target and the tags as they are now."""
        cache = self.cache if self.cache is not None and self.cache.enabled else None
        key = cache_key("tags", target, hashlib.sha256(listing.encode()).hexdigest())
        known = cache.get("tags", key, list[str]) if cache else None
        if known is not None:
            return set(known)
        out, error = self._run_partial(
            "for-each-ref", f"--merged={target}", "--format=%(refname:strip=2)", "refs/tags"
        )
        if error is not None:
            self._partial(f"could not list the tags ({error}); the tag list is partial")
        names = sorted(_text(out).splitlines())
        if cache and error is None:
            cache.put("tags", key, names, list[str])
        return set(names)

    # -- trees and blobs --------------------------------------------------------------------
    def tree(self, rev: str, prefixes: Sequence[str] = ()) -> list[TreeEntry]:
        """Every file of the tree at ``rev`` (under ``prefixes`` when given). A missing tree
        gives a warning and the entries git could list."""
        question = (rev, tuple(prefixes))
        known = self._trees.get(question)
        if known is not None:
            return list(known)
        out, error = self._run_partial("ls-tree", "-r", "-z", "--full-tree", rev, "--", *prefixes)
        if error is not None:
            self._partial(
                f"could not read the tree of {rev[:12]} ({error}); results that need it are "
                "partial (run `git fsck` to find missing objects)"
            )
        entries = []
        for line in _text(out).split("\0"):
            meta, _, path = line.partition("\t")
            fields = meta.split()
            if len(fields) == 3 and fields[1] == "blob":
                entries.append(TreeEntry(path=path, blob=fields[2], mode=fields[0]))
        if error is None and _HEX40.match(rev):  # a commit's tree never changes
            self._trees[question] = entries
        return list(entries)

    def blobs_at(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """The blob of each ``(commit, path)``, ``None`` where no such file is there: one
        ``cat-file --batch-check`` for all of them. The answer is cached as a whole, under
        the question (full commit SHAs only: a commit's tree never changes)."""
        wanted = list(dict.fromkeys(pairs))
        found: dict[tuple[str, str], str | None] = {}
        # a name with a newline cannot be asked on one line; no migration is named so
        todo = [(c, p) for c, p in wanted if "\n" not in p and "\n" not in c]
        cache = self.cache if self.cache is not None and self.cache.enabled else None
        key = cache_key("blobs", todo) if all(_HEX40.match(c) for c, _p in todo) else None
        known = cache.get("blobs", key, list[str]) if cache and key else None
        if known is None or len(known) != len(todo):
            answers = self._blobs_in_trees(todo)
            known = [sha if kind == "blob" else "" for sha, kind in answers]
            if cache and key and all(kind != "error" for _sha, kind in answers):
                cache.put("blobs", key, known, list[str])
        found.update(zip(todo, [blob or None for blob in known], strict=True))
        return {pair: found.get(pair) for pair in wanted}

    def _blobs_in_trees(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """``(sha, type)`` of each ``(commit, path)``, as ``_batch_check`` gives them, from
        the trees of the folders that hold the paths: a migration folder at a hundred tags
        is a hundred trees to read, not one path lookup per (tag, file). Paths that are not
        plain ASCII are looked up one by one, as git spells them."""
        plain = [(c, p) for c, p in pairs if p.isascii() and p and p[-1] != "/" and "//" not in p]
        folders = list(dict.fromkeys((c, p.rpartition("/")[0]) for c, p in plain))
        lookups = self._batch_check([f"{c}:{d}" for c, d in folders])
        found = dict(zip(folders, lookups, strict=True))
        trees = {sha for sha, kind in found.values() if kind == "tree"}
        entries, error = self._read_trees(trees)
        answers: dict[tuple[str, str], tuple[str, str]] = {}
        for commit, path in plain:
            folder, _, name = path.rpartition("/")
            tree, kind = found[commit, folder]
            if kind == "tree":
                answers[commit, path] = entries.get((tree, name), ("", error or "missing"))
            else:
                answers[commit, path] = ("", "error" if kind == "error" else "missing")
        others = [pair for pair in pairs if pair not in answers]
        if others:
            lookups = self._batch_check([f"{c}:{p}" for c, p in others])
            answers.update(zip(others, lookups, strict=True))
        return [answers[pair] for pair in pairs]

    def _read_trees(self, trees: set[str]) -> tuple[dict[tuple[str, str], tuple[str, str]], str]:
        """``(tree, name) -> (sha, type)`` for every entry of ``trees`` (one ``cat-file
        --batch``), and ``"error"`` when git could not read them all, else ``""``."""
        if not trees:
            return {}, ""
        out, error = self._run_partial(
            "cat-file", "--batch", stdin="".join(f"{t}\n" for t in sorted(trees)).encode()
        )
        entries: dict[tuple[str, str], tuple[str, str]] = {}
        read = 0
        for tree, object_type, body in _batch_objects(out):
            if object_type != b"tree":
                continue
            read += 1
            # Each entry: "<mode> <name>\0" and the object's 20 bytes.
            at = 0
            while at < len(body):
                space = body.find(b" ", at)
                nul = body.find(b"\0", space)
                if space < 0 or nul < 0:
                    break
                mode, name = body[at:space], body[space + 1 : nul]
                sha = body[nul + 1 : nul + 21].hex()
                at = nul + 21
                kind = "tree" if mode == b"40000" else "commit" if mode == b"160000" else "blob"
                if name.isascii():
                    entries[tree, name.decode()] = (sha, kind)
        return entries, "error" if error is not None or read < len(trees) else ""

    def _batch_check(self, names: list[str]) -> list[tuple[str, str]]:
        """``(sha, type)`` of each object name (``rev:path``, ``rev^{commit}``) through one
        ``cat-file --batch-check``: ``("", "missing")`` for names that name nothing,
        ``("", "error")`` for those git did not answer. Names hold no newline."""
        query = "".join(f"{name}\n" for name in names).encode()
        out, error = self._run_partial(
            "cat-file", "--batch-check=%(objectname) %(objecttype)", stdin=query
        )
        if error is not None:
            self._partial(f"could not look up objects ({error}); results are partial")
        lines = _text(out).split("\n")
        answers = []
        for i in range(len(names)):
            sha, _, kind = lines[i].rpartition(" ") if i < len(lines) else ("", "", "error")
            answers.append((sha, kind) if _HEX40.match(sha) else ("", kind or "error"))
        return answers

    def read_blobs(self, blobs: Iterable[str]) -> dict[str, bytes]:
        """Many blobs in one ``cat-file --batch`` stream, without a round trip per blob
        (which costs more than the read on a busy machine). Missing ones are left out:
        ``read_blob`` then says which."""
        wanted = sorted({b for b in blobs if _HEX40.match(b)})
        if not wanted:
            return {}
        out, error = self._run_partial(
            "cat-file", "--batch", stdin="".join(f"{b}\n" for b in wanted).encode()
        )
        found = {sha: body for sha, kind, body in _batch_objects(out) if kind == b"blob"}
        if error is not None and len(found) < len(wanted):
            self._partial(f"some git objects could not be read ({error}); results are partial")
        return found

    def read_blob(self, blob: str) -> bytes | None:
        """A blob's bytes through the long-lived ``cat-file --batch``; ``None`` (and a
        warning) when the object is missing."""
        try:
            _sha, _kind, _size, data = self.repo.git.get_object_data(blob)
        except (ValueError, gitpython.GitCommandError, OSError):
            self._partial(
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
    runner = _SafeGit(str(dest))
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


def _batch_objects(out: bytes) -> Iterator[tuple[str, bytes, bytes]]:
    """``(sha, type, content)`` of each object in a ``cat-file --batch`` stream; objects git
    reports missing (``<name> missing``) are skipped."""
    pos = 0
    while pos < len(out):
        end = out.find(b"\n", pos)
        if end < 0:
            return
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue
        size = int(header[2])
        yield header[0].decode(), header[1], out[pos : pos + size]
        pos += size + 1
