"""The status sections: the status line, the audit lists, production's state, the deploy
table and failure window, and why production is still up."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from forensics.model.deploys import Deploy, DeployCategory, FailureWindow
from forensics.model.findings import Finding, Severity
from forensics.model.report import Report
from forensics.render.view.text import commit_url, one_line, short, tree_url, when

_SOURCES = {
    "database": "read from the database's alembic_version table",
    "flag": "given with --prod-revision",
    "deploy": "the migration heads at the commit of the last successful deploy",
    "tags": "the migration heads at the latest release tag",
    "unknown": "unknown: no database, --prod-revision, deploy or release tag evidence",
}


@dataclass(frozen=True)
class DeployRow:
    """A deploy in the deployment table."""

    id: str
    status: str
    category: str
    time: str
    commit: str
    message: str
    flag: str
    url: str = ""
    commit_url: str = ""


def status_line(report: Report) -> str:
    open_windows = [w for w in report.failure_windows if w.open]
    counts = severity_counts(report.findings)
    parts = []
    for w in open_windows:
        parts.append(f"{w.count} failed deploy(s) since {when(w.start)}, none recovered")
    if counts:
        parts.append(counts)
    if not parts:
        parts.append("no finding at medium severity or above, no open failure window")
    return f"{report.status.label}: " + "; ".join(parts)


def severity_counts(findings: Iterable[Finding]) -> str:
    tally: dict[Severity, int] = {}
    for f in findings:
        tally[f.severity] = tally.get(f.severity, 0) + 1
    return ", ".join(
        f"{tally[s]} {s.label}" for s in sorted(tally, reverse=True) if s >= Severity.MEDIUM
    ) + (" finding(s)" if any(s >= Severity.MEDIUM for s in tally) else "")


def audit(report: Report) -> dict[str, tuple[tuple[str, str], ...]] | None:
    if report.audit is None:
        return None
    titles = {f.fingerprint: f"{f.rule} {f.title}" for f in report.findings}
    titles.update({f.fingerprint: f"{f.rule} {f.title}" for f in report.audit.resolved_findings})

    def listed(prints: Sequence[str]) -> tuple[tuple[str, str], ...]:
        return tuple((p, titles.get(p, "(finding not in this report)")) for p in prints)

    return {
        "new": listed(report.audit.new),
        "still open": listed(report.audit.still_open),
        "resolved": listed(report.audit.resolved),
    }


def production(report: Report) -> tuple[str, ...]:
    prod = report.production
    lines = []
    health = prod.health
    if health is None:
        lines.append("Health check: not run (pass --health-url to check it).")
    elif health.error:
        lines.append(f"Health check: GET {health.url} failed: {health.error}")
    else:
        verdict = "healthy" if health.ok else "NOT healthy"
        status = f"HTTP {health.status}" if health.status is not None else "no status"
        summary = f", body: {one_line(health.summary, 200)}" if health.summary else ""
        lines.append(f"Health check: GET {health.url} answered {status} ({verdict}){summary}.")
    if prod.revisions:
        lines.append(
            f"Production revision: {', '.join(prod.revisions)}, "
            + _SOURCES.get(prod.source, prod.source)
            + (f" (deploy {prod.deploy}, commit {short(prod.commit)})" if prod.deploy else "")
            + "."
        )
    else:
        lines.append(f"Production revision: {_SOURCES['unknown']}.")
    if prod.database:
        lines.append(f"Database: {prod.database}.")
    if prod.applied:
        lines.append(
            f"Applied migrations (production's revisions and their ancestors): {len(prod.applied)}."
        )
    if prod.tables_expected is None or prod.tables_present is None:
        lines.append("Tables: not checked (no database given).")
    else:
        present = set(prod.tables_present)
        found = sum(1 for t in prod.tables_expected if t in present)
        lines.append(f"Tables: {found}/{len(prod.tables_expected)} expected tables present.")
    return tuple(lines)


def tables(report: Report) -> tuple[tuple[str, str], ...]:
    prod = report.production
    if prod.tables_expected is None or prod.tables_present is None:
        return ()
    present = set(prod.tables_present)
    return tuple((t, "present" if t in present else "MISSING") for t in prod.tables_expected)


def deploy_row(report: Report, d: Deploy) -> DeployRow:
    record = report.commit(d.commit) if d.commit else None
    message = record.subject if record else one_line(d.message, 100)
    flag = "" if d.commit_known else "commit not in repository"
    return DeployRow(
        id=d.id,
        status=d.status,
        category=d.category.value,
        time=when(d.created_at),
        commit=short(d.commit or d.commit_ref),
        message=message,
        flag=flag,
        url=tree_url(report, d.commit),
        commit_url=commit_url(report, d.commit),
    )


def current_window(report: Report) -> FailureWindow | None:
    windows = sorted(report.failure_windows, key=lambda w: w.start)
    opened = [w for w in windows if w.open]
    if opened:
        return opened[-1]
    return windows[-1] if windows else None


def window_line(report: Report) -> str:
    w = current_window(report)
    if w is None:
        if report.deploys:
            return "Failure window: none; no deploy failed."
        return "Failure window: no deploy data was given (pass --deploys)."
    before = f"last successful deploy before it: {w.last_live_before or 'none known'}"
    if w.open:
        return (
            f"Failure window OPEN since {when(w.start)}: {w.count} failed deploy(s), "
            f"{w.first_failed} … {w.last_failed}; {before}. Nothing has recovered it."
        )
    return (
        f"Last failure window: {when(w.start)} to {when(w.end)}, {w.count} failed deploy(s), "
        f"{w.first_failed} … {w.last_failed}; {before}; recovered by {w.recovered_by}."
    )


def head_line(report: Report) -> str:
    head = report.head
    if head is None:
        return f"HEAD (analysed revision): {report.rev}"
    return (
        f'HEAD (analysed revision): {head.short} "{head.subject}" by {head.author.name}, '
        f"{when(head.committed_at)}"
    )


def last_success(report: Report) -> Deploy | None:
    succeeded = [d for d in report.deploys if d.category.succeeded]
    live = [d for d in succeeded if d.category is DeployCategory.LIVE]
    pool = live or succeeded
    return max(pool, key=lambda d: (d.created_at, d.id)) if pool else None


def still_up(report: Report) -> tuple[str, ...]:
    lines = []
    last = last_success(report)
    if last is None:
        lines.append(
            "No successful deploy is in the deploy data, so the report cannot say what "
            "production runs."
        )
    else:
        record = report.commit(last.commit) if last.commit else None
        what = f"commit {short(last.commit or last.commit_ref)}"
        if record:
            what += f' "{record.subject}" ({when(record.committed_at)})'
        lines.append(
            f"The last successful deploy is {last.id} (status {last.status}, created "
            f"{when(last.created_at)}); it runs {what}."
        )
        later = [d for d in report.deploys if d.created_at > last.created_at]
        failed = [d for d in later if d.category is DeployCategory.FAILED]
        if failed:
            statuses = ", ".join(sorted({d.status for d in failed}))
            lines.append(
                f"{len(failed)} of the {len(later)} deploy(s) after it failed ({statuses}); "
                "a failed deploy does not replace the running one"
                + (", and the provider still reports it as live." if last.status == "live" else ".")
            )
        elif later:
            lines.append(f"{len(later)} deploy(s) after it did not fail and did not finish.")
    prod = report.production
    if prod.revisions:
        lines.append(
            f"Production's migration revision is {', '.join(prod.revisions)} "
            f"({_SOURCES.get(prod.source, prod.source)})."
        )
    if prod.health and prod.health.ok:
        lines.append(f"The health check answered HTTP {prod.health.status}.")
    return tuple(lines)
