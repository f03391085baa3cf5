"""What the Markdown and HTML reports show, computed once from the ``Report``.

Both templates read this view, so that the two formats carry the same facts in the same
sections. Every value here is plain data: strings from the analysed repository (messages,
authors, paths, deploy messages) stay raw, and each template escapes them for its own format.
The wording that is ours (section titles, status lines, next steps) is built here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from forensics.model.commits import CommitRecord
from forensics.model.deploys import Deploy, DeployCategory, FailureWindow, SuspectRole
from forensics.model.findings import Finding, Severity
from forensics.model.incidents import Incident, IncidentStatus, PlanStep, literal
from forensics.model.metrics import WeekMetrics
from forensics.model.report import Burst, ChainNode, EnvironmentSummary, Report, RuleInfo
from forensics.model.rules import CHANGED_APPLIED, RuleId
from forensics.render.mermaid import Flowchart

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
# Column headings of the metrics table, by figure.
METRIC_HEADINGS: tuple[tuple[str, str], ...] = (
    ("deploys", "deploys"),
    ("failed", "failed"),
    ("change_failure_rate", "change failure rate"),
    ("time_to_restore_h", "time to restore"),
    ("lead_time_h_p50", "lead time p50"),
    ("lead_time_h_p90", "lead time p90"),
    ("applied_edits", "edits to applied migrations"),
    ("broken_deploys", "broken-graph deploys"),
)
WARNINGS_TITLE = "Analysis warnings"
TITLES = dict(SECTIONS)

_GRAPH_RULES = (
    RuleId.FX102,
    RuleId.FX103,
    RuleId.FX104,
    RuleId.FX105,
    RuleId.FX106,
    RuleId.FX204,
)
MAX_DEPLOYS = 15
MAX_TIMELINE = 200
# Evidence tables longer than this are collapsed (<details> in Markdown and HTML).
COLLAPSE_ROWS = 10
ANNOTATION_ORDER = ("production", "head", "applied", "modified", "broken", "base")

_SOURCES = {
    "database": "read from the database's alembic_version table",
    "flag": "given with --prod-revision",
    "deploy": "the migration heads at the commit of the last successful deploy",
    "tags": "the migration heads at the latest release tag",
    "unknown": "unknown: no database, --prod-revision, deploy or release tag evidence",
}


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


@dataclass(frozen=True)
class CommitRow:
    """A commit in an evidence table."""

    sha: str
    short: str
    time: str
    author: str
    message: str
    kind: str
    url: str = ""


@dataclass(frozen=True)
class SuspectRow:
    """A suspect of a failure window, with its role (``cause``, ``later``, ``unbounded``)
    and what the report calls it (``most likely cause``, ``failed fix``...)."""

    commit: CommitRow
    role: str
    label: str
    score: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class EditView:
    """An edit to an applied migration with its diff against the applied content."""

    short: str
    url: str
    parts: str
    what: str
    against: str
    against_url: str
    added: int
    deleted: int
    diff: str
    truncated: bool
    # the most likely cause: the Markdown shows its diff, the others' parts stand in the
    # commit table (the HTML shows every diff)
    key: bool = False


@dataclass(frozen=True)
class FindingView:
    """A finding with its anchor, location and evidence rows (for FX402 the window's
    suspects instead, possible causes apart from the later commits; for FX201-FX203 the
    diff of each edit)."""

    finding: Finding
    anchor: str
    location: str
    rows: tuple[CommitRow, ...]
    merges: tuple[str, ...]
    span: str
    location_url: str = ""
    suspects: tuple[SuspectRow, ...] = ()
    later: tuple[SuspectRow, ...] = ()
    edits: tuple[EditView, ...] = ()
    # "finding N" when an earlier finding already shows these commits (rows then empty)
    same_as: str = ""
    incident: str = ""


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


@dataclass(frozen=True)
class ChainView:
    """The migration chain of one environment, as Mermaid, as a text tree and as nodes."""

    name: str
    mermaid: str
    tree: str
    nodes: tuple[ChainNode, ...]
    summary: EnvironmentSummary


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


@dataclass(frozen=True)
class View:
    """What both templates render, section by section."""

    report: Report
    title: str
    date: str
    status: str
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
    rules, missing = _rules(report, ranked)
    timeline = _timeline(report)
    return View(
        report=report,
        title=report.title,
        date=when(report.generated_at),
        status=report.status,
        status_line=_status_line(report),
        audit=_audit(report),
        production=_production(report),
        tables=_tables(report),
        deploys=tuple(_deploy_row(report, d) for d in deploys[:MAX_DEPLOYS]),
        deploys_hidden=max(0, len(deploys) - MAX_DEPLOYS),
        window_line=_window_line(report),
        head_line=_head_line(report),
        findings=_findings(report, ranked),
        still_up=_still_up(report),
        rules=rules,
        rules_missing=missing,
        timeline=tuple(timeline[:MAX_TIMELINE]),
        timeline_hidden=max(0, len(timeline) - MAX_TIMELINE),
        chains=tuple(_chain(env) for env in report.environments if env.chain),
        next_steps=_next_steps(report, ranked),
        summary=summary(report),
        metrics=metric_rows(report.metrics) if report.audit is not None else (),
    )


def figure(name: str, value: float | None) -> str:
    """One figure as the tables show it: a dash when there was nothing to measure."""
    if value is None:
        return "-"
    if name == "change_failure_rate":
        return f"{value:.0%}"
    if "_h" in name:
        return f"{value:.1f} h"
    return f"{value:g}"


def metric_rows(rows: Sequence[WeekMetrics]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each week with its figures formatted, in ``METRIC_HEADINGS`` order."""
    return tuple(
        (row.week, tuple(figure(name, getattr(row, name)) for name, _title in METRIC_HEADINGS))
        for row in rows
    )


