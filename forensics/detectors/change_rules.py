"""The rules of a change, for ``forensics guard``: the catalogue's rules applied to the
graphs on both sides of a change, as ``Finding``s worded like the detectors' ones.

- An applied migration the change edited: FX201 (its change kind says ``code`` or
  ``parse-error``; a ``cosmetic`` edit is listed apart, at low severity), rewired (FX202) or
  removed (FX203).
- A graph fault the change adds: FX101-FX106, as ``graph_rules.finding_of`` words it.
- A re-lock that would bless an edit: FX201 (changed or moved) or FX203 (gone).

Each finding's detail ends with its fix: the same carry-forward and merge commands a report
gives (``analysis.remediation``), and the command that puts the file back.

Pure: the two sides of the change (``analysis.snapshots``) come from the caller, with
``blame``, which names the commits of the change that touched some paths, and ``restore``,
which gives the command that puts a path back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from forensics.analysis import shell
from forensics.analysis.changes import classify
from forensics.analysis.remediation import carry_forward, merge_heads
from forensics.analysis.snapshots import Blame, Reference, Restore, Snapshot
from forensics.detectors.graph_rules import finding_of
from forensics.model.findings import ChangeRef, Confidence, Finding, Severity
from forensics.model.guard import STAGED, LockUpdate, fingerprint_of
from forensics.model.migrations import ChangeKind, GraphProblem, GraphState, MigrationFile
from forensics.model.report import Remediation
from forensics.model.rules import RuleId

_HINTS = {
    RuleId.FX103: "point down_revision at an existing revision (the current head)",
    RuleId.FX104: "break the cycle: a revision cannot descend from itself",
    RuleId.FX105: "fix the syntax error: every deploy that runs migrations would fail",
    RuleId.FX106: 'give the file a literal `revision = "..."`',
}
_NEW_REVISION = ("alembic", "revision", "-m", shell.text("<what the edit does>"))


# -- advice ---------------------------------------------------------------------------------
def _who(commits: Sequence[str]) -> str:
    if not commits:
        return "this change"
    if commits == (STAGED,):
        return "the staged change"
    shown = ", ".join(c[:8] for c in commits[:5]) + (" …" if len(commits) > 5 else "")
    return f"commit{'s' if len(commits) > 1 else ''} {shown}"


def _option(option: Remediation | None, fallback: str) -> str:
    """A report's remediation option as one sentence: its title and its commands, joined
    so that they paste as one line."""
    if option is None:
        return fallback
    if not option.commands:
        return f"{option.title} (no command: {'; '.join(option.warnings)})"
    said = f"{option.title}: `{' && '.join(option.commands)}`"
    return said + "".join(f" ({w.rstrip('.')})" for w in option.warnings)


def _carry_forward(revision: str, state: GraphState | None) -> str:
    fallback = f"Carry the change forward in a new migration: {shell.shown(*_NEW_REVISION)}"
    return _option(carry_forward(revision, state), fallback)


def _rewiring(before: MigrationFile | None, after: MigrationFile) -> str:
    """``down_revision a -> b`` for each metadata field that changed."""
    if before is None:
        return "revision, down_revision, depends_on or branch_labels"

    def fields(m: MigrationFile) -> dict[str, tuple[str | None, ...]]:
        return {
            "revision": (m.revision,),
            "down_revision": m.down_revisions,
            "depends_on": m.depends_on,
            "branch_labels": m.branch_labels,
        }

    old, now = fields(before), fields(after)
    changed = [
        f"{name} {', '.join(map(str, was)) or 'None'} -> {', '.join(map(str, now[name])) or 'None'}"
        for name, was in old.items()
        if was != now[name]
    ]
    return "; ".join(changed) or "its metadata is no longer a literal"


def _baseline(
    references: Sequence[Reference], before: MigrationFile | None
) -> MigrationFile | None:
    """What an edit is measured against: the file before the change, else as deployed."""
    return before or next((r.file for r in references if r.file), None)


def _finding(
    rule: RuleId,
    kind: ChangeKind | None,
    *,
    title: str,
    detail: str,
    revision: str | None,
    path: str | None,
    commits: tuple[str, ...] = (),
    line: int | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A finding of the change: its commits, each with the kind of what it did."""
    return Finding(
        rule=rule,
        name=rule.rule.name,
        severity=rule.rule.severity if severity is None else severity,
        confidence=Confidence.HIGH,
        title=title,
        detail=detail,
        revision=revision,
        path=path,
        line=line,
        commits=commits,
        changes=tuple(ChangeRef(c, kind) for c in commits) if kind else (),
    )


