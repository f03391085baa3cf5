"""Evidence shown beside the findings: which parts of an applied migration an edit changed
(from PyDriller's reading of the diff), the short diff itself, and the file and line each
finding points at."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from forensics.model.deploys import FailureWindow
from forensics.model.evidence import DiffDetail, EditEvidence, EditPart, FindingLocation
from forensics.model.findings import Finding
from forensics.model.migrations import GraphState, MigrationChange, MigrationFile
from forensics.model.rules import CHANGED_APPLIED

# A diff longer than this is cut: the reader needs to see what kind of change it is, and
# the whole file is one click away.
DIFF_LINES = 12
# Edits shown with their diff, over the whole report: past that, the list is the evidence.
MAX_EDITS = 30

_METADATA = re.compile(r"^\s*(revision|down_revision|branch_labels|depends_on)\s*(:[^=]*)?=")
_BLANK_OR_COMMENT = re.compile(r"^\s*(#.*)?$")


def _inside(line: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= line <= end for start, end in spans)


def edit_parts(detail: DiffDetail) -> tuple[EditPart, ...]:
    """Which parts an edit changed: the functions PyDriller says it changed (``upgrade``,
    ``downgrade``, any other), the metadata assignments, and other module lines (imports,
    docstring, constants). Blank and comment-only lines outside functions count for
    nothing."""
    parts: list[EditPart] = []
    for name in detail.changed_methods:
        short = name.rsplit("::", 1)[-1].rsplit(".", 1)[-1]
        if short == "upgrade":
            parts.append(EditPart.UPGRADE)
        elif short == "downgrade":
            parts.append(EditPart.DOWNGRADE)
        else:
            parts.append(EditPart.OTHER_FUNCTION)
    outside = [
        text
        for lines, spans in (
            (detail.added, detail.spans_after),
            (detail.deleted, detail.spans_before),
        )
        for number, text in lines
        if not _inside(number, spans)
    ]
    if any(_METADATA.match(text) for text in outside):
        parts.append(EditPart.METADATA)
    if any(not _METADATA.match(t) and not _BLANK_OR_COMMENT.match(t) for t in outside):
        parts.append(EditPart.MODULE)
    order = list(EditPart)
    return tuple(sorted(set(parts), key=order.index))


def short_diff(text: str, limit: int = DIFF_LINES) -> tuple[str, bool]:
    """The first ``limit`` lines of a unified diff, and whether it was cut."""
    lines = text.rstrip("\n").splitlines()
    return "\n".join(lines[:limit]), len(lines) > limit


def _metadata(version: MigrationFile) -> tuple[object, ...]:
    return (version.revision, version.down_revisions, version.depends_on, version.branch_labels)


def evidence(
    commit: str,
    revision: str | None,
    against: str | None,
    detail: DiffDetail,
    applied: MigrationFile | None = None,
    edited: MigrationFile | None = None,
) -> EditEvidence:
    """The evidence of one edit. ``applied`` and ``edited`` (the file as production applied
    it and as the edit left it, when parsed) tell a textual change of the metadata lines
    (quotes, spacing) from a real one, and a reformatting from a change of code."""
    diff, cut = short_diff(detail.diff)
    parts = edit_parts(detail)
    cosmetic = False
    if applied is not None and edited is not None and applied.parses and edited.parses:
        if _metadata(applied) == _metadata(edited):
            parts = tuple(p for p in parts if p is not EditPart.METADATA)
        elif EditPart.METADATA not in parts:
            parts = (*parts, EditPart.METADATA)
        cosmetic = bool(detail.diff) and (
            applied.ast_fingerprint is not None
            and applied.ast_fingerprint == edited.ast_fingerprint
        )
    return EditEvidence(
        commit=commit,
        path=detail.path,
        revision=revision,
        against=against,
        parts=parts,
        diff=diff,
        added=len(detail.added),
        deleted=len(detail.deleted),
        truncated=cut,
        cosmetic=cosmetic,
    )


def shown_edits(findings: Iterable[Finding]) -> list[tuple[str, str, str | None]]:
    """``(commit, path, revision)`` of each edit to an applied migration that the report
    shows, most severe finding first, at most ``MAX_EDITS``."""
    ranked = sorted(findings, key=lambda f: (-f.severity, -f.confidence, f.rule, f.path or ""))
    wanted: dict[tuple[str, str], str | None] = {}
    for finding in ranked:
        if finding.rule not in CHANGED_APPLIED or not finding.path:
            continue
        for sha in finding.commits:
            wanted.setdefault((sha, finding.path), finding.revision)
    return [(sha, path, rev) for (sha, path), rev in list(wanted.items())[:MAX_EDITS]]


def _changes_by_commit(changes: Iterable[MigrationChange]) -> dict[str, list[MigrationChange]]:
    found: dict[str, list[MigrationChange]] = {}
    for change in changes:
        for sha in dict.fromkeys((change.commit, *change.authors)):
            found.setdefault(sha, []).append(change)
    return found


def locations(
    findings: Sequence[Finding],
    states: Sequence[GraphState],
    changes: Sequence[MigrationChange],
    windows: Sequence[FailureWindow],
    fallback: str | None,
) -> tuple[FindingLocation, ...]:
    """A file and line for every finding: its own path, else the migration file its
    commits (or its window's possible causes) changed, else ``fallback`` (the first
    environment's ``env.py`` or ini). The line is the one that declares the revision, as
    the file is at the analysed revision or was last seen."""
    lines: dict[str, int] = {}
    for change in changes:  # oldest first: later versions win
        for version in (change.before, change.after):
            if version is not None and version.revision_line:
                lines[version.path] = version.revision_line
    for state in states:
        for migration in state.migrations:
            if migration.revision_line:
                lines[migration.path] = migration.revision_line
    by_commit = _changes_by_commit(changes)
    window_of: Mapping[tuple[str, ...], FailureWindow] = {w.deploys: w for w in windows}
    found = []
    for finding in findings:
        path = finding.path
        if path is None:
            shas = list(finding.commits)
            window = window_of.get(finding.deploys)
            if window is not None:
                shas = [s.commit for s in window.suspects if s.can_cause] + shas
            path = next((c.path for sha in shas for c in by_commit.get(sha, ())), None)
        path = path or fallback
        if path is None:
            continue
        line = finding.line if finding.path == path and finding.line else lines.get(path, 1)
        found.append(FindingLocation(finding.fingerprint, path, line))
    return tuple(found)
