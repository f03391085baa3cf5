"""PyDriller, for the few commits a report shows in detail: line counts, SZZ blame and
one file's diff. The one module that imports PyDriller, and only inside its functions,
so that runs that need no patch do not pay for its import.

``Commit.modified_files`` builds a full patch per commit: never call these over a whole
history. A commit that cannot be read gives a warning and is left out, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any

from forensics.errors import Diagnostics
from forensics.model.commits import DiffStat
from forensics.model.evidence import DiffDetail

# PyDriller's ``Git`` is opened on the first use of ``GitSource.driller``; the functions
# below get that property as a call, made inside each commit's ``try``, so that a failure
# to open it is a warning about that commit like any other.
Opener = Callable[[], Any]


def shared_git(path: Path, repo: Any) -> Any:
    """PyDriller's ``Git`` on our already-open GitPython repository. PyDriller's own opener
    writes ``blame.markUnblamableLines`` into the analysed repository's config; evidence is
    read, never modified."""
    from pydriller import Git

    class SharedGit(Git):  # type: ignore[misc]
        def _open_repository(self) -> None:
            self._repo = repo
            self._discover_main_branch(self._repo)

    return SharedGit(str(path))


def commit_details(driller: Opener, shas: Iterable[str], diag: Diagnostics) -> dict[str, DiffStat]:
    """``GitSource.details``: line counts and changed paths, one patch per commit."""
    stats: dict[str, DiffStat] = {}
    for sha in dict.fromkeys(shas):
        try:
            commit = driller().get_commit(sha)
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
            diag.warn(
                f"no details for commit {sha[:12]} ({type(exc).__name__}); it is missing "
                "or unreadable, so the report shows it without line counts"
            )
    return stats


def last_modified_lines(
    driller: Opener, fixes: Iterable[str], paths: Collection[str], diag: Diagnostics
) -> dict[str, list[tuple[str, str]]]:
    """``GitSource.last_modified_lines``: SZZ through PyDriller's
    ``Git.get_commits_last_modified_lines``, blamed commit -> ``[(fix, path)]``."""
    found: dict[str, list[tuple[str, str]]] = {}
    for fix in dict.fromkeys(fixes):
        try:
            commit = driller().get_commit(fix)
            for mod in commit.modified_files:
                if mod.new_path not in paths and mod.old_path not in paths:
                    continue
                blamed = driller().get_commits_last_modified_lines(commit, mod)
                for path, shas in sorted(blamed.items()):
                    for sha in sorted(shas):
                        found.setdefault(sha, []).append((commit.hash, path))
        # GitPython and gitdb raise many unrelated types for unknown or missing objects.
        except Exception as exc:
            diag.warn(
                f"no blame for commit {fix[:12]} ({type(exc).__name__}); the suspects of "
                "its window are ranked without it"
            )
    return found


def file_diff(
    repo: Any, base: str | None, commit: str, paths: Sequence[str], diag: Diagnostics
) -> DiffDetail | None:
    """How one file changed from ``base`` (the commit's first parent when ``None``) to
    ``commit``, through PyDriller's ``ModifiedFile`` over a diff limited to ``paths``."""
    from pydriller.domain.commit import ModifiedFile

    try:
        after = repo.commit(commit)
        if base:
            before = repo.commit(base)
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
        diag.warn(
            f"no diff for {paths[0]} at commit {commit[:12]} ({type(exc).__name__}); the "
            "report shows the edit without it"
        )
        return None
