"""Wires the stages of an analysis: load -> prepare -> detect -> gather -> compose -> seal.

``load`` reads the sources, ``prepare`` analyses them into the detectors' ``Context``,
``detect`` runs the rules, ``gather`` reads the evidence the findings point at, ``compose``
assembles the ``Report`` without I/O and ``seal`` cleans and redacts it for the renderers
(``forensics.render``, called by the CLI). Git is asked questions in load, prepare and
gather only.

Everything is read from git objects at the analysed revision, never from the working tree.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from forensics import detectors
from forensics.analysis.applied import (
    application_points,
    applied_set,
    heads_of,
    point_as_of,
    production_revisions,
    successful,
    tables_expected,
)
from forensics.analysis.bursts import find_bursts
from forensics.analysis.chain import chain_nodes
from forensics.analysis.evidence import evidence, locations, shown_edits
from forensics.analysis.failures import rerank, window_causes
from forensics.analysis.graph import build_state
from forensics.analysis.graph_history import Brought, events_between, walk
from forensics.analysis.incidents import build_incidents
from forensics.analysis.metrics import import_in_background, trend_weeks, weekly_metrics
from forensics.analysis.remediation import remediations
from forensics.analysis.windows import failure_windows, rank_suspects, suspect_range
from forensics.config import AnalyzeConfig, apply_policy
from forensics.detectors.base import Context
from forensics.errors import Diagnostics, InputError, log, redact
from forensics.model.commits import ChangeStatus, CommitRecord, FileChange
from forensics.model.deploys import AppliedMigration, Deploy, FailureWindow
from forensics.model.evidence import EditEvidence
from forensics.model.findings import Finding, Severity
from forensics.model.links import Forge, RemoteLinks, remote_links
from forensics.model.metrics import WeekMetrics
from forensics.model.migrations import (
    ChangeKind,
    Environment,
    GraphHistory,
    GraphState,
    MigrationChange,
    MigrationFile,
    SourceDialect,
)
from forensics.model.report import (
    Burst,
    EnvironmentSummary,
    HealthCheck,
    Production,
    Remediation,
    Report,
    RuleInfo,
)
from forensics.model.rules import CHANGED_APPLIED
from forensics.model.text import clean, map_text
from forensics.sources.alembic_files import ConstantResolver, parses, read_migration
from forensics.sources.cache import MiningCache, cache_key
from forensics.sources.deploy_logs import load_logs
from forensics.sources.deploys import load_deploys
from forensics.sources.environments import SYMLINK_MODE, discover_environments
from forensics.sources.git import GitSource, TreeEntry
from forensics.sources.github_actions import is_file
from forensics.sources.health import check
from forensics.sources.migration_tree import MigrationTree, tree_reader

if TYPE_CHECKING:
    from forensics.sources.database import DatabaseState

Progress = Callable[[str], None]

# Above this many commits in the window, the report lists only the commits that matter to
# migrations, deploys and findings: a timeline of thousands of rows helps nobody.
TIMELINE_LIMIT = 500
# The failed deploys of a window whose logs are read: the first and the last of a long run
# say how it started and how it went on; the middle repeats them.
LOGS_PER_WINDOW = 30
# Without a known good deploy a window's cause cannot be bounded: the commits just before
# its first failure are ranked, older ones are not looked at.
UNBOUNDED_SUSPECTS = 50
# The later commits of a window whose lines SZZ blames: each costs a patch and a blame.
SZZ_FIXES = 10


def load_graphs(
    git: GitSource,
    rev: str,
    migrations: Sequence[str],
    diag: Diagnostics,
    discovered: Callable[[Sequence[Environment]], None] | None = None,
) -> tuple[list[Environment], list[GraphState]]:
    """The Alembic environments at ``rev`` and the graph of each. Raises ``InputError`` when
    there is none; warns (and carries on) about empty versions folders and odd files.
    ``discovered`` is told the environments as soon as they are known, before their files
    are read."""
    sha = git.resolve(rev)
    tree = MigrationTree(git, git.tree(sha), migrations, diag)
    if not tree.environments:
        raise InputError(
            f"no Alembic environment found at {rev}: pass --migrations DIR with the folder "
            "that holds the migration files (or its versions/ folder)"
        )
    if discovered is not None:
        discovered(tree.environments)
    states = []
    for env, parsed in tree.parsed():
        if not parsed:
            diag.warn(
                f"environment {env.name}: versions folder {', '.join(env.versions_dirs)} holds "
                "no migration files at this revision"
            )
        for migration in parsed:
            for warning in migration.warnings:
                diag.warn(f"{migration.path}: {warning}")
        # One line per environment: real projects carry dozens of stale headers.
        mismatched = sum(1 for m in parsed if m.docstring_mismatches)
        if mismatched:
            diag.warn(
                f"environment {env.name}: {mismatched} migration file(s) have a docstring "
                "header (Revision ID, Revises) that disagrees with the code, which Alembic "
                "follows; the JSON lists them (environments[].docstring_mismatches)"
            )
        states.append(build_state(env, parsed))
    note_python2(states)
    return list(tree.environments), states


def note_python2(states: Sequence[GraphState]) -> None:
    """Says once per environment how many of its migrations are Python 2 source: they ran
    under Python 2, so they are read as such and are not unparseable."""
    for state in states:
        count = sum(m.dialect is SourceDialect.PYTHON2 for m in state.migrations)
        if count:
            noun = "migration is" if count == 1 else "migrations are"
            log.info("environment %s: %d %s Python 2 source", state.environment.name, count, noun)


def _env_py(env: Environment) -> str:
    return posixpath.join(env.script_location, "env.py") if env.script_location else "env.py"


def _moved(location: str, moves: Sequence[tuple[str, str]]) -> str:
    """Where a folder ended up after the folder moves (oldest first)."""
    for old, new in moves:
        if location == old or location.startswith(old + "/"):
            location = new + location[len(old) :]
    return location


def history_environments(
    git: GitSource, rev: str, envs: Sequence[Environment]
) -> list[Environment]:
    """The environments of every era of the first-parent history of ``rev``, not only
    those at ``rev``: the environments found just before each commit that moved the
    ``env.py`` of an environment of ``rev``. A folder that moved belongs to the environment
    it moved into, which then owns both folders, so that the move is a rename inside one
    environment rather than a break; another environment found there and gone by ``rev``
    stays as it was."""
    sha = git.resolve(rev)
    cache = git.cache if git.cache is not None and git.cache.enabled else None
    key = cache_key("eras", sha, *(repr(e) for e in envs))
    if cache is not None:
        found = cache.get("eras", key, tuple[Environment, ...])
        if found is not None:
            return list(found)
    incomplete = git.incomplete
    # Each environment's env.py followed back through its renames: one cheap path-limited
    # walk each (a pattern such as **/env.py would make git diff every whole tree).
    renames = sorted(
        (commit.committed_at, fc.old_path, fc.path, commit.parents[0])
        for env in envs
        for commit in git.log(sha, paths=[_env_py(env)], first_parent=True, follow=True)
        if commit.parents
        for fc in commit.files
        if fc.status is ChangeStatus.RENAMED and fc.old_path
        if posixpath.dirname(fc.old_path) != posixpath.dirname(fc.path)
    )
    moves = [(posixpath.dirname(old), posixpath.dirname(new)) for _at, old, new, _c in renames]
    points = dict.fromkeys(parent for *_move, parent in renames)
    result = {env.name: env for env in envs}
    by_location = {env.script_location: env.name for env in envs}
    for point in points:
        files = git.tree(point)
        read, _resolver = tree_reader(git, files)
        for old in discover_environments(files, read, diag=Diagnostics()):
            home = by_location.get(_moved(old.script_location, moves), old.name)
            known = result.get(home)
            if known is None:
                result[home] = dataclasses.replace(old, name=home)
            elif not set(old.versions_dirs) <= set(known.versions_dirs):
                dirs = tuple(dict.fromkeys((*known.versions_dirs, *old.versions_dirs)))
                result[home] = dataclasses.replace(known, versions_dirs=dirs)
    eras = list(result.values())
    if cache is not None and git.incomplete == incomplete:
        cache.put("eras", key, tuple(eras), tuple[Environment, ...])
    return eras


def load_history(
    git: GitSource,
    rev: str,
    envs: Sequence[Environment],
    diag: Diagnostics,
    states: Sequence[GraphState] = (),
) -> GraphHistory:
    """The graph over the first-parent history of ``rev``: one path-limited ``git log``,
    each distinct blob parsed once, merged changes attributed to the commits that made them
    (one more ``git log`` and one ``rev-list`` for all merges together).

    Names imported from other modules are resolved with the modules as they are at ``rev``.
    ``states`` (``load_graphs`` at ``rev``) holds files already parsed the same way. The
    environments are those of every era (``history_environments``).
    """
    sha = git.resolve(rev)
    envs = history_environments(git, sha, envs)
    dirs = sorted({d for env in envs for d in env.versions_dirs})
    commits = list(reversed(git.log(sha, paths=dirs, first_parent=True)))
    # git reads the branches while the first-parent versions are parsed
    side = git.in_background(git.merged_changes, sha, dirs)
    tree = git.tree(sha)
    commits = _without_links(commits, tree)
    _read, resolver = tree_reader(git, tree)
    versions = _VersionReader(git, envs, resolver, states)
    versions.parse(commits)
    merged = side.result()
    versions.parse(record for group in merged.values() for record in group)
    return walk(envs, commits, versions.load, brought=_brought_from(merged))


def _without_links(commits: list[CommitRecord], tree: Sequence[TreeEntry]) -> list[CommitRecord]:
    """The commits without their changes to symbolic links: a link in a versions folder is
    no migration (``load_graphs`` warns about them)."""
    links = {entry.path for entry in tree if entry.mode == SYMLINK_MODE}
    if not links:
        return commits
    return [
        dataclasses.replace(c, files=tuple(f for f in c.files if f.path not in links))
        for c in commits
    ]


class _VersionReader:
    """The migration versions of a history, each blob read and parsed once: the files
    already parsed at ``rev`` are reused, and each batch of blobs is read in one go."""

    def __init__(
        self,
        git: GitSource,
        envs: Sequence[Environment],
        resolver: ConstantResolver,
        states: Sequence[GraphState],
    ) -> None:
        self._git = git
        self._envs = envs
        self._resolver = resolver
        self._memo = {m.blob: m for state in states for m in state.migrations if m.blob}
        self._contents: dict[str, bytes] = {}

    def _wanted(self, records: Iterable[CommitRecord]) -> list[tuple[str, str]]:
        """``(path, blob)`` of every migration version the commits name, not yet parsed."""
        return [
            (fc.path, blob)
            for record in records
            for fc in record.files
            if any(env.owns(fc.path) or env.owns(fc.old_path or "") for env in self._envs)
            for blob in (fc.old_blob, fc.new_blob)
            if blob and blob not in self._memo
        ]

    def parse(self, records: Iterable[CommitRecord]) -> None:
        """Parse every version the commits name, reading their blobs together first."""
        wanted = self._wanted(records)
        self._contents.update(self._git.read_blobs(blob for _path, blob in wanted))
        for path, blob in wanted:
            self.load(path, blob)

    def load(self, path: str, blob: str) -> MigrationFile:
        """The version ``blob`` of the migration at ``path``."""
        known = self._memo.get(blob)
        if known is None:
            contents = self._contents
            data = contents.pop(blob) if blob in contents else self._git.read_blob(blob)
            known = read_migration(
                path, data if data is not None else b"", blob=blob, constants=self._resolver
            )
            if data is None:
                known = dataclasses.replace(known, warnings=(*known.warnings, "git object missing"))
            self._memo[blob] = known
        return known if known.path == path else dataclasses.replace(known, path=path)


def _brought_from(merged: Mapping[str, Sequence[CommitRecord]]) -> Brought:
    """What ``walk`` asks of a merge: the commits it brought (``merged``, newest first)
    that changed a path, renames from it included, oldest first."""

    def brought(merge: CommitRecord, path: str) -> list[tuple[str, FileChange]]:
        found = [
            (record.sha, fc)
            for record in merged.get(merge.sha, ())
            for fc in record.files
            if fc.path == path or (fc.status is ChangeStatus.RENAMED and fc.old_path == path)
        ]
        return found[::-1]

    return brought


# -- analyze ----------------------------------------------------------------------------------
def open_git(cfg: AnalyzeConfig, diag: Diagnostics) -> GitSource:
    """The repository, with its mining cache unless ``--no-cache``."""
    cache = MiningCache.for_repo(cfg.repo, cfg.cache_dir, diag) if cfg.use_cache else None
    return GitSource(cfg.repo, diag, cache=cache)


_Graphs = tuple[tuple[Environment, ...], tuple[GraphState, ...], tuple[str, ...]]


def _cached_graphs(
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


def _cached_history(
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


def _probe(db_url: str) -> DatabaseState:
    # SQLAlchemy is imported only when a database is given: it costs a fifth of a second.
    from forensics.sources.database import probe

    return probe(db_url)


def _silent(_message: str) -> None:
    return None


def run(
    cfg: AnalyzeConfig, diag: Diagnostics | None = None, progress: Progress = _silent
) -> Report:
    """Every stage, in order, into one immutable ``Report``. ``cfg.now`` is the only clock.

    ``load`` reads the sources, ``prepare`` analyses them (asking git only about what the
    analysis points at), ``detect`` runs the rules, ``gather`` reads the evidence the
    findings point at (the last git I/O), ``compose`` assembles the report and ``seal``
    cleans and redacts it for the renderers."""
    diag = diag or Diagnostics()
    git = open_git(cfg, diag)
    try:
        loaded = load(cfg, git, diag, progress)
        context = prepare(cfg, git, loaded, diag, progress)
        progress("running the rules")
        findings, hidden = detect(cfg, context)
        progress("composing the report")
        evidence = gather(cfg, git, context, findings, diag, progress)
        return seal(compose(cfg, context, findings, hidden, evidence))
    finally:
        git.close()


# -- load: the sources ------------------------------------------------------------------------
@dataclass(frozen=True)
class Loaded:
    """What the sources said, read once: the graphs at the revision and over history, the
    commits that matter, the deploys, production's database and health endpoint.
    ``commits`` grows while suspects are ranked (the commits of each failure window)."""

    sha: str
    until: datetime
    states: tuple[GraphState, ...]
    history: GraphHistory
    window: tuple[CommitRecord, ...]
    commits: dict[str, CommitRecord]
    deploys: tuple[Deploy, ...]
    database: DatabaseState | None
    health: HealthCheck | None

    def commit_time(self, commit: str) -> datetime | None:
        record = self.commits.get(commit)
        return record.committed_at if record else None


def load(
    cfg: AnalyzeConfig, git: GitSource, diag: Diagnostics, progress: Progress = _silent
) -> Loaded:
    """Sources: the migration graphs, the commits, the deploys, the database and the
    health endpoint."""
    sha = git.resolve(cfg.rev)
    git.warn_if_shallow()
    until = cfg.until or cfg.now
    progress("reading the migration graph")
    envs, states, touching = _read_graphs(cfg, git, sha, diag)
    progress("walking the migration graph over history")
    history = _cached_history(git, sha, envs, diag, states)
    progress("mining the commits of the window")
    window = _window(cfg, git, sha, until)
    commits = {c.sha: c for future in touching for c in future.result()}
    commits.update((c.sha, c) for c in window)
    progress("reading deploys")
    deploys = load_deploys(cfg.deploys, git, sha, diag) if cfg.deploys else []
    # --until is "now" for the analysis: later deploys had not happened yet.
    deploys = [d for d in deploys if d.created_at <= until]
    missing = {d.commit for d in deploys if d.commit and d.commit not in commits} | {sha}
    commits.update((c.sha, c) for c in git.records(missing - commits.keys()))
    return Loaded(
        sha=sha,
        until=until,
        states=tuple(states),
        history=history,
        window=tuple(window),
        commits=commits,
        deploys=tuple(deploys),
        database=_probe(cfg.db_url) if cfg.db_url else None,
        health=check(cfg.health_url) if cfg.health_url else None,
    )


def _read_graphs(
    cfg: AnalyzeConfig, git: GitSource, sha: str, diag: Diagnostics
) -> tuple[list[Environment], list[GraphState], list[Future[list[CommitRecord]]]]:
    """The graphs at ``sha``, and git already reading every commit that touched a versions
    folder, branch commits included (bursts and attribution need them): the questions the
    graph history asks too, read while the graph is built and answered once."""

    def walk_early(envs: Sequence[Environment]) -> None:
        # Most histories never moved their versions folders: git walks today's folders
        # (and the whole commit graph) while the files are parsed and the eras worked out;
        # the same questions asked below are answered by these walks.
        today = sorted({d for env in envs for d in env.versions_dirs})
        git.in_background(git.log, sha, paths=today, first_parent=True)
        git.in_background(git.branch_commits, sha, today)
        for env in envs:  # the renames of each env.py, which give the eras
            git.in_background(git.log, sha, paths=[_env_py(env)], first_parent=True, follow=True)

    envs, states = _cached_graphs(git, sha, cfg.migrations, diag, walk_early)
    dirs = sorted({d for env in history_environments(git, sha, envs) for d in env.versions_dirs})
    touching = [
        git.in_background(git.log, sha, paths=dirs, first_parent=True),
        git.in_background(git.branch_commits, sha, dirs),
    ]
    return envs, states, touching


def _window(cfg: AnalyzeConfig, git: GitSource, sha: str, until: datetime) -> list[CommitRecord]:
    """The commits of the window, newest first."""
    # Without --until the window ends now: asking git for no end (and dropping commits dated
    # in the future here) keeps the query, and so its cache entry, the same from run to run.
    window = git.log(
        sha,
        since=cfg.since,
        until=cfg.until,
        first_parent=not cfg.all_commits,
        max_count=TIMELINE_LIMIT + 1,
    )
    return [c for c in window if c.committed_at <= until]


# -- prepare: the analysis --------------------------------------------------------------------
def prepare(
    cfg: AnalyzeConfig,
    git: GitSource,
    loaded: Loaded,
    diag: Diagnostics,
    progress: Progress = _silent,
) -> Context:
    """Analysis: everything the detectors look at. Asks git only about what the sources
    point at (the files of each deploy, the commits of each failure window)."""
    production, points = _production(cfg, git, loaded, diag)
    progress("ranking suspects")
    windows = _windows(cfg, git, loaded, points, diag, progress)
    return Context(
        rev=loaded.sha,
        until=loaded.until,
        since=cfg.since,
        thresholds=cfg.thresholds,
        states=loaded.states,
        history=loaded.history,
        commits=loaded.commits,
        window_commits=loaded.window,
        bursts=tuple(_bursts(cfg, loaded)),
        deploys=loaded.deploys,
        failure_windows=tuple(windows),
        production=production,
        applied=points,
    )


def _production(
    cfg: AnalyzeConfig, git: GitSource, loaded: Loaded, diag: Diagnostics
) -> tuple[Production, tuple[AppliedMigration, ...]]:
    """Production's revisions, and when (at which deploy's commit) each applied migration
    was applied."""
    history, states, deploys, database = (
        loaded.history,
        loaded.states,
        loaded.deploys,
        loaded.database,
    )
    production = production_revisions(
        lambda c: heads_of(point_as_of(history, c, loaded.commit_time(c))),
        database=database.revisions if database else None,
        database_url=database.url_redacted if database else None,
        flags=cfg.prod_revisions,
        deploys=deploys,
    )
    removed = [c.before for c in history.changes if c.kind is ChangeKind.DELETED and c.before]
    applied = applied_set(states, production.revisions, removed)
    blob_at = _deployed_blobs(git, loaded, applied)
    points = application_points(
        states, applied, deploys, blob_at, loaded.commit_time, history.changes
    )
    production = dataclasses.replace(
        production,
        applied=tuple(sorted(applied)),
        tables_expected=tables_expected(states, applied) if database else None,
        tables_present=database.tables if database else None,
        health=loaded.health,
    )
    if not deploys and production.source in ("flag", "database"):
        diag.warn(
            "no deploy history was given (--deploys), so the moment each migration was applied "
            "is unknown; findings about applied migrations carry lower confidence"
        )
    return production, points


def _deployed_blobs(
    git: GitSource, loaded: Loaded, applied: set[str]
) -> Callable[[str, str], str | None]:
    """The blob of a file at a deploy's commit. The files of every deploy that the applied
    analysis asks about (applied and removed revisions, under every path they had) are read
    in one git process, not one per pair."""
    history = loaded.history
    asked = applied | {c.revision for c in history.changes if c.kind is ChangeKind.DELETED}
    paths = {c.path for c in history.changes if c.revision in asked}
    paths |= {m.path for state in loaded.states for m in state.migrations if m.revision in applied}
    tips = [d.commit for d in successful(loaded.deploys) if d.commit]
    blobs = git.blobs_at((commit, path) for commit in tips for path in sorted(paths))

    def blob_at(commit: str, path: str) -> str | None:
        if (commit, path) not in blobs:
            blobs.update(git.blobs_at([(commit, path)]))
        return blobs[commit, path]

    return blob_at


def _windows(
    cfg: AnalyzeConfig,
    git: GitSource,
    loaded: Loaded,
    points: Sequence[AppliedMigration],
    diag: Diagnostics,
    progress: Progress,
) -> list[FailureWindow]:
    """The failure windows with their ranked suspects, reranked by what the failed deploys'
    logs say."""
    windows = _suspects(git, loaded.deploys, loaded.history, points, loaded.commits)
    log_specs = _log_specs(cfg)
    if log_specs and windows:
        progress("reading deploy logs")
        logs = load_logs(log_specs, _log_targets(windows, loaded.deploys), diag)
        windows = [
            dataclasses.replace(w, suspects=rerank(w, loaded.history))
            for w in window_causes(windows, logs)
        ]
    return windows


def _suspects(
    git: GitSource,
    deploys: Sequence[Deploy],
    history: GraphHistory,
    points: Sequence[AppliedMigration],
    commits: dict[str, CommitRecord],
) -> list[FailureWindow]:
    """Each failure window with its ranked suspects: the possible causes between the last
    good deploy's commit and the first failed deploy's commit (by ancestry), then the
    commits shipped after it, and SZZ blame from those later fixes."""
    windows = []
    for window in failure_windows(deploys):
        span = suspect_range(window, deploys)
        exclude = (span.good,) if span.good else ()
        causes: list[CommitRecord] = []
        later: list[CommitRecord] = []
        if span.cause_tip:
            limit = None if span.bounded else UNBOUNDED_SUSPECTS
            causes = git.log(span.cause_tip, exclude=exclude, max_count=limit)
        if span.later_tip and span.cause_tip:
            later = git.log(span.later_tip, exclude=(*exclude, span.cause_tip))
        for record in (*causes, *later):
            commits.setdefault(record.sha, record)
        blamed = _szz(git, history, later)
        suspects = rank_suspects(
            window, causes, history, points, later=later, bounded=span.bounded, blamed=blamed
        )
        windows.append(dataclasses.replace(window, suspects=suspects))
    return windows


def _szz(
    git: GitSource, history: GraphHistory, later: Sequence[CommitRecord]
) -> dict[str, list[tuple[str, str]]]:
    """SZZ blame from a window's later commits that changed migration files (the commits
    they brought, for merges), over those files only: the newest few, one blame each."""
    shas = {c.sha for c in later}
    fixes: dict[str, None] = {}
    paths: set[str] = set()
    for change in history.changes:
        if change.commit in shas:
            fixes.update(dict.fromkeys(change.authors or (change.commit,)))
            paths.add(change.path)
    if not fixes:
        return {}
    # Newest first: the commit that made the deploys pass again is the fix SZZ is about.
    return git.last_modified_lines(list(fixes)[::-1][:SZZ_FIXES], paths)


def _log_specs(cfg: AnalyzeConfig) -> tuple[str, ...]:
    """``--deploy-logs``, and the CI runs of ``--deploys github-actions:OWNER/REPO``, whose
    failed jobs' logs are their deploys' logs."""
    implied = []
    for spec in cfg.deploys:
        prefix, _colon, argument = spec.partition(":")
        if prefix.strip().lower() == "github-actions" and not is_file(argument):
            implied.append(f"github-actions:{argument}")
    return tuple(dict.fromkeys((*cfg.deploy_logs, *implied)))


def _log_targets(windows: Sequence[FailureWindow], deploys: Sequence[Deploy]) -> list[Deploy]:
    """The failed deploys whose logs are worth reading, a bounded number per window."""
    by_id = {d.id: d for d in deploys}
    half = LOGS_PER_WINDOW // 2
    wanted: dict[str, Deploy] = {}
    for window in windows:
        ids = window.deploys
        chosen = ids if len(ids) <= LOGS_PER_WINDOW else (*ids[:half], *ids[-half:])
        wanted.update((i, by_id[i]) for i in chosen if i in by_id)
    return list(wanted.values())


def _bursts(cfg: AnalyzeConfig, loaded: Loaded) -> list[Burst]:
    in_window = [
        c
        for c in loaded.history.changes
        if (cfg.since is None or c.at >= cfg.since) and c.at <= loaded.until
    ]
    return find_bursts(
        in_window,
        loaded.commits,
        min_commits=cfg.thresholds.burst_min_commits,
        max_gap=cfg.thresholds.burst_max_gap,
    )


# -- detect: the rules ------------------------------------------------------------------------
def detect(
    cfg: AnalyzeConfig, context: Context
) -> tuple[list[Finding], tuple[tuple[str, int], ...]]:
    """The findings a team wants to see, and how many each reason of the policy hid."""
    return apply_policy(detectors.run(context), cfg.policy)


# -- gather: the evidence the findings point at -----------------------------------------------
@dataclass(frozen=True)
class Evidence:
    """What the report shows beside the findings, read from git for them: the timeline, the
    fixes, the edits to applied migrations, the links, the delivery metrics. ``warnings``
    are the run's warnings as the report gives them (the metrics come after)."""

    commits: tuple[CommitRecord, ...]
    changes: tuple[MigrationChange, ...]
    remediations: tuple[Remediation, ...]
    edits: tuple[EditEvidence, ...]
    links: RemoteLinks | None
    warnings: tuple[str, ...]
    metrics: tuple[WeekMetrics, ...]