# -- applied migrations ---------------------------------------------------------------------
def applied_changes(
    before: Snapshot,
    after: Snapshot,
    refs: dict[str, list[Reference]],
    blame: Blame,
    restore: Restore,
) -> tuple[list[Finding], list[Finding], int]:
    """The findings against applied migrations, the cosmetic edits of them, and how many
    applied files the change touched."""
    failing: list[Finding] = []
    cosmetic: list[Finding] = []
    checked = 0
    for revision in sorted(refs):
        references = refs[revision]
        old = before.by_revision.get(revision)
        old_file = old[0] if old else None
        # Still at its path, but declaring another revision or no longer parsing?
        new = after.by_revision.get(revision) or (
            after.file_at(old_file.path) if old_file else None
        )
        if new is None and old_file is None:
            continue  # gone before this change: not this change's doing
        if new is not None and old_file is not None and old_file.blob == new[0].blob:
            continue
        checked += 1
        found = (
            _removed(revision, references[0].source, old_file, blame, restore)
            if new is None
            else _changed(revision, references, old_file, *new, blame, restore)
        )
        if found is not None:
            (cosmetic if found.severity < Severity.MEDIUM else failing).append(found)
    return failing, cosmetic, checked


def _removed(
    revision: str, source: str, old: MigrationFile | None, blame: Blame, restore: Restore
) -> Finding:
    assert old is not None
    commits = blame(old.path, semantic=False)
    return _finding(
        RuleId.FX203,
        ChangeKind.DELETED,
        title=f"Applied migration {revision} was removed from {old.path}",
        detail=(
            f"{old.path}: migration {revision} is applied ({source}) and {_who(commits)} "
            "removed it or moved it out of the versions folder; production's history still "
            f"needs it. Put it back ({restore(old.path)})"
        ),
        revision=revision,
        path=old.path,
        commits=commits,
        line=old.revision_line,
    )


def _changed(
    revision: str,
    references: Sequence[Reference],
    old: MigrationFile | None,
    new: MigrationFile,
    state: GraphState,
    blame: Blame,
    restore: Restore,
) -> Finding | None:
    applied = {r.fingerprint for r in references}
    if new.parses and fingerprint_of(new.ast_fingerprint or "") in applied:
        if old is None or fingerprint_of(old.ast_fingerprint or "") not in applied:
            return None  # new, or put back as production applied it: nothing to list
        commits = blame(old.path, new.path, semantic=False)
        return _finding(
            RuleId.FX201,
            ChangeKind.COSMETIC,
            title=f"Applied migration {revision} reformatted",
            detail=(
                f"{new.path}: {_who(commits)} reformatted applied migration {revision}; its "
                "code and metadata are unchanged"
            ),
            revision=revision,
            path=new.path,
            commits=commits,
            line=new.revision_line,
            severity=Severity.LOW,
        )
    baseline = _baseline(references, old)
    kind = classify(baseline, new)
    if kind is ChangeKind.COSMETIC:
        return None  # the file already differed from what was applied; this only reformats
    if kind is ChangeKind.ADDED:
        kind = ChangeKind.CODE  # no baseline to compare: whatever it is now, it changed
    paths = (old.path if old else None, new.path)
    commits = blame(*paths)
    rule = RuleId.FX202 if kind is ChangeKind.METADATA else RuleId.FX201
    what = {
        ChangeKind.METADATA: f"rewired it ({_rewiring(baseline, new)})",
        ChangeKind.PARSE_ERROR: "left it unparseable, so every deploy that runs migrations fails",
    }.get(kind, "changed its code")
    return _finding(
        rule,
        kind,
        title=f"Applied migration {revision} {'rewired' if rule == RuleId.FX202 else 'changed'} "
        f"by {_who(commits)}",
        detail=(
            f"{new.path}: migration {revision} is applied ({references[0].source}) and "
            f"{_who(commits)} {what}. Production will never run the edit. "
            f"{_carry_forward(revision, state)}, then put the file back "
            f"({restore(paths[0] or new.path)})"
        ),
        revision=revision,
        path=new.path,
        commits=commits,
        line=new.revision_line or (old.revision_line if old else None),
    )


