"""FX401-FX404: failure windows, the suspects behind them, deploys of broken graphs, and
what the failed deploys' own logs say.

The windows and their ranked suspects are computed before detection
(``analysis.windows``); these rules turn them into findings with their evidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

from forensics.analysis.applied import point_as_of
from forensics.analysis.windows import SCORE_APPLIED_EDIT, SCORE_LEFT_BROKEN, SCORE_OTHER
from forensics.detectors.base import Context
from forensics.model.deploys import (
    Deploy,
    DeployCategory,
    FailureCause,
    FailureClass,
    FailureWindow,
    Suspect,
    SuspectRole,
)
from forensics.model.findings import Confidence, Finding, Severity
from forensics.model.migrations import HistoryPoint
from forensics.model.rules import Rule, RuleGroup, RuleId, in_group

RULES: tuple[Rule, ...] = in_group(RuleGroup.DEPLOY)

SUSPECTS_SHOWN = 20


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _label(deploy: Deploy | None, ident: str | None) -> str:
    if deploy is None:
        return ident or "none"
    commit = f" of {(deploy.commit or deploy.commit_ref or '?')[:8]}"
    return f"{deploy.id} ({deploy.status}{commit}, {deploy.created_at:%Y-%m-%d %H:%M} UTC)"


def _streak(window: FailureWindow, by_id: dict[str, Deploy]) -> Finding:
    failed = [by_id[i] for i in window.deploys if i in by_id]
    statuses = sorted({d.status for d in failed})
    before = by_id.get(window.last_live_before or "")
    recovered = by_id.get(window.recovered_by or "")
    duration = _span(window.end - window.start)
    detail = (
        f"{window.count} deploy(s) failed in a row ({', '.join(statuses)}) over {duration}, "
        f"from {_label(by_id.get(window.first_failed), window.first_failed)} to "
        f"{_label(by_id.get(window.last_failed), window.last_failed)}. "
    )
    if before is not None:
        detail += f"The last successful deploy before them was {_label(before, None)}. "
    else:
        detail += "No successful deploy before them is known. "
    if recovered is not None:
        detail += f"Deploy {_label(recovered, None)} recovered."
    else:
        detail += "No deploy has succeeded since: production still runs the last good one."
    return Finding(
        rule=RuleId.FX401,
        name=RuleId.FX401.rule.name,
        # Open: nothing reaches production until someone acts. Recovered: a postmortem.
        severity=Severity.CRITICAL if window.open else Severity.HIGH,
        confidence=Confidence.HIGH,
        title=f"{window.count} failed deploy(s) in a row"
        + (" (still failing)" if window.open else f" (recovered by {window.recovered_by})"),
        detail=detail,
        commits=tuple(dict.fromkeys(d.commit for d in failed if d.commit)),
        deploys=window.deploys,
        start=window.start,
        end=window.end,
        facts=(
            ("failed deploys", str(window.count)),
            ("last successful before", window.last_live_before or "none"),
            ("first failed", window.first_failed),
            ("last failed", window.last_failed),
            ("recovered by", window.recovered_by or "not yet"),
            ("duration", duration),
        ),
    )


def _later_phrase(later: list[Suspect]) -> str:
    if not later:
        return ""
    failed = [s.commit[:8] for s in later if s.failed_fix]
    text = (
        f" {len(later)} commit(s) came after the first failed deploy's commit; they cannot "
        "have caused the failures and are listed apart"
    )
    if failed:
        text += f", and {', '.join(failed)} broke the migration graph again (a failed fix)"
    return text + "."


def _confidence(top: Suspect) -> Confidence:
    """How sure the first suspect makes the finding, by the tier of its score."""
    if top.score >= SCORE_LEFT_BROKEN:
        return Confidence.HIGH
    if top.score >= SCORE_APPLIED_EDIT:
        return Confidence.MEDIUM
    return Confidence.LOW


def _nothing_shipped(window: FailureWindow) -> tuple[str, str]:
    """Title and detail when the first failed deploy shipped no new commit."""
    before = window.last_live_before or "none known"
    title = (
        f"The first failed deploy {window.first_failed} shipped no commit that the last "
        "successful one did not run: the cause lies outside the code"
    )
    return title, f"Nothing changed between the last successful deploy ({before}) and it."


def _top_suspect(
    window: FailureWindow, top: Suspect, possible: int, bounded: bool
) -> tuple[str, str]:
    """Title and detail naming the first of ``possible`` ranked suspects."""
    if bounded:
        before = window.last_live_before or "none known"
        title = (
            f"Most likely cause of the failures from {window.first_failed}: commit {top.commit[:8]}"
        )
        detail = (
            f"{possible} commit(s) came between the last successful deploy ({before}) "
            f"and the first failed one; ranked first, {top.commit[:8]}: {top.reasons[0]}."
        )
        return title, detail
    title = (
        f"The cause of the failures from {window.first_failed} cannot be bounded; first "
        f"suspect: commit {top.commit[:8]}"
    )
    detail = (
        "No successful deploy before the failures is known, so the cause cannot be "
        f"bounded: the {possible} commit(s) before the first failed deploy are "
        f"ranked; first, {top.commit[:8]}: {top.reasons[0]}."
    )
    return title, detail


def _suspects(window: FailureWindow) -> Finding | None:
    if not window.suspects:
        return None
    possible = [s for s in window.suspects if s.can_cause]
    later = [s for s in window.suspects if not s.can_cause]
    relevant = [s for s in possible if s.score > SCORE_OTHER] or possible
    shown = relevant[:SUSPECTS_SHOWN]
    later_shown = [s for s in later if s.failed_fix or s.score > SCORE_OTHER][:SUSPECTS_SHOWN]
    if not shown:
        title, detail = _nothing_shipped(window)
        confidence = Confidence.MEDIUM
    else:
        bounded = all(s.role is SuspectRole.CAUSE for s in possible)
        title, detail = _top_suspect(window, shown[0], len(possible), bounded)
        confidence = _confidence(shown[0])
        if not bounded:
            confidence = min(confidence, Confidence.MEDIUM)
        if len(relevant) > len(shown):
            detail += f" {len(relevant) - len(shown)} more not shown."
    detail += _later_phrase(later)
    return Finding(
        rule=RuleId.FX402,
        name=RuleId.FX402.rule.name,
        severity=Severity.HIGH if window.open else Severity.LOW,
        confidence=confidence,
        title=title,
        detail=detail,
        commits=tuple(s.commit for s in (*shown, *later_shown)),
        deploys=window.deploys,
        start=window.start,
        end=window.end,
    )


def _class_phrase(window: FailureWindow) -> str:
    return ", ".join(f"{klass.value} ({count})" for klass, count in window.class_counts)


def _cause(window: FailureWindow, by_id: dict[str, Deploy]) -> Finding | None:
    causes = window.causes
    if not causes:
        return None
    firsts: dict[str, FailureCause] = {}
    for cause in causes:
        firsts.setdefault(cause.failure_class.value, cause)
    leading = next((c for c in causes if c.failure_class.migration_related), causes[0])
    known = [c for c in causes if c.signature]
    elsewhere = all(c.failure_class.elsewhere for c in causes)
    detail = (
        f"The logs of {len(causes)} of the window's {window.count} failed deploy(s) were "
        f"read: {_class_phrase(window)}. "
    )
    for cause in firsts.values():
        where = f"line {cause.line_number}" if cause.line_number else "the log"
        detail += (
            f"{cause.failure_class.value}: {cause.meaning}; first in deploy {cause.deploy} "
            f"({where}): “{cause.line}”. "
        )
    if elsewhere:
        detail += (
            "This window is probably not a migration incident: no log shows a migration "
            "failing, so the commits that changed migrations are weaker suspects here."
        )
    subject = leading.subject
    revision = subject if leading.failure_class is FailureClass.UNKNOWN_REVISION else None
    facts: list[tuple[str, str]] = [("classes", _class_phrase(window))]
    for cause in firsts.values():
        where = f", line {cause.line_number}" if cause.line_number else ""
        facts.append((f"{cause.failure_class.value}: {cause.deploy}{where}", cause.line))
    if subject:
        facts.append(("named in the log", subject))
    failed = [by_id[c.deploy] for c in causes if c.deploy in by_id]
    return Finding(
        rule=RuleId.FX404,
        name=RuleId.FX404.rule.name,
        severity=Severity.HIGH if window.open else Severity.LOW,
        confidence=Confidence.HIGH if known else Confidence.LOW,
        title=(
            f"The failed deploys' logs say: {_class_phrase(window)}"
            + (" (probably not a migration incident)" if elsewhere else "")
        ),
        detail=detail.strip(),
        revision=revision,
        commits=tuple(dict.fromkeys(d.commit for d in failed if d.commit)),
        deploys=tuple(c.deploy for c in causes),
        start=window.start,
        end=window.end,
        facts=tuple(facts),
    )


def _broken_deploy(deploy: Deploy, point: HistoryPoint) -> Finding:
    problems = [p for p in point.problems if p.severity >= Severity.HIGH]
    first = problems[0]
    listed = "; ".join(f"{p.name} ({p.rule}): {p.detail}" for p in problems[:3])
    if deploy.category.succeeded:
        severity = Severity.HIGH
        outcome = (
            "It went live anyway, so its migrations cannot have run: the database is behind "
            "the code it serves."
        )
    elif deploy.category is DeployCategory.FAILED:
        severity = Severity.MEDIUM
        outcome = "It failed, as any deploy that runs these migrations must."
    else:
        severity = Severity.LOW
        outcome = f"Its outcome is {deploy.status}."
    return Finding(
        rule=RuleId.FX403,
        name=RuleId.FX403.rule.name,
        severity=severity,
        confidence=Confidence.HIGH,
        title=f"Deploy {deploy.id} shipped commit {(deploy.commit or '?')[:8]} with a broken "
        "migration graph",
        detail=f"At commit {(deploy.commit or '?')[:8]} the graph had: {listed}. {outcome}",
        revision=first.revision,
        path=first.path,
        commits=(deploy.commit,) if deploy.commit else (),
        deploys=(deploy.id,),
        start=deploy.created_at,
        end=deploy.finished_at or deploy.created_at,
        environment=first.environment,
        facts=(("deploy status", deploy.status), ("graph as of", point.commit)),
    )


def _broken_in_window(window: FailureWindow, broken: list[tuple[Deploy, HistoryPoint]]) -> Finding:
    """The failed deploys of one window that shipped a broken graph, as one finding: the
    window is the event, each deploy a piece of its evidence."""
    deploy, point = broken[0]
    first = _broken_deploy(deploy, point)
    commits = tuple(dict.fromkeys(d.commit for d, _p in broken if d.commit))
    if len(broken) == 1:
        return first
    problems = sorted({f"{p.name} ({p.rule})" for _d, pt in broken for p in pt.problems
                       if p.severity >= Severity.HIGH})  # fmt: skip
    return replace(
        first,
        title=f"{len(broken)} failed deploys of the window from {window.first_failed} shipped "
        "a broken migration graph",
        detail=(
            f"{len(broken)} of the window's {window.count} failed deploys shipped a commit whose "
            f"migration graph was broken ({', '.join(problems)}); the first was {deploy.id} of "
            f"{(deploy.commit or '?')[:8]}. They failed, as any deploy that runs these "
            "migrations must."
        ),
        commits=commits,
        deploys=tuple(d.id for d, _p in broken),
        end=max(d.finished_at or d.created_at for d, _p in broken),
        facts=tuple((d.id, f"{d.status} of {(d.commit or '?')[:8]}") for d, _p in broken),
    )


def detect(ctx: Context) -> Iterator[Finding]:
    by_id = {d.id: d for d in ctx.deploys}
    for window in ctx.failure_windows:
        yield _streak(window, by_id)
        suspects = _suspects(window)
        if suspects is not None:
            yield suspects
        cause = _cause(window, by_id)
        if cause is not None:
            yield cause
    window_of = {i: w for w in ctx.failure_windows for i in w.deploys}
    per_window: dict[str, list[tuple[Deploy, HistoryPoint]]] = {}
    for deploy in ctx.deploys:
        if deploy.commit is None:
            continue
        record = ctx.commits.get(deploy.commit)
        point = point_as_of(ctx.history, deploy.commit, record.committed_at if record else None)
        if point is None or not point.broken:
            continue
        home = window_of.get(deploy.id)
        if home is not None and deploy.category is DeployCategory.FAILED:
            per_window.setdefault(home.first_failed, []).append((deploy, point))
        else:
            yield _broken_deploy(deploy, point)
    for window in ctx.failure_windows:
        if window.first_failed in per_window:
            yield _broken_in_window(window, per_window[window.first_failed])
