"""Wires the stages: sources -> analysis -> detectors -> report.

Everything is read from git objects at the analysed revision, never from the working tree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from forensics import detectors
from forensics.analysis.applied import (
    application_points,
    applied_set,
    heads_of,
    point_as_of,
    production_revisions,
    tables_expected,
)
from forensics.analysis.bursts import find_bursts
from forensics.analysis.chain import chain_nodes
from forensics.analysis.failures import rerank, window_causes
from forensics.analysis.graph import build_state
from forensics.analysis.graph_history import events_between, walk
from forensics.analysis.remediation import remediations
from forensics.analysis.windows import candidate_range, failure_windows, rank_suspects
from forensics.config import AnalyzeConfig, apply_policy
from forensics.detectors.base import Context
from forensics.errors import Diagnostics, InputError, log, redact
from forensics.model.commits import CommitRecord
from forensics.model.deploys import AppliedMigration, Deploy, FailureWindow
from forensics.model.findings import Finding, Severity
from forensics.model.migrations import (
    ChangeKind,
    Environment,
    GraphHistory,
    GraphState,
    MigrationFile,
    SourceDialect,
)
from forensics.model.report import EnvironmentSummary, Report, RuleInfo
from forensics.model.text import clean_tree, map_text
from forensics.sources.alembic_files import ConstantResolver, read_migration
from forensics.sources.cache import MiningCache, cache_key
from forensics.sources.deploy_logs import load_logs
from forensics.sources.deploys import load_deploys
from forensics.sources.environments import (
    SYMLINK_MODE,
    discover_environments,
    migration_paths,
)
from forensics.sources.git import GitSource, TreeEntry
from forensics.sources.github_actions import is_file
from forensics.sources.health import check

if TYPE_CHECKING:
    from forensics.sources.database import DatabaseState

Progress = Callable[[str], None]

# Above this many commits in the window, the report lists only the commits that matter to
# migrations, deploys and findings: a timeline of thousands of rows helps nobody.
TIMELINE_LIMIT = 500
# The failed deploys of a window whose logs are read: the first and the last of a long run
# say how it started and how it went on; the middle repeats them.
LOGS_PER_WINDOW = 30


def _reader(
    git: GitSource, files: Sequence[TreeEntry]
) -> tuple[Callable[[str], bytes | None], ConstantResolver]:
    """``read(path)`` over the tree ``files`` (git objects), and the constant resolver."""
    blobs = {f.path: f.blob for f in files}

    def read(path: str) -> bytes | None:
        blob = blobs.get(path)
        return git.read_blob(blob) if blob else None

    return read, ConstantResolver([f.path for f in files if f.path.endswith(".py")], read)


def load_graphs(
    git: GitSource, rev: str, migrations: Sequence[str], diag: Diagnostics
) -> tuple[list[Environment], list[GraphState]]:
    """The Alembic environments at ``rev`` and the graph of each. Raises ``InputError`` when
    there is none; warns (and carries on) about empty versions folders and odd files."""
    sha = git.resolve(rev)
    files = git.tree(sha)
    read, resolver = _reader(git, files)
    envs = discover_environments(files, read, migrations, diag=diag)
    if not envs:
        raise InputError(
            f"no Alembic environment found at {rev}: pass --migrations DIR with the folder "
            "that holds the migration files (or its versions/ folder)"
        )
    states = []
    for env in envs:
        entries = migration_paths(env, files, diag)
        if not entries:
            diag.warn(
                f"environment {env.name}: versions folder {', '.join(env.versions_dirs)} holds "
                "no migration files at this revision"
            )
        parsed = []
        for entry in entries:
            data = git.read_blob(entry.blob)
            if data is None:
                continue
            migration = read_migration(entry.path, data, blob=entry.blob, constants=resolver)
            for warning in migration.warnings:
                diag.warn(f"{entry.path}: {warning}")
            parsed.append(migration)
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
    return envs, states


def note_python2(states: Sequence[GraphState]) -> None:
    """Says once per environment how many of its migrations are Python 2 source: they ran
    under Python 2, so they are read as such and are not unparseable."""
    for state in states:
        count = sum(m.dialect is SourceDialect.PYTHON2 for m in state.migrations)
        if count:
            noun = "migration is" if count == 1 else "migrations are"
            log.info("environment %s: %d %s Python 2 source", state.environment.name, count, noun)


def load_history(
    git: GitSource, rev: str, envs: Sequence[Environment], diag: Diagnostics
) -> GraphHistory:
    """The graph over the first-parent history of ``rev``: one path-limited ``git log``,
    each distinct blob parsed once, merged changes attributed to the commits that made them.

    Names imported from other modules are resolved with the modules as they are at ``rev``.
    """
    sha = git.resolve(rev)
    dirs = sorted({d for env in envs for d in env.versions_dirs})
    commits = list(reversed(git.log(sha, paths=dirs, first_parent=True)))
    tree = git.tree(sha)
    # Symbolic links in a versions folder are no migrations (load_graphs warns about them).
    links = {entry.path for entry in tree if entry.mode == SYMLINK_MODE}
    if links:
        commits = [
            dataclasses.replace(c, files=tuple(f for f in c.files if f.path not in links))
            for c in commits
        ]
    _read, resolver = _reader(git, tree)
    memo: dict[str, MigrationFile] = {}

    def load(path: str, blob: str) -> MigrationFile:
        known = memo.get(blob)
        if known is None:
            data = git.read_blob(blob)
            known = read_migration(
                path, data if data is not None else b"", blob=blob, constants=resolver
            )
            if data is None:
                known = dataclasses.replace(known, warnings=(*known.warnings, "git object missing"))
            memo[blob] = known
        return known if known.path == path else dataclasses.replace(known, path=path)

    def authors(commit: CommitRecord, path: str) -> tuple[tuple[str, ...], str | None]:
        shas = git.merge_attribution(commit, path)
        if not shas:
            return (commit.sha,), None
        return tuple(reversed(shas)), commit.sha

    return walk(envs, commits, load, authors=authors)


# -- analyze ----------------------------------------------------------------------------------
def open_git(cfg: AnalyzeConfig, diag: Diagnostics) -> GitSource:
    """The repository, with its mining cache unless ``--no-cache``."""
    cache = MiningCache.for_repo(cfg.repo, cfg.cache_dir, diag) if cfg.use_cache else None
    return GitSource(cfg.repo, diag, cache=cache)


def _cached_graphs(
    git: GitSource, sha: str, migrations: Sequence[str], diag: Diagnostics
) -> tuple[list[Environment], list[GraphState]]:
    """``load_graphs``, remembered per commit: a tree never changes under a SHA."""
    cache = git.cache
    key = cache_key("graphs", sha, *migrations)
    if cache is not None and cache.enabled:
        found = cache.get("graphs", key, tuple[tuple[Environment, ...], tuple[GraphState, ...]])
        if found is not None:
            note_python2(found[1])
            return list(found[0]), list(found[1])
    envs, states = load_graphs(git, sha, migrations, diag)
    if cache is not None and not diag.warnings:
        cache.put(
            "graphs",
            key,
            (tuple(envs), tuple(states)),
            tuple[tuple[Environment, ...], tuple[GraphState, ...]],
        )
    return envs, states


def _cached_history(
    git: GitSource, sha: str, envs: Sequence[Environment], diag: Diagnostics
) -> GraphHistory:
    cache = git.cache
    key = cache_key("history", sha, *(repr(e) for e in envs))
    if cache is not None and cache.enabled:
        found = cache.get("history", key, GraphHistory)
        if found is not None:
            return found
    before = len(diag.warnings)
    history = load_history(git, sha, envs, diag)
    if cache is not None and len(diag.warnings) == before and not git.is_shallow:
        cache.put("history", key, history, GraphHistory)
    return history


def _probe(db_url: str) -> DatabaseState:
    # SQLAlchemy is imported only when a database is given: it costs a fifth of a second.
    from forensics.sources.database import probe

    return probe(db_url)


def _silent(_message: str) -> None:
    return None


def run(
    cfg: AnalyzeConfig, diag: Diagnostics | None = None, progress: Progress = _silent
) -> Report:
    """Every stage, in order, into one immutable ``Report``. ``cfg.now`` is the only clock."""
    diag = diag or Diagnostics()
    git = open_git(cfg, diag)
    try:
        context = prepare(cfg, git, diag, progress)
        progress("running the rules")
        findings, hidden = apply_policy(detectors.run(context), cfg.policy)
        progress("composing the report")
        report = _compose(cfg, git, context, findings, diag)
        if hidden:
            report = dataclasses.replace(report, suppressed=hidden)
        # Sources clean what they read; this catches the rest (a revision id written as
        # "\udc8f" in a migration's string literal, a path from the command line), so that
        # the store and every renderer get valid Unicode. Then the one redaction pass:
        # every string a renderer sees, whichever source it came from (an API's echo, a
        # commit message, a URL in a warning).
        return map_text(clean_tree(report), redact)
    finally:
        git.close()


def prepare(
    cfg: AnalyzeConfig, git: GitSource, diag: Diagnostics, progress: Progress = _silent
) -> Context:
    """Sources and analysis: everything the detectors look at, read once."""
    sha = git.resolve(cfg.rev)
    git.warn_if_shallow()
    until = cfg.until or cfg.now
    progress("reading the migration graph")
    envs, states = _cached_graphs(git, sha, cfg.migrations, diag)
    # Every commit that touched a versions folder, branch commits included (bursts and
    # attribution need them), read by git while the graph history is built.
    dirs = sorted({d for env in envs for d in env.versions_dirs})
    touching = git.log_in_background(sha, paths=dirs, first_parent=False)
    progress("walking the migration graph over history")
    history = _cached_history(git, sha, envs, diag)
    progress("mining the commits of the window")
    # Without --until the window ends now: asking git for no end (and dropping commits dated
    # in the future here) keeps the query, and so its cache entry, the same from run to run.
    window = git.log(
        sha,
        since=cfg.since,
        until=cfg.until,
        first_parent=not cfg.all_commits,
        max_count=TIMELINE_LIMIT + 1,
    )
    window = [c for c in window if c.committed_at <= until]
    commits = {c.sha: c for c in touching.result()}
    commits.update((c.sha, c) for c in window)

    def commit_time(commit: str) -> datetime | None:
        record = commits.get(commit)
        return record.committed_at if record else None

    progress("reading deploys")
    deploys = load_deploys(cfg.deploys, git, sha, diag) if cfg.deploys else []
    # --until is "now" for the analysis: later deploys had not happened yet.
    deploys = [d for d in deploys if d.created_at <= until]
    missing = {d.commit for d in deploys if d.commit and d.commit not in commits} | {sha}
    commits.update((c.sha, c) for c in git.records(missing - commits.keys()))
    database = _probe(cfg.db_url) if cfg.db_url else None
    production = production_revisions(
        lambda c: heads_of(point_as_of(history, c, commit_time(c))),
        database=database.revisions if database else None,
        database_url=database.url_redacted if database else None,
        flags=cfg.prod_revisions,
        deploys=deploys,
    )
    removed = [c.before for c in history.changes if c.kind is ChangeKind.DELETED and c.before]
    applied = applied_set(states, production.revisions, removed)

    def blob_at(commit: str, path: str) -> str | None:
        entries = git.tree(commit, [path])
        return entries[0].blob if entries else None

    points = application_points(states, applied, deploys, blob_at, commit_time, history.changes)
    production = dataclasses.replace(
        production,
        applied=tuple(sorted(applied)),
        tables_expected=tables_expected(states, applied) if database else None,
        tables_present=database.tables if database else None,
        health=check(cfg.health_url) if cfg.health_url else None,
    )
    if not deploys and production.source in ("flag", "database"):
        diag.warn(
            "no deploy history was given (--deploys), so the moment each migration was applied "
            "is unknown; findings about applied migrations carry lower confidence"
        )
    progress("ranking suspects")
    windows = _suspects(git, deploys, history, points, commits)
    log_specs = _log_specs(cfg)
    if log_specs and windows:
        progress("reading deploy logs")
        logs = load_logs(log_specs, _log_targets(windows, deploys), diag)
        windows = [
            dataclasses.replace(w, suspects=rerank(w, history))
            for w in window_causes(windows, logs)
        ]
    in_window = [
        c for c in history.changes if (cfg.since is None or c.at >= cfg.since) and c.at <= until
    ]
    bursts = find_bursts(
        in_window,
        commits,
        min_commits=cfg.thresholds.burst_min_commits,
        max_gap=cfg.thresholds.burst_max_gap,
    )
    context = Context(
        rev=sha,
        now=cfg.now,
        until=until,
        since=cfg.since,
        thresholds=cfg.thresholds,
        states=tuple(states),
        history=history,
        commits=commits,
        window_commits=tuple(window),
        bursts=tuple(bursts),
        deploys=tuple(deploys),
        failure_windows=tuple(windows),
        production=production,
        applied=points,
        deploy_evidence=bool(deploys),
    )
    return context


def _suspects(
    git: GitSource,
    deploys: Sequence[Deploy],
    history: GraphHistory,
    points: Sequence[AppliedMigration],
    commits: dict[str, CommitRecord],
) -> list[FailureWindow]:
    """Each failure window with its ranked suspects: the commits between the last good
    deploy and the last failed one."""
    windows = []
    for window in failure_windows(deploys):
        tip, exclude = candidate_range(window, deploys)
        candidates = git.log(tip, exclude=exclude) if tip else []
        for record in candidates:
            commits.setdefault(record.sha, record)
        suspects = rank_suspects(window, candidates, history, points)
        windows.append(dataclasses.replace(window, suspects=suspects))
    return windows


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


def _referenced(context: Context, findings: Sequence[Finding]) -> set[str]:
    wanted = {sha for f in findings for sha in (*f.commits, *f.merges)}
    wanted |= {sha for b in context.bursts for sha in b.commits}
    wanted |= {d.commit for d in context.deploys if d.commit}
    wanted |= {s.commit for w in context.failure_windows for s in w.suspects}
    wanted |= {a.since_commit for a in context.applied if a.since_commit}
    wanted.add(context.rev)
    return wanted


def _compose(
    cfg: AnalyzeConfig,
    git: GitSource,
    context: Context,
    findings: Sequence[Finding],
    diag: Diagnostics,
) -> Report:
    states = context.states
    history = context.history
    wanted = _referenced(context, findings)
    migration_commits = {
        sha for c in history.changes for sha in (c.commit, *c.authors) if context.in_window(c.at)
    }
    window = context.window_commits
    if len(window) <= TIMELINE_LIMIT:
        shown = {c.sha for c in window}
    else:
        shown = migration_commits
        diag.warn(
            f"more than {TIMELINE_LIMIT} commits in the window: the timeline lists only the "
            f"{len(shown | wanted)} that touched migrations, were deployed or are evidence"
        )
    keep = wanted | shown
    report_commits = tuple(
        sorted(
            (context.commits[s] for s in keep if s in context.commits),
            key=lambda c: (c.committed_at, c.sha),
        )
    )
    changes = tuple(
        c for c in history.changes if c.commit in keep or any(a in keep for a in c.authors)
    )

    def restore_parses(commit: str, path: str) -> bool:
        data = git.read_path(commit, path)
        return data is not None and read_migration(path, data).parses

    fixes = remediations(
        findings,
        context.commits,
        context.applied,
        states,
        restore_parses=restore_parses,
        production=context.production.revisions,
    )
    summaries = tuple(_summary(state, context, findings) for state in states)
    events = tuple(events_between(history.events, cfg.since, context.until))
    examined = tuple(sorted({m.path for state in states for m in state.migrations}))
    return Report(
        generated_at=cfg.now,
        repo_path=str(cfg.repo),
        rev=context.rev,
        since=cfg.since,
        until=context.until,
        environments=summaries,
        production=context.production,
        findings=tuple(findings),
        graph_events=events,
        bursts=context.bursts,
        deploys=context.deploys,
        failure_windows=context.failure_windows,
        commits=report_commits,
        migration_changes=changes,
        remediations=fixes,
        head=context.commits.get(context.rev),
        files_examined=examined,
        warnings=tuple(diag.warnings),
        rules=tuple(
            RuleInfo(r.id, r.name, r.summary, r.explanation, r.severity)
            for r in detectors.all_rules()
        ),
    )


def _summary(
    state: GraphState, context: Context, findings: Sequence[Finding]
) -> EnvironmentSummary:
    env = state.environment
    mine = [f for f in findings if f.environment in (None, env.name)]
    modified = {f.revision for f in mine if f.rule in ("FX201", "FX202", "FX203") and f.revision}
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