# -- graph faults ---------------------------------------------------------------------------
def new_problems(
    before: Snapshot, after: Snapshot, blame: Blame, reported: set[str | None]
) -> list[Finding]:
    """Graph faults the change adds (``reported`` paths already have a finding)."""
    seen = {(p.kind, p.revision, p.path) for p in before.problems}
    found = []
    for state in after.states:
        for problem in state.problems:
            if problem.severity < Severity.HIGH:
                continue
            if (problem.kind, problem.revision, problem.path) in seen:
                continue
            if problem.rule == RuleId.FX105 and problem.path in reported:
                continue
            revision, path, paths, hint = _located(problem, state, before)
            commits = blame(*paths)
            detail = f"{problem.detail} (added by {_who(commits)}): {hint}"
            found.append(
                replace(
                    finding_of(problem),
                    revision=revision,
                    path=path,
                    commits=commits,
                    detail=detail,
                )
            )
    return found


def _located(
    problem: GraphProblem, state: GraphState, before: Snapshot
) -> tuple[str | None, str | None, list[str | None], str]:
    """The revision and path a fault names, the paths to blame, and the fix."""
    if problem.rule == RuleId.FX101:
        old_heads = {h for s in before.states for h in s.heads}
        added = [h for h in state.heads if h not in old_heads]
        files = state.by_revision()
        paths = [files[h].path for h in added if h in files]
        merge = _option(merge_heads(state), "merge the heads with `alembic merge`")
        hint = (
            "base the new migration on the current head instead (set its down_revision), or "
            f"{merge[0].lower()}{merge[1:]}"
        )
        return ", ".join(added) or None, ", ".join(paths) or None, [*paths], hint
    if problem.rule == RuleId.FX102:
        earlier = before.by_revision.get(problem.revision or "")
        paths = [
            m.path
            for m in state.migrations
            if m.revision == problem.revision and (earlier is None or earlier[0].path != m.path)
        ]
        hint = "give the new file its own revision id (`alembic revision` makes one)"
        return problem.revision, ", ".join(paths) or problem.path, [*paths], hint
    hint = _HINTS.get(problem.rule, problem.rule.rule.help)
    return problem.revision, problem.path, [problem.path], hint


# -- the lock file --------------------------------------------------------------------------
def lock_refusals(update: LockUpdate, rev: str, force: bool) -> tuple[list[Finding], list[str]]:
    """A re-lock's changed and removed entries: refused, or with ``force`` noted."""
    refused: list[Finding] = []
    notes: list[str] = []
    for old, new in update.changed:
        what = "moved to " + new.path if old.path != new.path else "changed its fingerprint"
        if force:
            notes.append(f"re-locked {old.revision} ({old.path}), which {what} (--force)")
            continue
        refused.append(
            _finding(
                RuleId.FX201,
                None,
                title=f"Locked migration {old.revision} {what}",
                detail=(
                    f"{new.path}: locked migration {old.revision} {what} since it was locked, "
                    "so it was edited after it was applied. Undo the edit and carry it forward "
                    "as a new revision, or re-lock it on purpose with --force"
                ),
                revision=old.revision,
                path=new.path,
            )
        )
    for gone in update.removed:
        if force:
            notes.append(f"unlocked {gone.revision} ({gone.path}), which is gone (--force)")
            continue
        refused.append(
            _finding(
                RuleId.FX203,
                None,
                title=f"Locked migration {gone.revision} is gone",
                detail=(
                    f"{gone.path}: locked migration {gone.revision} is gone at {rev}; put it "
                    "back, or unlock it on purpose with --force"
                ),
                revision=gone.revision,
                path=gone.path,
            )
        )
    return refused, notes


def relock_notes(lock: str, update: LockUpdate) -> list[str]:
    """What a change did to a tracked lock file: re-locked or unlocked entries pass, but
    they are said out loud."""
    return [
        f"{lock}: this change re-locks {o.revision} ({o.path}), whose fingerprint "
        "changed; it passes because the lock says so, make sure that was intended"
        for o, _n in update.changed
    ] + [
        f"{lock}: this change unlocks {gone.revision} ({gone.path}); make sure that was intended"
        for gone in update.removed
    ]