# -- first screen ---------------------------------------------------------------------------
def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _serves(report: Report) -> str:
    last = _last_success(report)
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
    state = report.state
    if report.incidents:
        first: Incident = report.incidents[0]
        more = tuple(f"{i.id} {i.status.value}: {i.headline}." for i in report.incidents[1:4]) + (
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
    counts = _severity_counts(report.findings)
    found = f"{counts} below." if counts else "No finding at medium severity or above."
    if state is IncidentStatus.UNKNOWN:
        headline = "production's state was not checked"
        impact = (
            "No deploy, database or health-check evidence was given (pass --deploys, "
            f"--db-url or --health-url). {found}"
        )
    elif state is IncidentStatus.HEALTHY:
        headline = "no incident"
        checked = _plural(len(report.deploys), "deploy") if report.deploys else "the database"
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


# -- status and audit -----------------------------------------------------------------------
def _status_line(report: Report) -> str:
    open_windows = [w for w in report.failure_windows if w.open]
    counts = _severity_counts(report.findings)
    parts = []
    for w in open_windows:
        parts.append(f"{w.count} failed deploy(s) since {when(w.start)}, none recovered")
    if counts:
        parts.append(counts)
    if not parts:
        parts.append("no finding at medium severity or above, no open failure window")
    return f"{report.status.upper()}: " + "; ".join(parts)


def _severity_counts(findings: Iterable[Finding]) -> str:
    tally: dict[Severity, int] = {}
    for f in findings:
        tally[f.severity] = tally.get(f.severity, 0) + 1
    return ", ".join(
        f"{tally[s]} {s.label}" for s in sorted(tally, reverse=True) if s >= Severity.MEDIUM
    ) + (" finding(s)" if any(s >= Severity.MEDIUM for s in tally) else "")


def _audit(report: Report) -> dict[str, tuple[tuple[str, str], ...]] | None:
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


# -- production -----------------------------------------------------------------------------
def _production(report: Report) -> tuple[str, ...]:
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


def _tables(report: Report) -> tuple[tuple[str, str], ...]:
    prod = report.production
    if prod.tables_expected is None or prod.tables_present is None:
        return ()
    present = set(prod.tables_present)
    return tuple((t, "present" if t in present else "MISSING") for t in prod.tables_expected)


# -- deployment -----------------------------------------------------------------------------
def _deploy_row(report: Report, d: Deploy) -> DeployRow:
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


def _window_line(report: Report) -> str:
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


def _head_line(report: Report) -> str:
    head = report.head
    if head is None:
        return f"HEAD (analysed revision): {report.rev}"
    return (
        f'HEAD (analysed revision): {head.short} "{head.subject}" by {head.author.name}, '
        f"{when(head.committed_at)}"
    )


# -- root cause -----------------------------------------------------------------------------
def change_kinds(report: Report, sha: str, path: str | None = None) -> list[str]:
    kinds = []
    for c in report.changes_by(sha):
        if (path is None or c.path == path) and c.kind.value not in kinds:
            kinds.append(c.kind.value)
    return kinds


def _kind(report: Report, finding: Finding, sha: str, kinds: list[str]) -> str:
    """``kinds``: those the finding's changes give ``sha``, in their order."""
    if not kinds:
        kinds = change_kinds(report, sha, finding.path) or change_kinds(report, sha)
    if kinds:
        return ", ".join(dict.fromkeys(kinds))
    record = report.commit(sha)
    if record is None:
        return "-"
    if finding.path and finding.path not in record.paths:
        return "no change to this file"
    return "no migration change"


def _commit_row(report: Report, sha: str, kind: str, parts: str = "") -> CommitRow:
    """``parts``: what an edit changed against the applied content, shown with its kind."""
    if parts:
        kind = f"{kind} ({parts})"
    record = report.commit(sha)
    url = commit_url(report, sha)
    if record is None:
        return CommitRow(sha, short(sha), "-", "-", "(commit not read)", kind, url)
    return CommitRow(
        sha=sha,
        short=record.short,
        time=when(record.committed_at),
        author=record.author.name,
        message=record.subject,
        kind=kind,
        url=url,
    )


# -- links ----------------------------------------------------------------------------------
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


_LABELS = {
    SuspectRole.CAUSE: "possible cause",
    SuspectRole.UNBOUNDED: "unbounded",
    SuspectRole.LATER: "later",
}


def _suspect_rows(report: Report, finding: Finding) -> tuple[list[SuspectRow], list[SuspectRow]]:
    """The suspects of the window an FX402 finding speaks of, those it names: possible
    causes (the first one is the most likely cause) and later commits apart."""
    window = next((w for w in report.failure_windows if w.deploys == finding.deploys), None)
    if window is None or finding.rule != RuleId.FX402:
        return [], []
    named = set(finding.commits)
    causes: list[SuspectRow] = []
    later: list[SuspectRow] = []
    for suspect in window.suspects:
        if suspect.commit not in named:
            continue
        if not suspect.can_cause:
            label = "failed fix" if suspect.failed_fix else "later"
        elif not causes:
            bounded = suspect.role is SuspectRole.CAUSE
            label = "most likely cause" if bounded else "first suspect (cause not bounded)"
        else:
            label = _LABELS[suspect.role]
        row = SuspectRow(
            commit=_commit_row(report, suspect.commit, ""),
            role=suspect.role.value,
            label=label,
            score=f"{suspect.score:.2f}",
            reasons=suspect.reasons,
        )
        (causes if suspect.can_cause else later).append(row)
    return causes, later


_EDIT_RULES = CHANGED_APPLIED


def _key_commits(report: Report) -> set[str]:
    """Each window's most likely cause: the edit whose diff the Markdown shows."""
    return {
        next(s.commit for s in w.suspects if s.can_cause)
        for w in report.failure_windows
        if any(s.can_cause for s in w.suspects)
    }


def _edit_parts(report: Report, finding: Finding, sha: str) -> str:
    edit = report.edit(sha, finding.path) if finding.path else None
    if edit is None or not edit.diff:
        return ""
    return ", ".join(p.value for p in edit.parts)


def _edit_views(
    report: Report, finding: Finding, seen: set[tuple[str, str]]
) -> tuple[EditView, ...]:
    """The diffs of an edit finding's commits, each shown once in the report (under the
    first finding that names it)."""
    if finding.rule not in _EDIT_RULES or not finding.path:
        return ()
    key = _key_commits(report)
    views = []
    for sha in finding.commits:
        edit = report.edit(sha, finding.path)
        if edit is None or (sha, finding.path) in seen:
            continue
        seen.add((sha, finding.path))
        parts = ", ".join(p.value for p in edit.parts) or "blank lines and comments"
        if not edit.diff:
            what = "left the file as production applied it"
        elif edit.cosmetic:
            what = f"only reformatted it ({parts}): same code and metadata as applied"
        else:
            what = f"changed {parts}"
        views.append(
            EditView(
                short=short(sha),
                url=commit_url(report, sha),
                parts=parts,
                what=what,
                against=short(edit.against) if edit.against else "",
                against_url=commit_url(report, edit.against),
                added=edit.added,
                deleted=edit.deleted,
                diff=edit.diff,
                truncated=edit.truncated,
                key=sha in key,
            )
        )
    return tuple(views)


def _findings(report: Report, ranked: Sequence[Finding]) -> tuple[FindingView, ...]:
    """Each finding once, its commit table shown by the first finding that names those
    commits; a later one refers to it instead of repeating the table."""
    incident_of = {p: i.id for i in report.incidents for p in i.findings}
    shown: dict[frozenset[str], int] = {}
    deployed = {d.commit for d in report.deploys if d.commit}
    seen: set[tuple[str, str]] = set()  # edits whose diff is shown already
    views = []
    for index, finding in enumerate(ranked, 1):
        fv = _finding(report, finding, index, seen)
        key = frozenset(finding.commits)
        if finding.rule in (RuleId.FX401, RuleId.FX403, RuleId.FX404) and key and key <= deployed:
            # its commits are those of its deploys: the deploy table shows them
            fv = replace(fv, rows=(), same_as="the deploys under Deployment status")
        elif finding.rule == RuleId.FX402 and (fv.suspects or fv.later):
            # its facts are the suspect table: commit, score and reasons
            fv = replace(fv, rows=(), same_as="the suspects listed")
        elif len(key) > 1:
            earlier = shown.get(key) or next((n for k, n in shown.items() if key <= k), None)
            if earlier is not None:
                fv = replace(fv, rows=(), same_as=f"finding {earlier}")
            else:
                shown[key] = index
        views.append(replace(fv, incident=incident_of.get(finding.fingerprint, "")))
    return tuple(views)


def _finding(
    report: Report, finding: Finding, index: int, seen: set[tuple[str, str]]
) -> FindingView:
    location = finding.path or finding.revision or ""
    if finding.path and finding.line:
        location += f":{finding.line}"
    if finding.revision and finding.path:
        location = f"{finding.revision} ({location})"
    pinned = report.location(finding.fingerprint)
    line = pinned.line if pinned is not None and pinned.path == finding.path else finding.line
    causes, later = _suspect_rows(report, finding)
    # The kinds of each commit in one pass: a finding can hold hundreds of both.
    given: dict[str, list[str]] = {}
    for change in finding.changes:
        given.setdefault(change.commit, []).append(change.kind)
    rows = tuple(
        _commit_row(
            report,
            sha,
            _kind(report, finding, sha, given.get(sha, [])),
            _edit_parts(report, finding, sha),
        )
        for sha in finding.commits
    )
    if causes or later:
        rows = ()  # the suspect tables list the same commits
    if finding.start and finding.end and finding.start != finding.end:
        period = f"{when(finding.start)} to {when(finding.end)}"
    else:
        period = when(finding.start) if finding.start else ""
    return FindingView(
        finding=finding,
        anchor=f"finding-{index}",
        location=location,
        rows=rows,
        merges=tuple(short(m) for m in finding.merges),
        span=period,
        location_url=file_url(report, finding.path, line),
        suspects=tuple(causes),
        later=tuple(later),
        edits=_edit_views(report, finding, seen),
    )


# -- why production is still up -------------------------------------------------------------
def _last_success(report: Report) -> Deploy | None:
    succeeded = [d for d in report.deploys if d.category.succeeded]
    live = [d for d in succeeded if d.category is DeployCategory.LIVE]
    pool = live or succeeded
    return max(pool, key=lambda d: (d.created_at, d.id)) if pool else None


def _still_up(report: Report) -> tuple[str, ...]:
    lines = []
    last = _last_success(report)
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


# -- rules ----------------------------------------------------------------------------------
def _rules(
    report: Report, ranked: Sequence[Finding]
) -> tuple[tuple[RuleInfo, ...], tuple[str, ...]]:
    catalogue = {r.id: r for r in report.rules}
    seen: list[RuleId] = []
    for f in ranked:
        if f.rule not in seen:
            seen.append(f.rule)
    known = tuple(catalogue[r] for r in seen if r in catalogue)
    names = {f.rule: f.name for f in ranked}
    missing = tuple(f"{r} {names[r]}" for r in seen if r not in catalogue)
    return known, missing


# -- timeline -------------------------------------------------------------------------------
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


def _timeline(report: Report) -> list[TimelineRow]:
    rows = []
    for c in timeline_commits(report):
        kinds = change_kinds(report, c.sha)
        detail = c.subject + (f" [migrations: {', '.join(kinds)}]" if kinds else "")
        rows.append(
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
        rows.append(_burst_row(b))
    # a window's failed deploys are listed under Deployment status; its row stands for them
    in_windows = {d for w in report.failure_windows for d in w.deploys}
    for d in report.deploys:
        if d.id in in_windows:
            continue
        rows.append(
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
        rows.append(
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
            rows.append(
                TimelineRow(
                    when(w.end), "failure window closes", w.recovered_by, "", "recovered", w.end
                )
            )
    order = {"failure window opens": 0, "burst": 1, "commit": 2}
    rows.sort(key=lambda r: (r.at, order.get(r.what, 3), r.ref))
    return rows


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


# -- chain ----------------------------------------------------------------------------------
def marks_of(node: ChainNode) -> list[str]:
    return sorted(
        node.annotations,
        key=lambda a: (ANNOTATION_ORDER.index(a) if a in ANNOTATION_ORDER else 99, a),
    )


def _mermaid(nodes: Sequence[ChainNode]) -> str:
    ids = {n.revision: f"n{i}" for i, n in enumerate(nodes)}
    chart = Flowchart()
    for n in nodes:
        label = n.revision + (f": {one_line(n.message, 40)}" if n.message else "")
        marks = marks_of(n)
        if marks:
            label += f" [{', '.join(marks)}]"
        chart.node(ids[n.revision], label)
    for n in nodes:
        for parent in n.parents:
            if parent in ids:
                chart.edge(ids[n.revision], ids[parent])
    for cls, style in (
        ("production", "stroke:#1a7f37,stroke-width:3px"),
        ("modified", "fill:#ffe5e5,stroke:#cf222e"),
        ("broken", "fill:#cf222e,color:#fff"),
        ("head", "stroke:#0969da,stroke-width:3px"),
    ):
        chart.style(cls, style, [ids[n.revision] for n in nodes if cls in n.annotations])
    return chart.text()


def _tree(nodes: Sequence[ChainNode]) -> str:
    """An indented tree from the oldest revisions down; a merge revision is shown once,
    under its first parent in the chain, and named under the others."""
    known = {n.revision: n for n in nodes}
    children: dict[str, list[str]] = {n.revision: [] for n in nodes}
    roots = []
    for n in nodes:
        inside = [p for p in n.parents if p in known]
        if not inside:
            roots.append(n.revision)
        for p in inside:
            children[p].append(n.revision)
    lines: list[str] = []
    shown: set[str] = set()

    def label(n: ChainNode) -> str:
        text = n.revision + (f" ({one_line(n.message, 50)})" if n.message else "")
        outside = [p for p in n.parents if p not in known]
        if outside:
            text += f" ← {', '.join(outside)} …"
        marks = marks_of(n)
        return text + (f"  [{', '.join(marks)}]" if marks else "")

    def walk(rev: str, prefix: str, connector: str, indent: str) -> None:
        if rev in shown:
            lines.append(f"{prefix}{connector}{rev} (merge revision, shown above)")
            return
        shown.add(rev)
        lines.append(prefix + connector + label(known[rev]))
        kids = children[rev]
        for i, child in enumerate(kids):
            last = i == len(kids) - 1
            walk(child, prefix + indent, "└─→ " if last else "├─→ ", "    " if last else "│   ")

    for root in roots:
        walk(root, "", "", "")
    return "\n".join(lines)


def _chain(env: EnvironmentSummary) -> ChainView:
    return ChainView(env.name, _mermaid(env.chain), _tree(env.chain), env.chain, env)


# -- next steps -----------------------------------------------------------------------------
def _next_steps(report: Report, ranked: Sequence[Finding]) -> tuple[str, ...]:
    steps: list[str] = []
    # The plan of each incident is on the first screen: named here, not repeated.
    told = {p for i in report.incidents for p in i.findings}
    for incident in report.incidents:
        steps.append(f"{incident.id} ({incident.status.value}): follow its plan, above.")
    rules = {f.rule for f in ranked}
    ranked = [f for f in ranked if f.fingerprint not in told]
    bursts = [] if told else report.bursts
    for b in bursts:
        if any(f.rule in (RuleId.FX301, RuleId.FX302) for f in ranked):
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
