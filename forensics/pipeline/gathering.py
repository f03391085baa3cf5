"""The gather stage: the evidence the findings point at, read from git into ``Evidence``
(the timeline, the fixes, the edits to applied migrations, the links, the delivery
metrics). The last stage that asks git anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from forensics.analysis.applied import successful
from forensics.analysis.evidence import evidence, shown_edits
from forensics.analysis.metrics import trend_weeks, weekly_metrics
from forensics.analysis.remediation import remediations
from forensics.config import AnalyzeConfig
from forensics.detectors.base import Context
from forensics.errors import Diagnostics
from forensics.model.commits import CommitRecord
from forensics.model.deploys import AppliedMigration
from forensics.model.evidence import EditEvidence
from forensics.model.findings import Finding
from forensics.model.links import Forge, RemoteLinks, remote_links
from forensics.model.metrics import WeekMetrics
from forensics.model.migrations import GraphHistory, MigrationChange
from forensics.model.report import Remediation
from forensics.pipeline.loading import TIMELINE_LIMIT, Progress, silent
from forensics.sources.alembic_files import parses
from forensics.sources.cache import cache_key
from forensics.sources.git import GitSource


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
    progress: Progress = silent,
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