def gather(
    cfg: AnalyzeConfig,
    git: GitSource,
    context: Context,
    findings: Sequence[Finding],
    diag: Diagnostics,
    progress: Progress = _silent,
) -> Evidence:
    """The evidence of the findings: the last stage that asks git anything."""
    commits, changes = _timeline(context, findings, diag)
    fixes = _remediations(git, context, findings)
    edits = _edits(git, findings, context.applied, context.history)
    links = _links(cfg, git, diag)
    warnings = tuple(diag.warnings)
    progress("computing delivery metrics")
    return Evidence(
        commits=commits,
        changes=changes,
        remediations=fixes,
        edits=edits,
        links=links,
        warnings=warnings,
        metrics=_metrics(git, context, findings),
    )


def _timeline(
    context: Context, findings: Sequence[Finding], diag: Diagnostics
) -> tuple[tuple[CommitRecord, ...], tuple[MigrationChange, ...]]:
    """The commits the report lists, oldest first, and their changes to migrations: every
    commit of the window, or past ``TIMELINE_LIMIT`` only those that matter."""
    wanted = _referenced(context, findings)
    window = context.window_commits
    if len(window) <= TIMELINE_LIMIT:
        shown = {c.sha for c in window}
    else:
        shown = {
            sha
            for c in context.history.changes
            for sha in (c.commit, *c.authors)
            if context.in_window(c.at)
        }
        diag.warn(
            f"more than {TIMELINE_LIMIT} commits in the window: the timeline lists only the "
            f"{len(shown | wanted)} that touched migrations, were deployed or are evidence"
        )
    keep = wanted | shown
    commits = tuple(
        sorted(
            (context.commits[s] for s in keep if s in context.commits),
            key=lambda c: (c.committed_at, c.sha),
        )
    )
    changes = tuple(
        c for c in context.history.changes if c.commit in keep or any(a in keep for a in c.authors)
    )
    return commits, changes


