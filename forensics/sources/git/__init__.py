"""Git mining: ``GitSource``, a repository opened for reading, and the names callers
import from this package.

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

The parts: ``process`` starts git safely (the one importer of GitPython), ``log`` parses
``git log`` output, ``objects`` reads trees, tags and ``cat-file`` streams, ``history``
is PyDriller's diffs and blame.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from forensics.errors import Diagnostics, InputError
from forensics.model.commits import CommitRecord, DiffStat
from forensics.model.evidence import DiffDetail
from forensics.model.text import decode
from forensics.sources.cache import MiningCache, cache_key
from forensics.sources.git import history, process
from forensics.sources.git.log import (
    FORMAT,
    HEX40,
    cached_log,
    keep_log,
    parse_log,
    parse_trailers,
    utc,
)
from forensics.sources.git.objects import (
    TagInfo,
    TreeEntry,
    batch_objects,
    listed_files,
    tree_items,
)
from forensics.sources.git.process import GitCommandError, fetch_repository, safe_command

__all__ = [
    "GitSource",
    "TagInfo",
    "TreeEntry",
    "fetch_repository",
    "parse_trailers",
    "safe_command",
]

T = TypeVar("T")


def _text(data: bytes) -> str:
    """Untrusted bytes: decoded with replacement, never rejected."""
    return decode(data)


def _log_limits(
    since: datetime | None, until: datetime | None, max_count: int | None, options: list[str]
) -> list[str]:
    """``git log``'s limiting options; their order is part of the cache key."""
    limits = []
    if since is not None:
        limits.append(f"--since={int(since.timestamp())}")
    if until is not None:
        limits.append(f"--until={int(until.timestamp())}")
    if max_count is not None:
        limits.append(f"--max-count={max_count}")
    return limits + options


def _log_args(first_parent: bool, no_merges: bool) -> list[str]:
    """``git log`` with raw changes in the format ``parse_log`` reads; merges (when kept)
    diffed against their first parent."""
    # --encoding: commits with an encoding header (latin-1...) are re-encoded to UTF-8.
    args = ["log", "-z", "--raw", "--no-abbrev", "-M", "--encoding=UTF-8", f"--format={FORMAT}"]
    args.append("--no-merges" if no_merges else "--diff-merges=first-parent")
    if first_parent:
        args.append("--first-parent")
    return args


