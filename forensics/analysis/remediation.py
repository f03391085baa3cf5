"""Remediation options with exact commands, computed from the findings and their evidence.

For an applied migration that was edited, rewired or removed (FX201-FX203): put back the
content production applied (``git restore`` from the application point), or revert exactly
the non-merge commits that touched the file (newest first, naming the other files they
changed), then carry the intended change forward as a new revision on the right head. The
seed report's "re-apply in production" option is stated with its real effect and risks, and
never recommended. For several heads (FX101): the ``alembic merge`` of those heads.

Revision ids, paths and messages are untrusted: every command is built by ``shell.command``,
which quotes each value and withholds a command (with a warning) whose value is implausible.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from forensics.analysis import shell
from forensics.analysis.graph import ancestors
from forensics.model.commits import CommitRecord
from forensics.model.deploys import AppliedMigration
from forensics.model.findings import Finding, Severity
from forensics.model.migrations import GraphState
from forensics.model.report import Remediation, RemediationKind
from forensics.model.rules import RuleGroup, RuleId, ids_in

APPLIED_RULES = ids_in(RuleGroup.APPLIED)
RestoreCheck = Callable[[str, str], bool]


def _short(sha: str) -> str:
    return sha[:8]


def _state(states: Sequence[GraphState], environment: str | None) -> GraphState | None:
    for state in states:
        if environment is None or state.environment.name == environment:
            return state
    return states[0] if states else None


def _point(applied: Sequence[AppliedMigration], finding: Finding) -> AppliedMigration | None:
    matches = [a for a in applied if a.revision == finding.revision]
    if finding.environment is not None:
        matches = [a for a in matches if a.environment == finding.environment] or matches
    return matches[0] if matches else None


Line = tuple[str | shell.Arg, ...]


def _commands(*lines: Line) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The command lines and no warning, or no command and the warning that says which
    value was refused: a partial list of commands would be worse than none."""
    try:
        return tuple(shell.command(*line) for line in lines), ()
    except shell.UnsafeValue as exc:
        return (), (str(exc),)


def _alembic_prefix(state: GraphState | None) -> list[Line]:
    """The folder the migration tool runs from. Alembic reads its ini from there; when no ini
    names the environment, ``alembic init`` put it in the folder above the script location.
    Flask-Migrate runs from the application's folder, the one that holds the migrations
    folder (its ini, inside the migrations folder, has no script location of its own)."""
    if state is None:
        return []
    env = state.environment
    if env.config is not None and not env.flask:
        folder = posixpath.dirname(env.config)
    else:
        folder = posixpath.dirname(env.script_location.rstrip("/"))
    return [("cd", shell.path(folder))] if folder else []


def _tool(state: GraphState | None, command: str) -> Line:
    """One migration command as it is called from that folder: ``flask db`` for
    Flask-Migrate (``-d`` unless the folder has its default name ``migrations``), else
    ``alembic`` with the ini's name and section when they are not the defaults."""
    env = state.environment if state is not None else None
    if env is not None and env.flask:
        name = posixpath.basename(env.script_location.rstrip("/"))
        directory: Line = () if name == "migrations" else ("-d", shell.path(name))
        return ("flask", "db", command, *directory)
    options: Line = ()
    if env is not None and env.config is not None:
        ini = posixpath.basename(env.config)
        options += ("-c", shell.path(ini)) if ini != "alembic.ini" else ()
        options += ("-n", shell.text(env.section)) if env.section != "alembic" else ()
    return ("alembic", *options, command)


_Restored = dict[str, list[tuple[AppliedMigration, Finding]]]


def _restore(
    items: Sequence[tuple[AppliedMigration, Finding]], check: RestoreCheck | None
) -> Remediation:
    """One option that puts every edited applied migration back as production applied it:
    one ``git restore`` per application commit, naming all its files."""
    by_source: _Restored = {}
    for point, finding in items:
        by_source.setdefault(point.since_commit or "", []).append((point, finding))
    warnings = _unparsable(by_source, check)
    wording = _restore_wording(items, by_source)
    commit: Line = ("git", "commit", "-m", shell.text(wording.message))
    commands, refused = _commands(*_restore_lines(by_source), commit)
    return Remediation(
        kind=RemediationKind.RESTORE,
        title=wording.title,
        commands=commands,
        why=wording.why,
        risks=_restore_risks(items, by_source),
        # a restore that brings back content that does not parse is no fix to recommend
        recommended=not warnings,
        warnings=(*refused, *warnings),
    )


