"""The next steps: what to do about the findings the incidents' plans do not cover."""

from __future__ import annotations

from collections.abc import Sequence

from forensics.model.findings import Finding, Severity
from forensics.model.report import Report
from forensics.model.rules import BURSTS, CHANGED_APPLIED, RuleId
from forensics.render.view.status import current_window
from forensics.render.view.text import span, when

_GRAPH_RULES = (
    RuleId.FX102,
    RuleId.FX103,
    RuleId.FX104,
    RuleId.FX105,
    RuleId.FX106,
    RuleId.FX204,
)


def next_steps(report: Report, ranked: Sequence[Finding]) -> tuple[str, ...]:
    steps: list[str] = []
    # The plan of each incident is on the first screen: named here, not repeated.
    told = {p for i in report.incidents for p in i.findings}
    for incident in report.incidents:
        steps.append(f"{incident.id} ({incident.status.label}): follow its plan, above.")
    rules = {f.rule for f in ranked}
    ranked = [f for f in ranked if f.fingerprint not in told]
    bursts = [] if told else report.bursts
    for b in bursts:
        if any(f.rule in BURSTS for f in ranked):
            steps.append(
                f"Stop the commits: {len(b.commits)} commit(s) by {', '.join(b.authors)} on "
                f"{', '.join(b.paths)} within {span((b.end - b.start).total_seconds())}. "
                "Check for a script, agent or retry loop that pushes them."
            )
    for f in ranked:
        if f.rule in CHANGED_APPLIED and f.severity >= Severity.MEDIUM:
            steps.append(
                f"Push no more commits that change {f.path or f.revision}. Put back the "
                "content production applied (see Remediation options)."
            )
            steps.append(
                f"Carry whatever the edits to {f.revision or f.path} meant to do forward "
                "in a new migration."
            )
        elif f.rule == RuleId.FX101 and _still_open(report, f):
            steps.append(f"Join the heads with an alembic merge revision: {f.title}.")
        elif f.rule in _GRAPH_RULES and _still_open(report, f):
            steps.append(f"Fix the graph: {f.title}.")
    if any(w.open for w in report.failure_windows) and not told:
        w = current_window(report)
        assert w is not None
        steps.append(
            f"After the fix, watch the next deploy: deploys have failed since {when(w.start)}."
        )
    if rules and not steps:
        steps.append("Review the findings above; none of them calls for an immediate fix.")
    return tuple(dict.fromkeys(steps))


def _still_open(report: Report, finding: Finding) -> bool:
    """A graph finding calls for a fix unless every event behind it was resolved."""
    events = [e for e in report.graph_events if e.rule == finding.rule]
    return not events or any(e.resolved_by is None for e in events)