def _referenced(context: Context, findings: Sequence[Finding]) -> set[str]:
    wanted = {sha for f in findings for sha in (*f.commits, *f.merges)}
    wanted |= {sha for b in context.bursts for sha in b.commits}
    wanted |= {d.commit for d in context.deploys if d.commit}
    wanted |= {s.commit for w in context.failure_windows for s in w.suspects}
    wanted |= {a.since_commit for a in context.applied if a.since_commit}
    wanted.add(context.rev)
    return wanted


def _remediations(
    git: GitSource, context: Context, findings: Sequence[Finding]
) -> tuple[Remediation, ...]:
    """How to fix each finding, checking that a file restored from a commit parses."""

    def parses_at(commit: str, path: str) -> bool:
        data = git.read_path(commit, path)
        return data is not None and parses(path, data)

    def restore_parses(commit: str, path: str) -> bool:
        # a file at a commit never changes: remembered, as a report can ask a hundred times
        if git.cache is None or not git.cache.enabled:
            return parses_at(commit, path)
        key = cache_key("parses", commit, path)
        return git.cache.memo("parses", key, bool, lambda: parses_at(commit, path))

    return remediations(
        findings,
        context.commits,
        context.applied,
        context.states,
        restore_parses=restore_parses,
        production=context.production.revisions,
    )


