"""The final, immutable report: everything a renderer may see, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property

from forensics.model.commits import CommitRecord
from forensics.model.deploys import Deploy, FailureWindow
from forensics.model.evidence import EditEvidence, FindingLocation
from forensics.model.findings import Finding, Severity
from forensics.model.incidents import Incident, IncidentStatus
from forensics.model.links import RemoteLinks
from forensics.model.metrics import WeekMetrics
from forensics.model.migrations import GraphEvent, MigrationChange


@dataclass(frozen=True)
class Burst:
    """A session of commits on the same migration files with no long gap.

    ``commits`` are the non-merge commits that really changed the files, oldest first;
    ``merges`` the first-parent merge commits that brought any of them in. ``signals`` are
    the sentences that explain ``automation_score``.
    """

    commits: tuple[str, ...]
    start: datetime
    end: datetime
    authors: tuple[str, ...]
    paths: tuple[str, ...]
    median_gap_seconds: float
    longest_gap_seconds: float
    automation_score: float = 0.0
    signals: tuple[str, ...] = ()
    merges: tuple[str, ...] = ()


@dataclass(frozen=True)
class HealthCheck:
    """One GET of ``--health-url``. ``url`` has credentials removed."""

    url: str
    ok: bool
    status: int | None = None
    summary: str = ""
    error: str | None = None


class ProductionSource(StrEnum):
    """Where production's revisions were read, first that has them wins."""

    DATABASE = "database"
    FLAG = "flag"
    DEPLOY = "deploy"
    TAGS = "tags"
    UNKNOWN = "unknown"


class ChainMark(StrEnum):
    """An annotation of a node of the drawn migration chain."""

    PRODUCTION = "production"
    HEAD = "head"
    APPLIED = "applied"
    MODIFIED = "modified"
    BROKEN = "broken"
    BASE = "base"


@dataclass(frozen=True)
class Production:
    """What production runs and has applied, and where that knowledge came from."""

    revisions: tuple[str, ...] = ()
    source: ProductionSource = ProductionSource.UNKNOWN
    deploy: str | None = None
    commit: str | None = None
    applied: tuple[str, ...] = ()
    tables_expected: tuple[str, ...] | None = None
    tables_present: tuple[str, ...] | None = None
    health: HealthCheck | None = None
    database: str | None = None


@dataclass(frozen=True)
class ChainNode:
    """One revision in the drawn migration chain, with its annotations."""

    revision: str
    path: str
    message: str | None
    parents: tuple[str, ...]
    annotations: tuple[ChainMark, ...] = ()


@dataclass(frozen=True)
class EnvironmentSummary:
    """One Alembic environment as the report shows it: its heads, bases and chain.
    ``docstring_mismatches`` holds (path, detail) for each file whose docstring header
    disagrees with its code."""

    name: str
    versions_dirs: tuple[str, ...]
    revision_count: int
    heads: tuple[str, ...]
    bases: tuple[str, ...]
    chain: tuple[ChainNode, ...] = ()
    docstring_mismatches: tuple[tuple[str, str], ...] = ()


class RemediationKind(StrEnum):
    """What a remediation option does, and so which step of a plan it can be."""

    RESTORE = "restore"
    REVERT = "revert"
    FORWARD = "forward"
    RERUN = "rerun"
    MERGE = "merge"


@dataclass(frozen=True)
class Remediation:
    """One remediation option: exact commands computed from the evidence, and its risks."""

    title: str
    commands: tuple[str, ...]
    why: str
    risks: tuple[str, ...]
    kind: RemediationKind
    recommended: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditDiff:
    """Fingerprints compared with the previous audit of the same repository."""

    audit_id: str
    previous: str | None
    new: tuple[str, ...]
    still_open: tuple[str, ...]
    resolved: tuple[str, ...]
    resolved_findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class RuleInfo:
    """A rule of the catalogue as reports explain it (filled from the detector registry)."""

    id: str
    name: str
    summary: str
    explanation: str
    severity: Severity = Severity.MEDIUM