def _moved(point: AppliedMigration, finding: Finding) -> bool:
    """Whether the file of an applied migration now lives at another path."""
    return bool(finding.path) and finding.path != point.path


def _restore_lines(by_source: _Restored) -> list[Line]:
    """Per application commit: restore its files (removing them where they moved since),
    then stage them; then one diff per commit that must print nothing."""
    lines: list[Line] = []
    checks: list[Line] = []
    for source, group in by_source.items():
        paths = [shell.path(p.path) for p, _f in group]
        lines.append(("git", "restore", "--source", shell.commit(source), "--", *paths))
        lines.append(("git", "add", "--", *paths))
        checks.append(("git", "diff", "--stat", shell.commit(source), "--", *paths))
        lines += [
            ("git", "rm", "-q", "--", shell.path(f.path or "")) for p, f in group if _moved(p, f)
        ]
    return [*lines, *checks]


def _unparsable(by_source: _Restored, check: RestoreCheck | None) -> list[str]:
    """A warning for each file whose applied content does not parse either."""
    if check is None:
        return []
    return [
        f"The content of {point.path} at {_short(source)} does not parse either: "
        "restoring it brings back what production ran, but a deploy that imports "
        "it will still fail, and fresh databases need the fix: carry it forward "
        "instead, without changing its revision, down_revision or tables."
        for source, group in by_source.items()
        for point, _finding in group
        if not check(source, point.path)
    ]


def _restore_risks(
    items: Sequence[tuple[AppliedMigration, Finding]], by_source: _Restored
) -> tuple[str, ...]:
    """What a restore drops, what it cannot vouch for, and the moved files it removes."""
    what = "these files" if len(items) > 1 else "this file"
    moved = [
        f"The file now lives at {finding.path}; it is removed so that revision "
        f"{point.revision} is declared once."
        for group in by_source.values()
        for point, finding in group
        if _moved(point, finding)
    ]
    return (
        f"Every intended change in the later edits is dropped from {what}; carry it "
        "forward in a new migration (see the option below).",
        "Databases that already ran an edited version (a developer's, CI's, staging) may "
        "differ from production; compare their schema before relying on them.",
        *moved,
    )


@dataclass(frozen=True)
class _Wording:
    """How an option presents itself: its title, why it is right, its commit message."""

    title: str
    why: str
    message: str


def _restore_wording(
    items: Sequence[tuple[AppliedMigration, Finding]], by_source: _Restored
) -> _Wording:
    """One migration is named with where production applied it from; several are counted."""
    if len(items) == 1:
        point = items[0][0]
        evidence = f"deploy {point.since_deploy}" if point.since_deploy else f"{point.evidence}"
        return _Wording(
            title=f"Restore {point.revision} to the content production applied",
            why=(
                f"Production applied {point.revision} from commit "
                f"{_short(point.since_commit or '')} ({evidence}). This puts {point.path} back "
                "exactly as it was there; the diff must print nothing."
            ),
            message=f"Restore migration {point.revision} to its applied content",
        )
    revisions = [p.revision for p, _f in items]
    named = ", ".join(revisions) if len(revisions) <= 3 else f"{len(revisions)} migrations"
    return _Wording(
        title=f"Restore {named} to the content production applied",
        why=(
            f"Puts the {len(items)} files back exactly as production applied them, from "
            f"{', '.join(_short(s) for s in by_source)}; the diff must print nothing."
        ),
        message=f"Restore {len(items)} applied migrations to their applied content",
    )


def _touched(record: CommitRecord, paths: Sequence[str]) -> bool:
    return any(f.path in paths or f.old_path in paths for f in record.files)


def _newest_first(item: tuple[int, CommitRecord | None, str]) -> tuple[float, int]:
    order, record, _ = item
    return (-record.committed_at.timestamp() if record else 0.0, -order)


_Chosen = tuple[int, CommitRecord | None, str]  # (order in the findings, record, sha)


