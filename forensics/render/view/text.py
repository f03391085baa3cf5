"""How the reports write values: times, commit ids, durations, one-line texts, and links to
the remote's pages for a commit, a tree or a file."""

from __future__ import annotations

from datetime import UTC, datetime

from forensics.model.report import Report


def when(moment: datetime | None) -> str:
    """A time as people read it in a report: ``2025-11-16 17:25 UTC``."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def short(sha: str | None) -> str:
    return sha[:8] if sha else "-"


def one_line(text: str | None, limit: int = 0) -> str:
    flat = " ".join((text or "").split())
    if limit and len(flat) > limit:
        return flat[: limit - 1] + "…"
    return flat


def span(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{round(seconds)} s"
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def commit_url(report: Report, sha: str | None) -> str:
    """The commit's page on the remote, or "" when the report has no links."""
    return (report.links.commit(sha) or "") if report.links and sha else ""


def tree_url(report: Report, sha: str | None) -> str:
    return (report.links.tree(sha) or "") if report.links and sha else ""


def file_url(report: Report, path: str | None, line: int | None = None) -> str:
    """The file as it is at the analysed revision, at ``line``."""
    if not report.links or not path:
        return ""
    return report.links.file(report.rev, path, line) or ""
