"""The fleet report: one weekly audit per repository of an organisation, and the fleet's
figures. Plain data, as a Dask task returns it and as the renderers see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from forensics.model.metrics import WeekMetrics


class RepoStatus(StrEnum):
    """A repository's row: the status word of its report, or ``failed`` when its audit
    could not run (the row's ``error`` says why)."""

    BLOCKED = "blocked"
    AT_RISK = "at-risk"
    DEGRADED = "degraded"
    RECOVERED = "recovered"
    HEALTHY = "healthy"
    UNKNOWN = "unknown"
    FAILED = "failed"


@dataclass(frozen=True)
class RepoResult:
    """One repository of the fleet.

    ``repo`` is its path, or its URL without credentials. ``severities`` counts its findings
    by severity label; ``new``/``still_open``/``resolved`` compare them with its previous
    audit. ``report`` is the link to its own report, relative to the fleet report.
    ``skipped`` is set when this week's audit was already in the store (an interrupted run
    started again) and the row comes from there.
    """

    name: str
    status: RepoStatus
    repo: str
    error: str | None = None
    rev: str | None = None
    audit_id: str | None = None
    findings: int = 0
    # incidents still open (blocked, at risk or degraded); None when the row comes from the
    # store, which keeps findings, not incidents
    incidents: int | None = 0
    severities: tuple[tuple[str, int], ...] = ()
    new: int = 0
    still_open: int = 0
    resolved: int = 0
    report: str | None = None
    metrics: tuple[WeekMetrics, ...] = ()
    skipped: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class FleetReport:
    """Every repository's row and the fleet-wide weekly figures. ``generated_at`` is
    injected, never read from a clock by a renderer. ``cluster`` names where the audits ran
    (``local: 2 workers`` or the scheduler's address); ``cluster_seconds`` is the part of
    ``elapsed_seconds`` spent starting or reaching it."""

    generated_at: datetime
    audit_id: str
    repositories: tuple[RepoResult, ...]
    metrics: tuple[WeekMetrics, ...] = ()
    cluster: str = ""
    elapsed_seconds: float = 0.0
    cluster_seconds: float = 0.0

    def count(self, status: RepoStatus) -> int:
        return sum(1 for r in self.repositories if r.status is status)
