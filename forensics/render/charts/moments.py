"""The incident's key moments, which the timeline labels: the deploys that applied a
migration edited afterwards, the last good deploy, the first failure, the graph broken and
its fix, and the recovery or "still failing". Data only; the timeline draws them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from forensics.model.deploys import Deploy, FailureWindow
from forensics.model.report import Report
from forensics.model.rules import RuleId
from forensics.render import view
from forensics.render.charts.svg import BLUE, DARK_RED, GREEN, RED


@dataclass(frozen=True)
class Moment:
    """A key moment of the incident, labelled on the chart."""

    at: datetime
    kind: str
    label: str
    colour: str
    tip: str


def short(m: Moment) -> str:
    return m.label.split(" ")[0] if m.kind in ("applied", "fix") else m.label


def _deploy_at(report: Report, deploy_id: str | None) -> Deploy | None:
    return next((d for d in report.deploys if d.id == deploy_id), None)


def key_moments(report: Report, window: FailureWindow | None) -> list[Moment]:
    """Applied, last good deploy, first failure, graph broken, fix, recovery (or still failing)."""
    applied = _applied_moments(report)
    # Listed in this order, as the sort below keeps it for moments at the same time.
    found = list(applied.values())
    lower = None
    if window is not None:
        found += _failure_start_moments(report, window, applied)
        lower = incident_start(report, window)
    found += _graph_moments(report, lower, window.end if window else report.until)
    if window is not None:
        found.append(_failure_end_moment(report, window))
    return sorted(found, key=lambda m: m.at)


def _applied_moments(report: Report) -> dict[str, Moment]:
    """The deploys that applied a migration edited afterwards, by deploy id, oldest first:
    the latest three at most, because a mature repository has dozens."""
    applied: dict[str, list[str]] = {}
    for f in report.findings:
        if f.rule == RuleId.FX201 and f.deploys and f.revision:
            revisions = applied.setdefault(f.deploys[0], [])
            if f.revision not in revisions:
                revisions.append(f.revision)
    latest = sorted(
        (d for d in (_deploy_at(report, i) for i in applied) if d is not None),
        key=lambda d: (d.created_at, d.id),
    )[-3:]
    found: dict[str, Moment] = {}
    for d in latest:
        revisions = applied[d.id]
        what = revisions[0] if len(revisions) == 1 else f"{len(revisions)} migrations"
        found[d.id] = Moment(
            d.created_at,
            "applied",
            f"applied {what}",
            GREEN,
            f"production applied {', '.join(revisions)} with deploy {d.id} "
            f"({view.when(d.created_at)}); edited afterwards",
        )
    return found


def incident_start(report: Report, window: FailureWindow) -> datetime:
    """The last good deploy before the failure window, or the window's start without one."""
    good = _deploy_at(report, window.last_live_before)
    return good.created_at if good else window.start


def _failure_start_moments(
    report: Report, window: FailureWindow, applied: Mapping[str, Moment]
) -> list[Moment]:
    """The last good deploy (unless it is labelled as applying a migration) and the first
    failure."""
    found = []
    good = _deploy_at(report, window.last_live_before)
    if good is not None and good.id not in applied:
        found.append(
            Moment(
                good.created_at,
                "last-good",
                "last good deploy",
                GREEN,
                f"last successful deploy before the failures: {good.id} "
                f"({view.when(good.created_at)}), commit {view.short(good.commit)}",
            )
        )
    found.append(
        Moment(
            window.start,
            "first-failure",
            "first failure",
            RED,
            f"first failed deploy {window.first_failed} ({view.when(window.start)})",
        )
    )
    return found


def _graph_moments(report: Report, lower: datetime | None, upper: datetime) -> list[Moment]:
    """The first break of the migration graph that overlaps ``lower`` to ``upper``, and the
    fix when every such break was resolved."""
    breaks = [
        g
        for g in report.graph_events
        if g.at <= upper and (lower is None or g.resolved_at is None or g.resolved_at >= lower)
    ]
    if not breaks:
        return []
    first = min(breaks, key=lambda g: (g.at, g.commit))
    found = [
        Moment(
            first.at,
            "graph-broken",
            "graph broken",
            DARK_RED,
            f"commit {view.short(first.commit)} broke the migration graph: {first.detail}",
        )
    ]
    if all(g.resolved_at is not None for g in breaks):
        last = max(breaks, key=lambda g: (g.resolved_at or g.at, g.commit))
        assert last.resolved_at is not None
        found.append(
            Moment(
                last.resolved_at,
                "fix",
                f"fix {view.short(last.resolved_by)}",
                BLUE,
                f"commit {view.short(last.resolved_by)} left the migration graph whole "
                f"({view.when(last.resolved_at)})",
            )
        )
    return found


def _failure_end_moment(report: Report, window: FailureWindow) -> Moment:
    """The recovery, or "still failing" at the report's time."""
    if window.recovered_by:
        return Moment(
            window.end,
            "recovery",
            "recovered",
            GREEN,
            f"deploy {window.recovered_by} succeeded ({view.when(window.end)})",
        )
    return Moment(
        report.until,
        "still-failing",
        "still failing",
        RED,
        f"no deploy has succeeded since {view.when(window.start)} "
        f"(report time {view.when(report.until)})",
    )
