"""The library API: what the commands do, as functions that return model objects.

Used as a library, forensics writes nothing unless asked: the mining cache is used only
when ``cache_dir`` is given (the command line keeps it in the repository by default),
``audit`` writes only to the store it is given, and ``guard`` only checks (``write_lock``
writes the lock file). Rendering is the caller's choice:
``OutputFormat.JSON.render(report)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from forensics import pipeline
from forensics.analysis.graph_history import events_between
from forensics.config import AnalyzeConfig, Policy, parse_when
from forensics.errors import Diagnostics, UsageError
from forensics.guarding import check_change, write_lock_file
from forensics.model.guard import GuardMode, GuardResult
from forensics.model.migrations import Environment, GraphEvent, GraphHistory, GraphState
from forensics.model.report import Report
from forensics.sources.git import GitSource

When = datetime | str | None


@dataclass(frozen=True)
class GraphReport:
    """``dag``: the Alembic environments at ``rev`` (a full SHA) and the graph of each."""

    rev: str
    environments: tuple[Environment, ...]
    states: tuple[GraphState, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistoryReport:
    """``history``: the graph over the first-parent history of ``rev``, and the events
    (problems opened and resolved) between ``since`` and ``until``."""

    rev: str
    history: GraphHistory
    events: tuple[GraphEvent, ...]
    warnings: tuple[str, ...] = ()


def _when(value: When, now: datetime, option: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_when(value, now, option)


def analyze(
    repo: str | Path,
    *,
    rev: str = "HEAD",
    since: When = None,
    until: When = None,
    migrations: Sequence[str] = (),
    deploys: Sequence[str] = (),
    prod_revisions: Sequence[str] = (),
    db_url: str | None = None,
    health_url: str | None = None,
    all_commits: bool = False,
    policy: Policy | None = None,
    deploy_logs: Sequence[str] = (),
    cache_dir: str | Path | None = None,
    now: datetime | None = None,
    link_base: str | None = None,
) -> Report:
    """The incident report of ``forensics analyze``. ``since`` and ``until`` are datetimes
    or ``WHEN`` strings (``2025-11-13``, ``7d``); ``now`` defaults to the clock;
    ``link_base`` is ``--link-base``."""
    now = now or datetime.now(UTC)
    end = _when(until, now, "--until")
    cfg = AnalyzeConfig(
        repo=Path(repo),
        now=now,
        rev=rev,
        since=_when(since, end or now, "--since"),
        until=end,
        migrations=tuple(migrations),
        deploys=tuple(deploys),
        deploy_logs=tuple(deploy_logs),
        prod_revisions=tuple(prod_revisions),
        db_url=db_url,
        health_url=health_url,
        all_commits=all_commits,
        cache_dir=Path(cache_dir) if cache_dir is not None else None,
        use_cache=cache_dir is not None,
        policy=policy or Policy(),
        link_base=link_base,
    )
    return pipeline.run(cfg, Diagnostics())


def audit(
    repo: str | Path,
    *,
    store: str,
    since: When = "7d",
    now: datetime | None = None,
    **options: Any,
) -> Report:
    """The weekly audit: ``analyze`` over ``since`` (7 days by default), recorded in the
    findings ``store`` (a SQLAlchemy URL or a SQLite path) and compared with the previous
    audit there. Other keywords are those of ``analyze``."""
    from forensics.store import FindingsStore, audit_id_for

    now = now or datetime.now(UTC)
    report = analyze(repo, since=since, now=now, **options)
    with FindingsStore.open(store) as findings:
        diff = findings.record_audit(
            str(Path(repo).resolve()),
            audit_id_for(report.until),
            report.rev,
            now,
            report.findings,
            metrics=report.metrics,
            status=report.status,
        )
    return dataclasses.replace(report, audit=diff, title="Weekly migration audit")


def dag(repo: str | Path, *, rev: str = "HEAD", migrations: Sequence[str] = ()) -> GraphReport:
    """The migration graph at ``rev``, as ``forensics dag`` shows it."""
    diag = Diagnostics()
    git = GitSource(Path(repo), diag)
    try:
        sha = git.resolve(rev)
        envs, states = pipeline.load_graphs(git, sha, migrations, diag)
    finally:
        git.close()
    return GraphReport(sha, tuple(envs), tuple(states), tuple(diag.warnings))


def history(
    repo: str | Path,
    *,
    rev: str = "HEAD",
    migrations: Sequence[str] = (),
    since: When = None,
    until: When = None,
    now: datetime | None = None,
) -> HistoryReport:
    """When the graph broke and which commit repaired it, as ``forensics history`` shows."""
    now = now or datetime.now(UTC)
    start, end = _when(since, now, "--since"), _when(until, now, "--until")
    if start and end and end < start:
        raise UsageError("--until is before --since: swap them or widen the window")
    diag = Diagnostics()
    git = GitSource(Path(repo), diag)
    try:
        sha = git.resolve(rev)
        envs, states = pipeline.load_graphs(git, sha, migrations, diag)
        graph_history = pipeline.load_history(git, sha, envs, diag, states)
    finally:
        git.close()
    events = tuple(events_between(graph_history.events, start, end))
    if start or end:
        points = tuple(
            p
            for p in graph_history.points
            if (start is None or p.at >= start) and (end is None or p.at <= end)
        )
        graph_history = dataclasses.replace(graph_history, points=points)
    return HistoryReport(sha, graph_history, events, tuple(diag.warnings))


def guard(
    repo: str | Path,
    *,
    mode: GuardMode = GuardMode.RANGE,
    base: str | None = None,
    rev: str = "HEAD",
    deploys: Sequence[str] = (),
    lock: str | Path | None = None,
    strict: bool = False,
) -> GuardResult:
    """What ``forensics guard`` checks: the change ``base..rev`` (``mode`` ``RANGE``; the
    default base is the merge-base with the upstream, else the parent of ``rev``) or the
    staged index against ``HEAD`` (``STAGED``). Migrations are applied per ``deploys`` (the
    ``--deploys`` sources) or the ``lock`` file. ``result.violations`` are the findings that
    fail the change, with the detectors' rules and wording (``result.exit_code`` is 1);
    ``strict`` counts cosmetic edits of applied migrations too."""
    mode = GuardMode(mode)  # a plain "staged" is accepted too
    if mode is GuardMode.WRITE_LOCK:
        raise UsageError("guard checks a change: call write_lock to write the lock file")
    if mode is GuardMode.STAGED and base:
        raise UsageError("--staged checks the index against HEAD: drop --base (or --staged)")
    diag = Diagnostics()
    git = GitSource(Path(repo), diag)
    try:
        lock_path = Path(lock) if lock is not None else None
        return check_change(git, mode, base, rev, deploys, lock_path, strict=strict, diag=diag)
    finally:
        git.close()


def write_lock(
    repo: str | Path,
    lock: str | Path,
    *,
    rev: str = "HEAD",
    deploys: Sequence[str] = (),
    force: bool = False,
) -> GuardResult:
    """``forensics guard --write-lock``: pin the migrations at ``rev`` (or, with ``deploys``,
    those the latest successful deploy applied) in the ``lock`` file. A locked revision
    that changed, moved or went away is refused (``result.violations``) unless ``force``."""
    diag = Diagnostics()
    git = GitSource(Path(repo), diag)
    try:
        return write_lock_file(git, rev, Path(lock), deploys=deploys, force=force, diag=diag)
    finally:
        git.close()
