"""The mining cache around the graph loaders: the graphs at a commit and the graph history,
each remembered with the warnings it gave so that a run from the cache gives them again."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from forensics.analysis.metrics import import_in_background
from forensics.errors import Diagnostics
from forensics.model.migrations import Environment, GraphHistory, GraphState, MigrationFile
from forensics.pipeline.graphs import load_graphs, load_history, note_python2
from forensics.sources.cache import cache_key
from forensics.sources.git import GitSource

_Graphs = tuple[tuple[Environment, ...], tuple[GraphState, ...], tuple[str, ...]]


def cached_graphs(
    git: GitSource,
    sha: str,
    migrations: Sequence[str],
    diag: Diagnostics,
    discovered: Callable[[Sequence[Environment]], None] | None = None,
) -> tuple[list[Environment], list[GraphState]]:
    """``load_graphs``, remembered per commit (a tree never changes under a SHA) with the
    warnings it gave, which a run from the cache gives again."""
    cache = git.cache
    key = cache_key("graphs", sha, *migrations)
    if cache is not None and cache.enabled:
        found = cache.get("graphs", key, _Graphs)
        if found is not None:
            _replay(diag, found[2])
            note_python2(found[1])
            return list(found[0]), list(found[1])
    before, incomplete = len(diag.warnings), git.incomplete
    envs, states = load_graphs(git, sha, migrations, diag, discovered)
    if cache is not None and git.incomplete == incomplete:
        warnings = tuple(diag.warnings[before:])
        cache.put("graphs", key, (tuple(envs), tuple(states), warnings), _Graphs)
    return envs, states


@dataclass(frozen=True)
class _StoredHistory:
    """A ``GraphHistory`` as the cache keeps it: each file version once (a formatter sweep
    makes hundreds of changes share few versions), the changes pointing at them by index
    (``-1``: none), and the warnings the history gave."""

    history: GraphHistory
    files: tuple[MigrationFile, ...]
    versions: tuple[tuple[int, int], ...]
    warnings: tuple[str, ...]

    @classmethod
    def of(cls, history: GraphHistory, warnings: tuple[str, ...]) -> _StoredHistory:
        index: dict[MigrationFile, int] = {}

        def ref(file: MigrationFile | None) -> int:
            return -1 if file is None else index.setdefault(file, len(index))

        versions = tuple((ref(c.before), ref(c.after)) for c in history.changes)
        bare = tuple(dataclasses.replace(c, before=None, after=None) for c in history.changes)
        return cls(dataclasses.replace(history, changes=bare), tuple(index), versions, warnings)

    def restore(self) -> GraphHistory:
        files = self.files

        def file(i: int) -> MigrationFile | None:
            return files[i] if 0 <= i < len(files) else None

        changes = tuple(
            dataclasses.replace(c, before=file(b), after=file(a))
            for c, (b, a) in zip(self.history.changes, self.versions, strict=True)
        )
        return dataclasses.replace(self.history, changes=changes)


def cached_history(
    git: GitSource,
    sha: str,
    envs: Sequence[Environment],
    diag: Diagnostics,
    states: Sequence[GraphState],
) -> GraphHistory:
    """``load_history``, remembered with its warnings unless git could read only part of
    the history (shallow clone, missing objects)."""
    cache = git.cache
    key = cache_key("history", sha, *(repr(e) for e in envs))
    if cache is not None and cache.enabled:
        found = cache.get("history", key, _StoredHistory)
        if found is not None and len(found.versions) == len(found.history.changes):
            _replay(diag, found.warnings)
            return found.restore()
    before, incomplete = len(diag.warnings), git.incomplete
    import_in_background()  # a cold run: the metrics will need pandas
    history = load_history(git, sha, envs, diag, states)
    if cache is not None and git.incomplete == incomplete and not git.is_shallow:
        stored = _StoredHistory.of(history, tuple(diag.warnings[before:]))
        cache.put("history", key, stored, _StoredHistory)
    return history


def _replay(diag: Diagnostics, warnings: Sequence[str]) -> None:
    for warning in warnings:
        diag.warn(warning)