def _edits(
    git: GitSource,
    findings: Sequence[Finding],
    applied: Sequence[AppliedMigration],
    history: GraphHistory,
) -> tuple[EditEvidence, ...]:
    """What each edit to an applied migration that the report shows changed against the
    content production applied, read through PyDriller for those few commits only."""
    by_revision = {a.revision: a for a in applied}
    versions = {
        v.blob: v for c in history.changes for v in (c.before, c.after) if v is not None and v.blob
    }
    after = {
        (sha, c.path): c.after
        for c in history.changes
        for sha in dict.fromkeys((c.commit, *c.authors))
    }
    found = []
    for sha, path, revision in shown_edits(findings):
        point = by_revision.get(revision or "")
        against = point.since_commit if point is not None else None
        paths = [path, *((point.path, *point.earlier_paths) if point is not None else ())]
        detail = git.file_diff(against, sha, paths)
        if detail is None:
            continue
        applied_file = versions.get(point.content_blob or "") if point is not None else None
        found.append(evidence(sha, revision, against, detail, applied_file, after.get((sha, path))))
    return tuple(found)


def _links(cfg: AnalyzeConfig, git: GitSource, diag: Diagnostics) -> RemoteLinks | None:
    """Links to the repository's web pages: ``--link-base``, else ``origin`` when it is on
    GitHub or GitLab. Neither URL is ever printed: either may carry credentials."""
    if cfg.link_base:
        forge = Forge.GITLAB if "gitlab" in cfg.link_base.lower() else Forge.GITHUB
        links = remote_links(cfg.link_base, forge)
        if links is None:
            diag.warn(
                "--link-base is not the https URL of a repository (https://HOST/OWNER/REPO); "
                "the report has no links"
            )
        return links
    return remote_links(git.remote_url("origin"))