def _revert(
    items: Sequence[tuple[Finding, AppliedMigration | None]],
    commits: Mapping[str, CommitRecord],
) -> Remediation | None:
    """One ``git revert`` over exactly the non-merge commits that changed the files, however
    many files each of them touched."""
    paths = list(
        dict.fromkeys(
            path for f, p in items if (path := f.path or (p.path if p else None)) is not None
        )
    )
    if not paths:
        return None
    chosen = _reverted(items, commits, paths)
    if not chosen:
        return None
    shas = [sha for _, _, sha in chosen]
    what = items[0][0].revision or paths[0] if len(paths) == 1 else f"{len(paths)} files"
    message = f"Revert {len(shas)} edit(s) of applied migration {what}"
    commands, refused = _commands(
        ("git", "revert", "--no-commit", *map(shell.commit, shas)),
        *_applied_diffs(items),
        ("git", "commit", "-m", shell.text(message)),
    )
    where = paths[0] if len(paths) == 1 else f"{len(paths)} applied migrations"
    return Remediation(
        kind=RemediationKind.REVERT,
        title=f"Revert exactly the {len(shas)} commit(s) that changed {where}",
        commands=commands,
        why=(
            f"Reverts, newest first, the non-merge commits that changed {', '.join(paths)} "
            "after production applied it, and no other commit."
        ),
        risks=_revert_risks(chosen, paths),
        warnings=refused,
    )


def _reverted(
    items: Sequence[tuple[Finding, AppliedMigration | None]],
    commits: Mapping[str, CommitRecord],
    paths: Sequence[str],
) -> list[_Chosen]:
    """The commits of the findings to revert, each once: not merges, and (when read) only
    those that changed one of ``paths``."""
    chosen: list[_Chosen] = []
    seen: set[str] = set()
    for finding, _point in items:
        for sha in finding.commits:
            if sha in seen:
                continue
            seen.add(sha)
            record = commits.get(sha)
            if record is not None and (record.is_merge or not _touched(record, paths)):
                continue
            chosen.append((len(chosen), record, sha))
    # Newest first, so that each revert applies on top of the ones before it. Commit time
    # orders them; without every record, the finding's own (oldest-first) order does.
    if all(record is not None for _, record, _ in chosen):
        chosen.sort(key=_newest_first)
    else:
        chosen.reverse()
    return chosen


def _applied_diffs(items: Sequence[tuple[Finding, AppliedMigration | None]]) -> list[Line]:
    """One diff per application commit against the files applied from it."""
    lines: list[Line] = []
    for source in dict.fromkeys(p.since_commit for _f, p in items if p and p.since_commit):
        mine = [shell.path(p.path) for _f, p in items if p and p.since_commit == source]
        lines.append(("git", "diff", "--stat", shell.commit(source or ""), "--", *mine))
    return lines


def _revert_risks(chosen: Sequence[_Chosen], paths: Sequence[str]) -> tuple[str, ...]:
    """What else each revert undoes, and the conflicts a chain of reverts meets."""
    risks = []
    for _, record, sha in chosen:
        if record is None:
            risks.append(
                f"Commit {_short(sha)} was not read; the other files it changed are unknown."
            )
            continue
        others = sorted({f.path for f in record.files} - set(paths))
        if others:
            risks.append(
                f"{_short(sha)} also changed {', '.join(others)}; the revert undoes those "
                "changes too."
            )
    risks.append(
        "Later commits built on earlier ones, so a revert can stop with a conflict; resolve "
        "it in favour of the older content."
    )
    return tuple(risks)


def carry_forward(
    revision: str | None, state: GraphState | None, count: int = 1
) -> Remediation | None:
    """A new revision on the head that descends from ``revision`` (``count`` applied
    migrations were edited). ``forensics guard`` gives the same advice."""
    if state is None or not state.heads or revision is None:
        return None
    heads = [h for h in state.heads if revision in ancestors(state, [h])] or list(state.heads)
    head = heads[0]
    what = revision if count == 1 else f"{count} applied migrations"
    message = f"carry forward the intended changes to {what}"
    commands, warnings = _commands(
        *_alembic_prefix(state),
        (*_tool(state, "revision"), "-m", shell.text(message), "--head", shell.revision(head)),
    )
    if len(heads) > 1:
        warnings += (f"The graph has several heads ({', '.join(heads)}); merge them first.",)
    return Remediation(
        kind=RemediationKind.FORWARD,
        title="Carry the intended change forward in a new migration",
        commands=commands,
        why=(
            f"A new revision on head {head} runs in production on the next deploy, which an "
            f"edit to the applied {revision} never does. Move the wanted part of the "
            "edits into it, guarded so that it is safe where the change already exists."
        ),
        risks=(
            "The new migration must cope with databases that ran an edited version of "
            f"{revision} (check before you create or alter).",
        ),
        warnings=warnings,
    )


