"""The timeline: commits, bursts, deploys and failure windows in the order they happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from forensics.model.commits import CommitRecord
from forensics.model.report import Burst, Report
from forensics.render.view.findings import change_kinds
from forensics.render.view.text import commit_url, short, span, tree_url, when


@dataclass(frozen=True)
class TimelineRow:
    """A row of the timeline; ``at`` orders the rows."""

    time: str
    what: str
    ref: str
    who: str
    detail: str
    at: datetime = field(compare=False, repr=False)
    url: str = field(default="", compare=False)


def timeline_commits(report: Report) -> list[CommitRecord]:
    """The commits a timeline shows: those inside the window, or (without ``--since``) the
    ones the findings, bursts and deploys refer to."""
    if report.since is not None:
        since = report.since
        return sorted(
            (c for c in report.commits if since <= c.committed_at <= report.until),
            key=lambda c: (c.committed_at, c.sha),
        )
    wanted = {sha for f in report.findings for sha in f.commits}
    wanted |= {sha for b in report.bursts for sha in b.commits}
    wanted |= {d.commit for d in report.deploys if d.commit}
    return sorted(
        (c for c in report.commits if c.sha in wanted), key=lambda c: (c.committed_at, c.sha)
    )


def rows(report: Report) -> list[TimelineRow]:
    out = []
    for c in timeline_commits(report):
        kinds = change_kinds(report, c.sha)
        detail = c.subject + (f" [migrations: {', '.join(kinds)}]" if kinds else "")
        out.append(
            TimelineRow(
                when(c.committed_at),
                "commit",
                c.short,
                c.author.name,
                detail,
                c.committed_at,
                commit_url(report, c.sha),
            )
        )
    for b in report.bursts:
        out.append(_burst_row(b))
    # a window's failed deploys are listed under Deployment status; its row stands for them
    in_windows = {d for w in report.failure_windows for d in w.deploys}
    for d in report.deploys:
        if d.id in in_windows:
            continue
        out.append(
            TimelineRow(
                when(d.created_at),
                f"deploy {d.category.value}",
                d.id,
                "",
                f"{d.status} of {short(d.commit or d.commit_ref)}",
                d.created_at,
                tree_url(report, d.commit),
            )
        )
    for w in report.failure_windows:
        out.append(
            TimelineRow(
                when(w.start),
                "failure window opens",
                w.first_failed,
                "",
                f"{w.count} failed deploy(s), listed under Deployment status",
                w.start,
            )
        )
        if w.recovered_by:
            out.append(
                TimelineRow(
                    when(w.end), "failure window closes", w.recovered_by, "", "recovered", w.end
                )
            )
    order = {"failure window opens": 0, "burst": 1, "commit": 2}
    out.sort(key=lambda r: (r.at, order.get(r.what, 3), r.ref))
    return out


def _burst_row(b: Burst) -> TimelineRow:
    detail = (
        f"burst of {len(b.commits)} commit(s) over {span((b.end - b.start).total_seconds())} "
        f"until {when(b.end)} on {', '.join(b.paths)}; automation score {b.automation_score:.2f}"
    )
    return TimelineRow(
        when(b.start),
        "burst",
        short(b.commits[0]) if b.commits else "-",
        ", ".join(b.authors),
        detail,
        b.start,
    )