class GitSource:
    """A repository opened for reading. Nothing here touches the working tree.

    ``cache`` (optional) keeps parsed history between runs; results that are partial
    (shallow clone, missing objects) are never cached.
    """

    def __init__(
        self, path: Path, diag: Diagnostics | None = None, cache: MiningCache | None = None
    ) -> None:
        self.diag = diag or Diagnostics()
        repo = process.open_repository(path)
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
        except GitCommandError as exc:
            process.refused(self.path, exc.stderr)
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
            process.refused(self.path, message)
            return out, process.first_line(message)
        return out, None

    @property
    def driller(self) -> Any:
        """PyDriller's handle, opened only when a report needs commit details."""
        if self._driller is None:
            self._driller = history.shared_git(self.path, self.repo)
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
        except GitCommandError:
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
        except GitCommandError:
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
        except GitCommandError:
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
        options = ["--full-history"] * full_history + ["--follow"] * follow
        limits = _log_limits(since, until, max_count, options)
        return self._answer_once(
            question, lambda: self._log(rev, paths, first_parent, excluded, no_merges, limits)
        )

    def _answer_once(
        self, question: tuple[object, ...], compute: Callable[[], list[CommitRecord]]
    ) -> list[CommitRecord]:
        """``compute()`` for the first thread to ask ``question``; any later asker waits
        for that answer (or its exception) instead of running git again."""
        with self._log_lock:
            answer = self._logs.get(question)
            mine = answer is None
            if answer is None:
                answer = self._logs[question] = Future()
        if not mine:
            return answer.result()
        try:
            records = compute()
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
        excluded: list[str],
        no_merges: bool,
        limits: list[str],
    ) -> list[CommitRecord]:
        """One ``git log --raw -z`` parsed, or its output kept in the cache."""
        key = self._log_key(rev, excluded, paths, first_parent, limits, no_merges)
        if key is not None and self.cache is not None:
            cached = cached_log(self.cache, key)
            if cached is not None:
                return cached
        boundary = self._shallow_commits()
        if boundary:
            self.warn_if_shallow()
        revs = [rev, *(f"^{x}" for x in excluded)]
        args = _log_args(first_parent, no_merges)
        out, error = self._run_partial(*args, *limits, *revs, "--", *paths)
        chain: set[str] | bool = True
        if not first_parent:
            chain = set(self._chain(rev))
        text = _text(out)
        records = parse_log(text, chain, boundary)
        if error is not None:
            self._partial(
                f"git could not read the whole history ({error}); results are partial: "
                "run `git fsck` to find missing objects, or `git fetch` to restore them"
            )
        elif key is not None and self.cache is not None and not boundary:
            keep_log(self.cache, key, text, chain)
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
            graph[sha] = (utc(stamp), tuple(parents))
        return graph

    def records(self, shas: Iterable[str]) -> list[CommitRecord]:
        """The given commits alone (``git log --no-walk``); unknown ones are left out."""
        wanted = sorted({s for s in shas if s})
        if not wanted:
            return []
        args = [*_log_args(first_parent=False, no_merges=False), "--no-walk=unsorted"]
        out, error = self._run_partial(*args, *wanted, "--")
        if error is not None:
            self._partial(f"some commits could not be read ({error}); results are partial")
        return parse_log(_text(out), True, self._shallow_commits())

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
            if shas and HEX40.match(shas[0]):
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
        return history.commit_details(lambda: self.driller, shas, self.diag)

    def last_modified_lines(
        self, fixes: Iterable[str], paths: Collection[str]
    ) -> dict[str, list[tuple[str, str]]]:
        """SZZ through PyDriller (``Git.get_commits_last_modified_lines``): for each fix
        commit, the commits that last wrote the lines it changed or deleted in ``paths``.
        Gives blamed commit -> ``[(fix, path)]``. One patch and one ``git blame`` per file
        and fix: only for the few fixes of a failure window. Merge commits give nothing
        (PyDriller lists no files for them): pass the commits they brought."""
        return history.last_modified_lines(lambda: self.driller, fixes, paths, self.diag)

    def file_diff(self, base: str | None, commit: str, paths: Sequence[str]) -> DiffDetail | None:
        """How one file changed from ``base`` to ``commit`` (from the commit's first parent
        when ``base`` is ``None``), through PyDriller's ``ModifiedFile`` over a diff limited
        to ``paths`` (the file's names over its renames); an empty diff when nothing
        differs. ``None`` (and a warning) when the commits cannot be read.

        Kept in the mining cache when both commits are full SHAs: the change between two
        commits never changes, and reading it through PyDriller costs a fifth of a warm run
        on a report with a hundred edits."""
        cache = self.cache if self.cache is not None and self.cache.enabled else None
        named = all(HEX40.match(rev) for rev in (base, commit) if rev is not None)
        key = cache_key("diff", base, commit, list(paths)) if cache and named else None
        if cache is not None and key is not None:
            known = cache.get("diffs", key, DiffDetail)
            if known is not None:
                return known
        detail = history.file_diff(self.repo, base, commit, paths, self.diag)
        if cache is not None and key is not None and detail is not None:
            cache.put("diffs", key, detail, DiffDetail)
        return detail

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
                found.append(TagInfo(name, peeled, utc(created or peeled_date), annotated=True))
            elif kind == "commit":
                found.append(TagInfo(name, obj, utc(created)))
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
        entries = listed_files(_text(out))
        if error is None and HEX40.match(rev):  # a commit's tree never changes
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
        key = cache_key("blobs", todo) if all(HEX40.match(c) for c, _p in todo) else None
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
        for tree, object_type, body in batch_objects(out):
            if object_type != b"tree":
                continue
            read += 1
            for name, sha, kind in tree_items(body):
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
            answers.append((sha, kind) if HEX40.match(sha) else ("", kind or "error"))
        return answers

    def read_blobs(self, blobs: Iterable[str]) -> dict[str, bytes]:
        """Many blobs in one ``cat-file --batch`` stream, without a round trip per blob
        (which costs more than the read on a busy machine). Missing ones are left out:
        ``read_blob`` then says which."""
        wanted = sorted({b for b in blobs if HEX40.match(b)})
        if not wanted:
            return {}
        out, error = self._run_partial(
            "cat-file", "--batch", stdin="".join(f"{b}\n" for b in wanted).encode()
        )
        found = {sha: body for sha, kind, body in batch_objects(out) if kind == b"blob"}
        if error is not None and len(found) < len(wanted):
            self._partial(f"some git objects could not be read ({error}); results are partial")
        return found

    def read_blob(self, blob: str) -> bytes | None:
        """A blob's bytes through the long-lived ``cat-file --batch``; ``None`` (and a
        warning) when the object is missing."""
        try:
            _sha, _kind, _size, data = self.repo.git.get_object_data(blob)
        except (ValueError, GitCommandError, OSError):
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
        except (ValueError, GitCommandError, OSError):
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
        return sha if error is None and HEX40.match(sha) else None

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
