"""What the Markdown and HTML reports show, computed once from the ``Report``.

Both templates read this view, so that the two formats carry the same facts in the same
sections. Every value here is plain data: strings from the analysed repository (messages,
authors, paths, deploy messages) stay raw, and each template escapes them for its own format.
The wording that is ours (section titles, status lines, next steps) is built here too.

This module owns the ``View`` and its sections' order; each section is built by the module
that owns it: ``text`` (how values are written, links), ``summary`` (the first screen),
``status`` (production, deploys, why production is still up), ``findings`` (root cause and
rules), ``timeline``, ``chain`` (Mermaid and text tree), ``steps`` and ``metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass

from forensics.model.incidents import IncidentStatus
from forensics.model.report import Report, RuleInfo
from forensics.render.view import chain, findings, status, steps, timeline
from forensics.render.view.chain import ANNOTATION_ORDER, ChainView, marks_of
from forensics.render.view.findings import (
    CommitRow,
    EditView,
    FindingView,
    SuspectRow,
    change_kinds,
)
from forensics.render.view.metrics import METRIC_HEADINGS, figure, metric_rows
from forensics.render.view.status import DeployRow, current_window
from forensics.render.view.summary import Summary, summary
from forensics.render.view.text import (
    commit_url,
    file_url,
    one_line,
    short,
    span,
    tree_url,
    when,
)
from forensics.render.view.timeline import TimelineRow, timeline_commits

__all__ = [
    "ANNOTATION_ORDER",
    "AUDIT_TITLE",
    "COLLAPSE_ROWS",
    "MAX_DEPLOYS",
    "MAX_TIMELINE",
    "METRICS_TITLE",
    "METRIC_HEADINGS",
    "SECTIONS",
    "TITLES",
    "WARNINGS_TITLE",
    "ChainView",
    "CommitRow",
    "DeployRow",
    "EditView",
    "FindingView",
    "Summary",
    "SuspectRow",
    "TimelineRow",
    "View",
    "build",
    "change_kinds",
    "commit_url",
    "current_window",
    "figure",
    "file_url",
    "marks_of",
    "metric_rows",
    "one_line",
    "short",
    "span",
    "summary",
    "timeline_commits",
    "tree_url",
    "when",
]

SECTIONS: tuple[tuple[str, str], ...] = (
    ("production", "Production status"),
    ("deployment", "Deployment status"),
    ("root-cause", "Root cause"),
    ("still-up", "Why production is still up"),
    ("rules", "Rules broken"),
    ("remediation", "Remediation options"),
    ("timeline", "Timeline"),
    ("chain", "Migration chain"),
    ("next-steps", "Next steps"),
    ("files", "Files examined"),
)


AUDIT_TITLE = "Since last audit"
METRICS_TITLE = "Delivery metrics"
WARNINGS_TITLE = "Analysis warnings"
TITLES = dict(SECTIONS)


MAX_DEPLOYS = 15
MAX_TIMELINE = 200
# Evidence tables longer than this are collapsed (<details> in Markdown and HTML).
COLLAPSE_ROWS = 10


@dataclass(frozen=True)
class View:
    """What both templates render, section by section."""

    report: Report
    title: str
    date: str
    status: IncidentStatus
    status_line: str
    audit: dict[str, tuple[tuple[str, str], ...]] | None
    production: tuple[str, ...]
    tables: tuple[tuple[str, str], ...]
    deploys: tuple[DeployRow, ...]
    deploys_hidden: int
    window_line: str
    head_line: str
    findings: tuple[FindingView, ...]
    still_up: tuple[str, ...]
    rules: tuple[RuleInfo, ...]
    rules_missing: tuple[str, ...]
    timeline: tuple[TimelineRow, ...]
    timeline_hidden: int
    chains: tuple[ChainView, ...]
    next_steps: tuple[str, ...]
    summary: Summary | None = None
    sections: tuple[tuple[str, str], ...] = SECTIONS
    # (week, cells) of the delivery metrics, shown by the weekly audit only
    metrics: tuple[tuple[str, tuple[str, ...]], ...] = ()
    metric_headings: tuple[tuple[str, str], ...] = METRIC_HEADINGS


# The view of the last report built, for the next format of the same report.
_last: tuple[Report, View] | None = None


def build(report: Report) -> View:
    """What the Markdown and HTML reports show of ``report``, built once for both."""
    global _last
    if _last is None or _last[0] is not report:
        _last = (report, _build(report))
    return _last[1]


def _build(report: Report) -> View:
    ranked = sorted(
        report.findings, key=lambda f: (-f.severity, -f.confidence, f.rule, f.path or "")
    )
    deploys = sorted(report.deploys, key=lambda d: (d.created_at, d.id), reverse=True)
    rules, missing = findings.rules(report, ranked)
    events = timeline.rows(report)
    return View(
        report=report,
        title=report.title,
        date=when(report.generated_at),
        status=report.status,
        status_line=status.status_line(report),
        audit=status.audit(report),
        production=status.production(report),
        tables=status.tables(report),
        deploys=tuple(status.deploy_row(report, d) for d in deploys[:MAX_DEPLOYS]),
        deploys_hidden=max(0, len(deploys) - MAX_DEPLOYS),
        window_line=status.window_line(report),
        head_line=status.head_line(report),
        findings=findings.views(report, ranked),
        still_up=status.still_up(report),
        rules=rules,
        rules_missing=missing,
        timeline=tuple(events[:MAX_TIMELINE]),
        timeline_hidden=max(0, len(events) - MAX_TIMELINE),
        chains=tuple(chain.view(env) for env in report.environments if env.chain),
        next_steps=steps.next_steps(report, ranked),
        summary=summary(report),
        metrics=metric_rows(report.metrics) if report.audit is not None else (),
    )
