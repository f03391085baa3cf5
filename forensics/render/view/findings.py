"""The findings as the root-cause section shows them: each finding's commit rows, the
suspects of its failure window, the diffs of its edits, and the rules broken."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from forensics.model.deploys import SuspectRole
from forensics.model.findings import Finding
from forensics.model.report import Report, RuleInfo
from forensics.model.rules import CHANGED_APPLIED, RuleGroup, RuleId, ids_in
from forensics.render.view.text import commit_url, file_url, short, when

# Deploy findings whose commits are their deploys' (FX402 names suspects instead).
_DEPLOY_EVIDENCE = ids_in(RuleGroup.DEPLOY) - {RuleId.FX402}


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
    if finding.rule not in CHANGED_APPLIED or not finding.path:
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


def views(report: Report, ranked: Sequence[Finding]) -> tuple[FindingView, ...]:
    """Each finding once, its commit table shown by the first finding that names those
    commits; a later one refers to it instead of repeating the table."""
    incident_of = {p: i.id for i in report.incidents for p in i.findings}
    shown: dict[frozenset[str], int] = {}
    deployed = {d.commit for d in report.deploys if d.commit}
    seen: set[tuple[str, str]] = set()  # edits whose diff is shown already
    out = []
    for index, finding in enumerate(ranked, 1):
        fv = _finding(report, finding, index, seen)
        key = frozenset(finding.commits)
        if finding.rule in _DEPLOY_EVIDENCE and key and key <= deployed:
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
        out.append(replace(fv, incident=incident_of.get(finding.fingerprint, "")))
    return tuple(out)


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


def rules(
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
