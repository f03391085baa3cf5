"""The prepare stage: the loaded sources analysed into the detectors' ``Context`` (production's
revisions and when each migration was applied, the failure windows with their ranked
suspects and the causes their deploy logs give, the bursts)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

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
from forensics.analysis.failures import rerank, window_causes
from forensics.analysis.windows import failure_windows, rank_suspects, suspect_range
from forensics.config import AnalyzeConfig
from forensics.detectors.base import Context
from forensics.errors import Diagnostics
from forensics.model.commits import CommitRecord
from forensics.model.deploys import AppliedMigration, Deploy, FailureWindow
from forensics.model.migrations import ChangeKind, GraphHistory
from forensics.model.report import Burst, Production
from forensics.pipeline.loading import Loaded, Progress, silent
from forensics.sources.deploy_logs import load_logs
from forensics.sources.git import GitSource
from forensics.sources.github_actions import is_file

# The failed deploys of a window whose logs are read: the first and the last of a long run
# say how it started and how it went on; the middle repeats them.
LOGS_PER_WINDOW = 30
# Without a known good deploy a window's cause cannot be bounded: the commits just before
# its first failure are ranked, older ones are not looked at.
UNBOUNDED_SUSPECTS = 50
# The later commits of a window whose lines SZZ blames: each costs a patch and a blame.
SZZ_FIXES = 10


def prepare(
    cfg: AnalyzeConfig,
    git: GitSource,
    loaded: Loaded,
    diag: Diagnostics,
    progress: Progress = silent,
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
