"""The first screen: the status word, what happened, the cause and the plan."""

from __future__ import annotations

from dataclasses import dataclass

from forensics.model.incidents import Incident, IncidentStatus, PlanStep, literal
from forensics.model.report import Report
from forensics.model.text import plural
from forensics.render.view.status import last_success, severity_counts
from forensics.render.view.text import short, when


@dataclass(frozen=True)
class Summary:
    """The first screen: the status word, what happened, the cause and the plan. Prose
    fields mark code spans with backticks (``model.incidents.literal``)."""

    status: IncidentStatus
    headline: str
    impact: str
    cause: str
    plan: tuple[PlanStep, ...]
    others: tuple[str, ...]
    more: tuple[str, ...]


def _serves(report: Report) -> str:
    last = last_success(report)
    revisions = report.production.revisions
    revision = ", ".join(literal(r) for r in revisions)
    if last is None:
        return f"Production is at revision {revision}." if revisions else ""
    commit = literal(short(last.commit or last.commit_ref))
    at = f", revision {revision}" if revisions else ""
    return (
        f"Production serves deploy {literal(last.id)} (commit {commit}{at}), live since "
        f"{when(last.finished_at or last.created_at)}."
    )


def summary(report: Report) -> Summary:
    """The first screen of the report: the first incident, or what the evidence says when
    there is none (UNKNOWN when nothing was checked, never HEALTHY by default)."""
    state = report.status
    if report.incidents:
        first: Incident = report.incidents[0]
        more = tuple(f"{i.id} {i.status.label}: {i.headline}." for i in report.incidents[1:4]) + (
            (f"{len(report.incidents) - 4} more incident(s) below.",)
            if len(report.incidents) > 4
            else ()
        )
        return Summary(
            first.status,
            first.headline[:1].lower() + first.headline[1:],
            first.impact,
            first.cause,
            first.plan,
            first.other_options,
            more,
        )
    counts = severity_counts(report.findings)
    found = f"{counts} below." if counts else "No finding at medium severity or above."
    if state is IncidentStatus.UNKNOWN:
        headline = "production's state was not checked"
        impact = (
            "No deploy, database or health-check evidence was given (pass --deploys, "
            f"--db-url or --health-url). {found}"
        )
    elif state is IncidentStatus.HEALTHY:
        headline = "no incident"
        checked = plural(len(report.deploys), "deploy") if report.deploys else "the database"
        impact = (
            f"No open failure window and no edit to an applied migration pending, from "
            f"{checked}. {_serves(report)} {found}"
        ).replace("  ", " ")
    else:
        health = report.production.health
        headline = "production needs attention"
        why = (
            f"The health check failed ({health.error or health.status})."
            if health is not None and not health.ok
            else ""
        )
        impact = f"{why} {_serves(report)} {found}".strip().replace("  ", " ")
    top = sorted(report.findings, key=lambda f: (-f.severity, -f.confidence, f.rule))
    cause = f"Top finding: {top[0].rule} {top[0].title}." if top else ""
    return Summary(state, headline, impact, cause, (), (), ())