def _rerun(
    finding: Finding, state: GraphState | None, production: Sequence[str]
) -> Remediation | None:
    if state is None or finding.revision is None:
        return None
    migration = state.by_revision().get(finding.revision)
    if migration is None:
        return None
    parents = list(migration.down_revisions) or ["base"]
    at = list(production) or list(state.heads)
    rerun = ancestors(state, at) - ancestors(state, migration.down_revisions)
    risks = [
        f"alembic_version holds only the revisions production is at ({', '.join(at)}), not "
        f"{finding.revision}: deleting {finding.revision} from it deletes nothing.",
        f"Stamping back to {', '.join(parents)} makes `alembic upgrade head` run "
        f"{len(rerun)} migration(s) again, not just {finding.revision}: tables that exist "
        "make them fail, and data can be lost if a downgrade or upgrade half-runs.",
        "It needs a backup, a maintenance window and someone watching the database.",
    ]
    commands, refused = _commands(
        *_alembic_prefix(state),
        (*_tool(state, "stamp"), "--purge", *map(shell.revision, parents)),
        (*_tool(state, "upgrade"), "head"),
    )
    return Remediation(
        kind=RemediationKind.RERUN,
        title=f"Re-run {finding.revision} in production (dangerous, not recommended)",
        commands=commands,
        why="The usual manual fix (stamp production back, upgrade again), with its real effect.",
        risks=tuple(risks),
        warnings=refused,
    )


def merge_heads(state: GraphState | None) -> Remediation | None:
    """The merge revision that joins the heads of ``state``; ``forensics guard`` gives the
    same advice."""
    if state is None or len(state.heads) < 2:
        return None
    heads = " ".join(state.heads)
    commands, refused = _commands(
        *_alembic_prefix(state),
        (
            *_tool(state, "merge"),
            "-m",
            shell.text("merge heads"),
            *map(shell.revision, state.heads),
        ),
    )
    return Remediation(
        kind=RemediationKind.MERGE,
        title=f"Merge the {len(state.heads)} heads",
        commands=commands,
        why=(
            f"`alembic upgrade head` fails while the graph has several heads ({heads}); a "
            "merge revision joins them without changing either branch."
        ),
        risks=(
            "The merge fixes no order between the branches: when both touch the same tables, "
            "review them first.",
            "When the second head came from an edited down_revision, restoring that edit is "
            "the fix, not a merge.",
        ),
        warnings=refused,
    )


def remediations(
    findings: Sequence[Finding],
    commits: Mapping[str, CommitRecord],
    applied: Sequence[AppliedMigration],
    states: Sequence[GraphState],
    *,
    restore_parses: RestoreCheck | None = None,
    production: Sequence[str] = (),
) -> tuple[Remediation, ...]:
    """Remediation options for the findings, most important first, each once: per
    environment one restore, one revert, one carry-forward and one re-run covering every
    edited applied migration, then one merge of the heads.

    ``restore_parses(commit, path)`` tells whether the file parses at that commit; without
    it no parse warning is given. ``production`` are the revisions production is at.
    """
    found: list[Remediation] = []
    done: set[tuple[str | None, str | None]] = set()
    ranked = sorted(findings, key=lambda f: (-f.severity, -f.confidence, f.rule))
    groups: dict[str | None, list[tuple[Finding, AppliedMigration | None]]] = {}
    for finding in ranked:
        if finding.rule in APPLIED_RULES and finding.severity >= Severity.MEDIUM:
            key = (finding.environment, finding.revision)
            if key in done or finding.revision is None:
                continue
            done.add(key)
            groups.setdefault(finding.environment, []).append((finding, _point(applied, finding)))
    for environment, items in groups.items():
        state = _state(states, environment)
        restorable = [(p, f) for f, p in items if p is not None and p.since_commit]
        restore = _restore(restorable, restore_parses) if restorable else None
        forward = carry_forward(items[0][0].revision, state, len(items))
        if forward is not None and restore is not None and not restore.recommended:
            forward = replace(forward, recommended=True)
        for option in (
            restore,
            _revert([(f, p) for f, p in items if f.rule != RuleId.FX204], commits),
            forward,
            _rerun(items[0][0], state, production),
        ):
            if option is not None:
                found.append(option)
    return (*found, *_merges(ranked, states, done))


def _merges(
    ranked: Sequence[Finding],
    states: Sequence[GraphState],
    done: set[tuple[str | None, str | None]],
) -> list[Remediation]:
    """One merge of the heads per environment with several heads (FX101), unless ``done``
    holds it already."""
    found: list[Remediation] = []
    for finding in ranked:
        if finding.rule == RuleId.FX101:
            state = _state(states, finding.environment)
            key = (state.environment.name if state else None, RuleId.FX101)
            if key in done:
                continue
            done.add(key)
            option = merge_heads(state)
            if option is not None:
                found.append(option)
    return found