def _metrics(
    git: GitSource, context: Context, findings: Sequence[Finding]
) -> tuple[WeekMetrics, ...]:
    """The weekly delivery metrics, remembered for unchanged inputs: a warm run neither
    walks the deploys' commits again nor pays for pandas."""
    if git.cache is None or not git.cache.enabled:
        return _weekly(git, context, findings)
    key = cache_key(
        "metrics",
        context.until.isoformat(),
        [(d.id, d.commit, d.category.value, d.created_at.isoformat()) for d in context.deploys],
        [(w.start.isoformat(), w.end.isoformat(), w.open) for w in context.failure_windows],
        sorted(f.fingerprint for f in findings),
    )
    return git.cache.memo(
        "metrics", key, tuple[WeekMetrics, ...], lambda: _weekly(git, context, findings)
    )


def _weekly(
    git: GitSource, context: Context, findings: Sequence[Finding]
) -> tuple[WeekMetrics, ...]:
    """The weekly delivery metrics up to ``until``. Lead time needs, for each live deploy of
    the trend's weeks, the commits it was the first live deploy to contain. One
    ``rev-list`` gives the commits reachable from those deploys and not from the live deploy
    before them; walking that graph from each deploy in time order, past the commits an
    earlier deploy already reached, hands each commit to its first deploy. The first live
    deploy of a history has nothing before it: its commits get no lead time."""
    until = context.until
    start = datetime.fromisoformat(f"{trend_weeks(until)[0]}-1").replace(tzinfo=UTC)
    live = [d for d in successful(context.deploys) if d.commit and d.created_at <= until]
    before = [d for d in live if d.created_at < start]
    recent = [d for d in live if d.created_at >= start]
    graph = git.commit_graph(
        (d.commit or "" for d in recent), exclude=[before[-1].commit or ""] if before else []
    )
    deployed: dict[str, list[tuple[str, datetime]]] = {}
    seen: set[str] = set()
    for index, deploy in enumerate(recent):
        reached: list[tuple[str, datetime]] = []
        stack = [deploy.commit or ""]
        while stack:
            sha = stack.pop()
            if sha in seen or sha not in graph:
                continue
            seen.add(sha)
            at, parents = graph[sha]
            reached.append((sha, at))
            stack.extend(parents)
        if before or index:
            deployed[deploy.id] = reached
    times = {sha: c.committed_at for sha, c in context.commits.items()}
    return weekly_metrics(
        until=until,
        deploys=context.deploys,
        windows=context.failure_windows,
        deployed=deployed,
        findings=findings,
        commit_times=times,
    )


