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

from forensics.analysis import shell
from forensics.analysis.graph import ancestors
from forensics.model.commits import CommitRecord
from forensics.model.deploys import AppliedMigration
from forensics.model.findings import Finding, Severity
from forensics.model.migrations import GraphState
from forensics.model.report import Remediation
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


def _restore(point: AppliedMigration, finding: Finding, check: RestoreCheck | None) -> Remediation:
    source = point.since_commit or ""
    path = point.path
    evidence = f"deploy {point.since_deploy}" if point.since_deploy else f"{point.evidence}"
    warnings = []
    if check is not None and not check(source, path):
        warnings.append(
            f"The content of {path} at {_short(source)} does not parse either: restoring it "
            "brings back what production ran, but a deploy that imports it will still fail. "
            "Fix it in a new commit without changing its revision, down_revision or tables."
        )
    risks = [
        "Every intended change in the later edits is dropped from this file; carry it "
        "forward in a new migration (see the option below).",
        "Databases that already ran an edited version (a developer's, CI's, staging) may "
        "differ from production; compare their schema before relying on them.",
    ]
    lines: list[Line] = [
        ("git", "restore", "--source", shell.commit(source), "--", shell.path(path)),
        ("git", "add", "--", shell.path(path)),
    ]
    if finding.path and finding.path != path:
        lines.append(("git", "rm", "-q", "--", shell.path(finding.path)))
        risks.append(
            f"The file now lives at {finding.path}; it is removed so that revision "
            f"{point.revision} is declared once."
        )
    lines += [
        ("git", "diff", "--stat", shell.commit(source), "--", shell.path(path)),
        (
            "git",
            "commit",
            "-m",
            shell.text(f"Restore migration {point.revision} to its applied content"),
        ),
    ]
    commands, refused = _commands(*lines)
    return Remediation(
        title=f"Restore {point.revision} to the content production applied",
        commands=commands,
        why=(
            f"Production applied {point.revision} from commit {_short(source)} ({evidence}). "
            f"This puts {path} back exactly as it was there; the diff must print nothing."
        ),
        risks=tuple(risks),
        recommended=True,
        warnings=(*refused, *warnings),
    )


def _touched(record: CommitRecord, path: str) -> bool:
    return any(path in (f.path, f.old_path) for f in record.files)


def _newest_first(item: tuple[int, CommitRecord | None, str]) -> tuple[float, int]:
    order, record, _ = item
    return (-record.committed_at.timestamp() if record else 0.0, -order)


def _revert(
    finding: Finding, point: AppliedMigration | None, commits: Mapping[str, CommitRecord]
) -> Remediation | None:
    path = finding.path or (point.path if point else None)
    if path is None:
        return None
    chosen: list[tuple[int, CommitRecord | None, str]] = []
    for order, sha in enumerate(finding.commits):
        record = commits.get(sha)
        if record is not None and (record.is_merge or not _touched(record, path)):
            continue
        chosen.append((order, record, sha))
    if not chosen:
        return None
    # Newest first, so that each revert applies on top of the ones before it. Commit time
    # orders them; without every record, the finding's own (oldest-first) order does.
    if all(record is not None for _, record, _ in chosen):
        chosen.sort(key=_newest_first)
    else:
        chosen.reverse()
    shas = [sha for _, _, sha in chosen]
    risks = []
    for _, record, sha in chosen:
        if record is None:
            risks.append(
                f"Commit {_short(sha)} was not read; the other files it changed are unknown."
            )
            continue
        others = sorted({f.path for f in record.files} - {path})
        if others:
            risks.append(
                f"{_short(sha)} also changed {', '.join(others)}; the revert undoes those "
                "changes too."
            )
    risks.append(
        "Later commits built on earlier ones, so a revert can stop with a conflict; resolve "
        "it in favour of the older content."
    )
    lines: list[Line] = [("git", "revert", "--no-commit", *map(shell.commit, shas))]
    if point and point.since_commit:
        lines.append(
            ("git", "diff", "--stat", shell.commit(point.since_commit), "--", shell.path(path))
        )
    message = f"Revert {len(shas)} edit(s) of applied migration {finding.revision or path}"
    lines.append(("git", "commit", "-m", shell.text(message)))
    commands, refused = _commands(*lines)
    return Remediation(
        title=f"Revert exactly the {len(shas)} commit(s) that changed {path}",
        commands=commands,
        why=(
            f"Reverts, newest first, the non-merge commits that changed {path} after "
            "production applied it, and no other commit."
        ),
        risks=tuple(risks),
        warnings=refused,
    )


def _forward(finding: Finding, state: GraphState | None) -> Remediation | None:
    if state is None or not state.heads or finding.revision is None:
        return None
    heads = [h for h in state.heads if finding.revision in ancestors(state, [h])] or list(
        state.heads
    )
    head = heads[0]
    message = f"carry forward the intended changes to {finding.revision}"
    commands, warnings = _commands(
        *_alembic_prefix(state),
        (*_tool(state, "revision"), "-m", shell.text(message), "--head", shell.revision(head)),
    )
    if len(heads) > 1:
        warnings += (f"The graph has several heads ({', '.join(heads)}); merge them first.",)
    return Remediation(
        title="Carry the intended change forward in a new migration",
        commands=commands,
        why=(
            f"A new revision on head {head} runs in production on the next deploy, which an "
            f"edit to the applied {finding.revision} never does. Move the wanted part of the "
            "edits into it, guarded so that it is safe where the change already exists."
        ),
        risks=(
            "The new migration must cope with databases that ran an edited version of "
            f"{finding.revision} (check before you create or alter).",
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
        title=f"Re-run {finding.revision} in production (dangerous, not recommended)",
        commands=commands,
        why="The usual manual fix (stamp production back, upgrade again), with its real effect.",
        risks=tuple(risks),
        warnings=refused,
    )


def _merge(finding: Finding, state: GraphState | None) -> Remediation | None:
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
    """Remediation options for the findings, most important first, without duplicates.

    ``restore_parses(commit, path)`` tells whether the file parses at that commit; without
    it no parse warning is given. ``production`` are the revisions production is at.
    """
    found: list[Remediation] = []
    done: set[tuple[str | None, str | None]] = set()
    ranked = sorted(findings, key=lambda f: (-f.severity, -f.confidence, f.rule))
    for finding in ranked:
        if finding.rule in APPLIED_RULES and finding.severity >= Severity.MEDIUM:
            key = (finding.environment, finding.revision)
            if key in done or finding.revision is None:
                continue
            done.add(key)
            state = _state(states, finding.environment)
            point = _point(applied, finding)
            if point is not None and point.since_commit:
                found.append(_restore(point, finding, restore_parses))
            for option in (
                _revert(finding, point, commits) if finding.rule != RuleId.FX204 else None,
                _forward(finding, state),
                _rerun(finding, state, production),
            ):
                if option is not None:
                    found.append(option)
    for finding in ranked:
        if finding.rule == RuleId.FX101:
            state = _state(states, finding.environment)
            key = (state.environment.name if state else None, RuleId.FX101)
            if key in done:
                continue
            done.add(key)
            option = _merge(finding, state)
            if option is not None:
                found.append(option)
    return tuple(found)
