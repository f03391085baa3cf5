"""The fleet report in Markdown, HTML and JSON (schema ``forensics.fleet/1``).

Sees only the model (``FleetReport``). Names and errors come from the manifest and from the
repositories, so they are escaped as every other untrusted text: Markdown through the
incident report's escaping ``finalize`` hook, HTML through Jinja2's autoescape. The HTML page
has inline CSS and one inline SVG: no script, nothing fetched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from forensics.errors import UsageError
from forensics.model.fleet import FleetReport, RepoResult, RepoStatus
from forensics.model.metrics import WeekMetrics
from forensics.model.text import map_text, without_controls
from forensics.render import charts, markdown, view
from forensics.render.html import _environment as html_environment
from forensics.render.json import dumps, iso, metrics_json

SCHEMA = "forensics.fleet/1"
# The figures of the latest week that each repository's row shows.
ROW_FIGURES = ("deploys", "change_failure_rate", "time_to_restore_h", "lead_time_h_p50")


def fleet_json(report: FleetReport) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "generated_at": iso(report.generated_at),
        "repositories": [_repo_json(r) for r in report.repositories],
        "metrics": metrics_json(report.metrics),
        "audit_id": report.audit_id,
        "summary": {status.value: report.count(status) for status in RepoStatus},
        "cluster": report.cluster,
        "elapsed_seconds": report.elapsed_seconds,
        "cluster_seconds": report.cluster_seconds,
    }


def _repo_json(r: RepoResult) -> dict[str, Any]:
    return {
        "name": r.name,
        "status": r.status.value,
        "error": r.error,
        "new": r.new,
        "still_open": r.still_open,
        "resolved": r.resolved,
        "report": r.report,
        "metrics": metrics_json(r.metrics),
        "repo": r.repo,
        "rev": r.rev,
        "audit_id": r.audit_id,
        "findings": r.findings,
        "incidents": r.incidents,
        "severities": dict(r.severities),
        "skipped": r.skipped,
        "seconds": r.seconds,
    }


def render_fleet_json(report: FleetReport) -> str:
    return dumps(fleet_json(report))


# -- what Markdown and HTML show --------------------------------------------------------------
def _latest(rows: tuple[WeekMetrics, ...]) -> WeekMetrics | None:
    return rows[-1] if rows else None


def _findings_cell(r: RepoResult) -> str:
    if r.status is RepoStatus.FAILED:
        return "-"
    if not r.findings:
        return "none"
    return ", ".join(f"{n} {label}" for label, n in r.severities)


def _rows(report: FleetReport) -> list[dict[str, Any]]:
    rows = []
    for r in report.repositories:
        latest = _latest(r.metrics)
        figures = [
            view.figure(name, getattr(latest, name)) if latest else "-" for name in ROW_FIGURES
        ]
        rows.append(
            {
                "r": r,
                "status": r.status.value.upper(),
                "findings": _findings_cell(r),
                "incidents": "-"
                if r.incidents is None or r.status is RepoStatus.FAILED
                else r.incidents,
                "figures": figures,
                "link": quote(r.report) if r.report else None,
            }
        )
    return rows


def _summary(report: FleetReport) -> str:
    parts = [f"{report.count(s)} {s.value}" for s in RepoStatus if report.count(s)]
    return f"{len(report.repositories)} repositories: " + ", ".join(parts or ["none"])


def _context(report: FleetReport) -> dict[str, Any]:
    return {
        "f": report,
        "date": view.when(report.generated_at),
        "summary": _summary(report),
        "rows": _rows(report),
        "failures": [r for r in report.repositories if r.status is RepoStatus.FAILED],
        "row_headings": [dict(view.METRIC_HEADINGS)[n] for n in ROW_FIGURES],
        "metric_headings": view.METRIC_HEADINGS,
        "metrics": view.metric_rows(report.metrics),
        "worst": "failed"
        if report.count(RepoStatus.FAILED)
        else ("blocked" if report.count(RepoStatus.BLOCKED) else "ok"),
    }


def render_fleet_markdown(report: FleetReport) -> str:
    template = markdown._environment().get_template("fleet.md.j2")
    text = template.render(**_context(report))
    return without_controls(re.sub(r"\n{3,}", "\n\n", text).strip()) + "\n"


def render_fleet_html(report: FleetReport) -> str:
    trend = Markup(charts.trend_svg(report.metrics, "Fleet delivery metrics by week"))
    page = html_environment().get_template("fleet.html.j2").render(trend=trend, **_context(report))
    return without_controls(page.strip()) + "\n"


class FleetFormat(Enum):
    MD = ("md", ".md", render_fleet_markdown, True)
    HTML = ("html", ".html", render_fleet_html, True)
    JSON = ("json", ".json", render_fleet_json, False)

    def __init__(
        self, label: str, suffix: str, renderer: Callable[[FleetReport], str], for_people: bool
    ) -> None:
        self.label = label
        self.suffix = suffix
        self.renderer = renderer
        self.for_people = for_people

    def render(self, report: FleetReport) -> str:
        return self.renderer(map_text(report, without_controls) if self.for_people else report)


def fleet_formats(labels: list[str]) -> list[FleetFormat]:
    """The fleet report's formats among the audit's: SARIF has no fleet form."""
    by_label = {f.label: f for f in FleetFormat}
    chosen = [by_label[label] for label in labels if label in by_label]
    if not chosen:
        raise UsageError("the fleet report is written as md, html or json: pass one in --format")
    return chosen