@dataclass(frozen=True)
class Report:
    """Everything a renderer may see. ``generated_at`` is injected, never read from a clock."""

    generated_at: datetime
    repo_path: str
    rev: str
    since: datetime | None
    until: datetime
    title: str = "Migration incident report"
    environments: tuple[EnvironmentSummary, ...] = ()
    production: Production = field(default_factory=Production)
    findings: tuple[Finding, ...] = ()
    graph_events: tuple[GraphEvent, ...] = ()
    bursts: tuple[Burst, ...] = ()
    deploys: tuple[Deploy, ...] = ()
    failure_windows: tuple[FailureWindow, ...] = ()
    commits: tuple[CommitRecord, ...] = ()
    migration_changes: tuple[MigrationChange, ...] = ()
    remediations: tuple[Remediation, ...] = ()
    head: CommitRecord | None = None
    files_examined: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    audit: AuditDiff | None = None
    rules: tuple[RuleInfo, ...] = ()
    # Findings hidden by the team's settings: (reason, count), e.g. ("baseline", 3).
    suppressed: tuple[tuple[str, int], ...] = ()
    # Delivery metrics of the weeks up to ``until``, oldest first.
    metrics: tuple[WeekMetrics, ...] = ()
    # What each shown edit to an applied migration changed against the applied content.
    edits: tuple[EditEvidence, ...] = ()
    # The file and line each finding points at (code scanning wants a file for each).
    locations: tuple[FindingLocation, ...] = ()
    # Links to the repository's web pages, when its remote is on GitHub or GitLab.
    links: RemoteLinks | None = None

    def edit(self, commit: str, path: str | None) -> EditEvidence | None:
        return next((e for e in self.edits if e.commit == commit and e.path == path), None)

    def location(self, fingerprint: str) -> FindingLocation | None:
        return next((x for x in self.locations if x.fingerprint == fingerprint), None)

    # The findings told as stories, the most urgent first (analysis.incidents).
    incidents: tuple[Incident, ...] = ()

    def commit(self, sha: str) -> CommitRecord | None:
        return self._commits.get(sha)

    def changes_by(self, sha: str) -> tuple[MigrationChange, ...]:
        """The migration changes that ``sha`` made, or brought in as the merge."""
        return self._changes.get(sha, ())

    # Renderers ask these per commit, so they are indexed once (a frozen dataclass can
    # still cache: cached_property writes the instance dict, not through __setattr__).
    @cached_property
    def _commits(self) -> dict[str, CommitRecord]:
        return {c.sha: c for c in self.commits}

    @cached_property
    def _changes(self) -> dict[str, tuple[MigrationChange, ...]]:
        found: dict[str, list[MigrationChange]] = {}
        for change in self.migration_changes:
            for sha in dict.fromkeys((change.commit, *change.authors)):
                found.setdefault(sha, []).append(change)
        return {sha: tuple(changes) for sha, changes in found.items()}

    @property
    def status(self) -> IncidentStatus:
        """The status of the first screen, from evidence: the most urgent of the
        incidents' and DEGRADED for a failed health check (or, without incidents, a high
        finding); without any, HEALTHY only when deploys, a database or a health check were
        seen, else UNKNOWN. JSON writes its value (``blocked``, ``at-risk``…)."""
        found = [i.status for i in self.incidents]
        health = self.production.health
        if (health is not None and not health.ok) or (
            not found and any(f.severity >= Severity.HIGH for f in self.findings)
        ):
            found.append(IncidentStatus.DEGRADED)
        if found:
            return min(found, key=lambda s: s.urgency)
        checked = (
            bool(self.deploys)
            or self.production.source is ProductionSource.DATABASE
            or health is not None
        )
        return IncidentStatus.HEALTHY if checked else IncidentStatus.UNKNOWN