# -- compose: the report ----------------------------------------------------------------------
def compose(
    cfg: AnalyzeConfig,
    context: Context,
    findings: Sequence[Finding],
    hidden: tuple[tuple[str, int], ...],
    evidence: Evidence,
) -> Report:
    """The report, assembled from what the stages before found: no I/O."""
    states = context.states
    envs = [state.environment for state in states]
    fallback = next((e.config or posixpath.join(e.script_location, "env.py") for e in envs), None)
    report = Report(
        generated_at=cfg.now,
        repo_path=str(cfg.repo),
        rev=context.rev,
        since=cfg.since,
        until=context.until,
        environments=tuple(_summary(state, context, findings) for state in states),
        production=context.production,
        findings=tuple(findings),
        graph_events=tuple(events_between(context.history.events, cfg.since, context.until)),
        bursts=context.bursts,
        deploys=context.deploys,
        failure_windows=context.failure_windows,
        commits=evidence.commits,
        migration_changes=evidence.changes,
        remediations=evidence.remediations,
        head=context.commits.get(context.rev),
        files_examined=tuple(sorted({m.path for state in states for m in state.migrations})),
        warnings=evidence.warnings,
        rules=tuple(
            RuleInfo(r.id, r.name, r.title, r.explanation, r.severity)
            for r in detectors.all_rules()
        ),
        edits=evidence.edits,
        locations=locations(
            findings, states, context.history.changes, context.failure_windows, fallback
        ),
        links=evidence.links,
        metrics=evidence.metrics,
    )
    if hidden:
        report = dataclasses.replace(report, suppressed=hidden)
    return dataclasses.replace(report, incidents=build_incidents(report))


def _summary(
    state: GraphState, context: Context, findings: Sequence[Finding]
) -> EnvironmentSummary:
    env = state.environment
    mine = [f for f in findings if f.environment in (None, env.name)]
    modified = {f.revision for f in mine if f.rule in CHANGED_APPLIED and f.revision}
    broken = {p.revision for p in state.problems if p.revision and p.severity >= Severity.HIGH}
    production = set(context.production.revisions)
    focus = modified | broken | {f.revision for f in mine if f.revision}
    nodes = chain_nodes(
        state,
        applied=set(context.production.applied),
        modified=modified,
        production=production,
        broken=broken,
        focus=focus,
    )
    return EnvironmentSummary(
        name=env.name,
        versions_dirs=env.versions_dirs,
        revision_count=len(state.by_revision()),
        heads=state.heads,
        bases=state.bases,
        chain=nodes,
        docstring_mismatches=tuple(
            (m.path, detail)
            for m in sorted(state.migrations, key=lambda m: m.path)
            for detail in m.docstring_mismatches
        ),
    )


def seal(report: Report) -> Report:
    """The report as the renderers get it. Sources clean what they read; this catches the
    rest (a revision id written as "\\udc8f" in a migration's string literal, a path from the
    command line), so that the store and every renderer get valid Unicode. Then the one
    redaction pass: every string a renderer sees, whichever source it came from (an API's
    echo, a commit message, a URL in a warning)."""
    return map_text(report, _clean_and_redact)


def _clean_and_redact(text: str) -> str:
    return redact(clean(text))
