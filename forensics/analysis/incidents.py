"""Incidents: the findings grouped into the stories an on-call engineer acts on.

An incident is a failure window (recovered or still open at ``--until``) together with what
explains it: its suspects, the edits to applied migrations and the graph breaks among the
commits it shipped, the bursts and automation behind those edits, and the deploys that
shipped a broken graph. Edits to applied migrations made after the last successful deploy
are an incident of their own ("at risk") before any deploy fails, because the next deploy
ships them. A finding that explains none of this (a churn, a lone old edit) stays a plain
finding.

Each incident carries its headline, impact, cause and one plan: numbered steps with the
exact command where there is one, taken from the remediation options (``shell`` quoted
them), and the other options named once. Pure functions over the ``Report``.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Sequence
from datetime import UTC, datetime

from forensics.analysis import shell
from forensics.model.deploys import Deploy, DeployCategory, FailureWindow
from forensics.model.findings import Finding, Severity
from forensics.model.incidents import Incident, IncidentStatus, PlanStep, literal
from forensics.model.report import Burst, Remediation, RemediationKind, Report
from forensics.model.rules import BURSTS, RuleGroup, RuleId, ids_in
from forensics.model.text import plural

APPLIED_RULES = ids_in(RuleGroup.APPLIED)
# unresolved metadata (FX107) breaks nothing by itself
GRAPH_RULES = ids_in(RuleGroup.GRAPH) - {RuleId.FX107}
WINDOW_RULES = ids_in(RuleGroup.DEPLOY)
AUTOMATED = 0.5


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M UTC")


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _span(start: datetime, end: datetime) -> str:
    if start.date() == end.date():
        return f"{start.astimezone(UTC):%H:%M}–{end.astimezone(UTC):%H:%M} UTC"
    return f"{_when(start)} – {_when(end)}"


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes / 60
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


@dataclasses.dataclass(frozen=True)
class _Story:
    """An incident before it is worded: its window and its findings."""

    status: IncidentStatus
    window: int | None
    findings: tuple[Finding, ...]
    at: datetime


def _last_success(deploys: Sequence[Deploy], before: datetime | None = None) -> Deploy | None:
    pool = [
        d for d in deploys if d.category.succeeded and (before is None or d.created_at <= before)
    ]
    live = [d for d in pool if d.category is DeployCategory.LIVE]
    chosen = live or pool
    return max(chosen, key=lambda d: (d.created_at, d.id)) if chosen else None


def _window_commits(report: Report, window: FailureWindow) -> set[str]:
    by_id = {d.id: d for d in report.deploys}
    shipped = {by_id[i].commit for i in window.deploys if i in by_id and by_id[i].commit}
    return {s.commit for s in window.suspects} | {c for c in shipped if c}


def _serious_applied(f: Finding) -> bool:
    return f.rule in APPLIED_RULES and f.severity >= Severity.MEDIUM


def _stories(report: Report) -> list[_Story]:
    """The incidents before they are worded, the most urgent first: one per failure window,
    then the edits to applied migrations no window claimed, each with its bursts."""
    stories = [
        _window_story(report, index, window) for index, window in enumerate(report.failure_windows)
    ]
    claimed = {f.fingerprint for story in stories for f in story.findings}
    pending = _pending_story(report, claimed)
    if pending is not None:
        stories.append(pending)
    stories = [_with_bursts(report, story) for story in stories]
    order = {s: s.urgency for s in IncidentStatus}
    return sorted(
        (s for s in stories if s.findings),
        key=lambda s: (order[s.status], -s.at.timestamp()),
    )


def _window_story(report: Report, index: int, window: FailureWindow) -> _Story:
    """A failure window with its deploy findings, and the edits to applied migrations and
    graph breaks among the commits it shipped."""
    commits = _window_commits(report, window)
    ids = set(window.deploys)
    mine = [
        f
        for f in report.findings
        if f.rule in WINDOW_RULES and (set(f.deploys) & ids or f.start == window.start)
    ]
    for f in report.findings:
        if f.rule in APPLIED_RULES or f.rule in GRAPH_RULES:
            related = bool(set(f.commits) & commits)
            # An open window ships every later edit too: the next deploy carries it.
            later = window.open and f.end is not None and f.end >= window.start
            if (related or later) and (_serious_applied(f) or f.rule in GRAPH_RULES):
                mine.append(f)
    status = IncidentStatus.BLOCKED if window.open else IncidentStatus.RECOVERED
    return _Story(status, index, tuple(mine), window.start)


def _pending_story(report: Report, claimed: set[str]) -> _Story | None:
    """Edits to applied migrations that no deploy has shipped yet: the next one will."""
    last = _last_success(report.deploys)
    pending = [
        f
        for f in report.findings
        if _serious_applied(f)
        and f.fingerprint not in claimed
        and (
            (last is None and f.severity >= Severity.HIGH)
            or (last is not None and f.end is not None and f.end > last.created_at)
        )
    ]
    if not pending:
        return None
    at = min(f.start or report.until for f in pending)
    return _Story(IncidentStatus.AT_RISK, None, tuple(pending), at)


def _with_bursts(report: Report, story: _Story) -> _Story:
    """The story with the bursts behind its edits."""
    commits = {c for f in story.findings if f.rule in APPLIED_RULES for c in f.commits}
    extra = [
        f
        for f in report.findings
        if f.rule in BURSTS and set(f.commits) & commits and f not in story.findings
    ]
    return dataclasses.replace(story, findings=(*story.findings, *extra))


def _ranked(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.severity, -f.confidence, f.rule, f.path or ""))


def _serves(report: Report, window: FailureWindow | None) -> str:
    """What production serves: deploy, commit, revision, since when."""
    last = _last_success(report.deploys, report.until)
    revisions = report.production.revisions
    revision = (
        f"revision {', '.join(literal(r) for r in revisions)}"
        if revisions
        else "an unknown revision"
    )
    if last is None:
        if revisions:
            return f"Production is at {revision}."
        return "What production serves is unknown (no successful deploy in the deploy data)."
    commit = literal((last.commit or last.commit_ref or "?")[:8])
    since = _clock(last.finished_at or last.created_at)
    if window is not None and (last.finished_at or last.created_at).date() != window.start.date():
        since = _when(last.finished_at or last.created_at)
    verb = "still serves" if window is not None and window.open else "serves"
    return (
        f"Production {verb} deploy {literal(last.id)} (commit {commit}, {revision}), "
        f"live since {since}."
    )


def _kinds(f: Finding) -> str:
    counts: dict[str, int] = {}
    for ref in f.changes:
        counts[ref.kind] = counts.get(ref.kind, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def _cause(report: Report, story: _Story, window: FailureWindow | None) -> str:
    ranked = _ranked(story.findings)
    applied = [f for f in ranked if f.rule in APPLIED_RULES]
    parts: list[str] = []
    modified = next((f for f in applied if f.rule == RuleId.FX201), applied[0] if applied else None)
    if modified is not None:
        revisions = list(dict.fromkeys(f.revision for f in applied if f.revision))
        commits = {c for f in applied for c in f.commits}
        where = f" ({literal(modified.path)})" if modified.path else ""
        kinds = _kinds(modified)
        others = f" and {len(revisions) - 1} more" if len(revisions) > 1 else ""
        parts.append(
            f"Applied migration {literal(modified.revision or modified.path)}{where}{others} was "
            f"changed by {plural(len(commits), 'commit')} after production applied it"
            + (f" ({kinds})." if kinds else ".")
        )
    if window is not None and window.suspects:
        top = window.suspects[0]
        record = report.commit(top.commit)
        subject = f" ({record.subject})" if record else ""
        reason = top.reasons[0] if top.reasons else "it came first"
        parts.append(
            f"Most likely cause of the first failure: {literal(top.commit[:8])}{subject}: {reason}."
        )
    elif window is not None and window.last_live_before is None:
        parts.append(
            "No successful deploy before the window is known, so its cause cannot be bounded."
        )
    graph = [f for f in ranked if f.rule in GRAPH_RULES]
    if graph and modified is None:
        parts.append(f"The migration graph is broken: {graph[0].title}.")
    burst = _burst(report, story)
    if burst is not None:
        who = "one author" if len(burst.authors) == 1 else plural(len(burst.authors), "author")
        automated = (
            f" (automation score {burst.automation_score:.2f}): probably automated"
            if burst.automation_score >= AUTOMATED
            else ""
        )
        first, last = literal(burst.commits[0][:8]), literal(burst.commits[-1][:8])
        parts.append(
            f"The {plural(len(burst.commits), 'commit')} of its burst ({first} … {last}) came "
            f"from {who} in "
            f"{_minutes((burst.end - burst.start).total_seconds())}{automated}."
        )
    if not parts:
        top_finding = ranked[0]
        parts.append(f"{top_finding.title}.")
    return " ".join(parts)


def _burst(report: Report, story: _Story) -> Burst | None:
    commits = {c for f in story.findings if f.rule in BURSTS for c in f.commits}
    matches = [b for b in report.bursts if set(b.commits) & commits]
    return max(matches, key=lambda b: len(b.commits)) if matches else None


def _option(report: Report, kind: RemediationKind, revisions: set[str]) -> Remediation | None:
    """The option of ``kind``: options are folded per environment, so the one that names
    one of ``revisions`` if several environments have one, else the first."""
    found = [o for o in report.remediations if o.kind == kind and o.commands]
    named = [o for o in found if any(r in o.title + o.why + " ".join(o.commands)
                                     for r in revisions)]  # fmt: skip
    chosen = named or found
    return chosen[0] if chosen else None


def _joined(option: Remediation, skip: tuple[str, ...] = ()) -> str:
    return " && ".join(c for c in option.commands if not c.startswith(skip))


def _narrow(option: Remediation, verb: str, keep: set[str]) -> str | None:
    """The ``verb`` lines of a folded option (``git restore``, ``git revert``) cut down to the
    paths or commits of one incident, quoted again: one command for all of its files."""
    lines = []
    for line in option.commands:
        words = shlex.split(line)
        if words[:2] != ["git", verb]:
            continue
        split = words.index("--") + 1 if "--" in words else 3
        head, values = words[:split], [w for w in words[split:] if w in keep]
        if not values:
            continue
        try:
            if verb == "restore":
                lines.append(
                    shell.command(*head[:3], shell.commit(head[3]), "--", *map(shell.path, values))
                )
            else:
                lines.append(shell.command(*head, *map(shell.commit, values)))
        except shell.UnsafeValue:
            return None
    return " && ".join(lines) or None


def _still_open(report: Report, finding: Finding) -> bool:
    """A graph finding calls for a fix unless every event behind it was resolved."""
    events = [e for e in report.graph_events if e.rule == finding.rule]
    return not events or any(e.resolved_by is None for e in events)


@dataclasses.dataclass(frozen=True)
class _Focus:
    """What one incident's plan is about: its findings, the most serious first, and the
    serious edits to applied migrations among them, with their revisions and files."""

    report: Report
    story: _Story
    window: FailureWindow | None
    ranked: tuple[Finding, ...]
    applied: tuple[Finding, ...]
    revisions: frozenset[str]
    paths: tuple[str, ...]

    @classmethod
    def of(cls, report: Report, story: _Story) -> _Focus:
        ranked = tuple(_ranked(story.findings))
        applied = tuple(f for f in ranked if _serious_applied(f))
        return cls(
            report=report,
            story=story,
            window=report.failure_windows[story.window] if story.window is not None else None,
            ranked=ranked,
            applied=applied,
            revisions=frozenset(f.revision for f in applied if f.revision),
            paths=tuple(dict.fromkeys(f.path for f in applied if f.path)),
        )


@dataclasses.dataclass(frozen=True)
class _Options:
    """The remediation options a plan can draw its commands from."""

    restore: Remediation | None
    revert: Remediation | None
    forward: Remediation | None
    merge: Remediation | None

    @classmethod
    def of(cls, report: Report, revisions: frozenset[str]) -> _Options:
        return cls(
            restore=_option(report, RemediationKind.RESTORE, set(revisions)),
            revert=_option(report, RemediationKind.REVERT, set(revisions)),
            forward=_option(report, RemediationKind.FORWARD, set(revisions)),
            merge=_option(report, RemediationKind.MERGE, set()),
        )


@dataclasses.dataclass
class _Steps:
    """A plan being written, and the options its steps took their commands from."""

    steps: list[PlanStep] = dataclasses.field(default_factory=list)
    used: list[Remediation] = dataclasses.field(default_factory=list)

    def add(self, step: PlanStep, option: Remediation | None = None) -> None:
        self.steps.append(step)
        if option is not None:
            self.used.append(option)


def _plan(report: Report, story: _Story) -> tuple[tuple[PlanStep, ...], tuple[str, ...]]:
    """The numbered steps of one incident, and the titles of the other options that
    concern it."""
    focus = _Focus.of(report, story)
    options = _Options.of(report, focus.revisions)
    plan = _Steps()
    if story.status is IncidentStatus.RECOVERED and focus.window is not None:
        _recovered_steps(focus, focus.window, options, plan)
    else:
        _stop_pushes(focus, plan)
        _undo_edits(focus, options, plan)
        _repair_graph(focus, options, plan)
        _revert_suspect(focus, plan)
        if story.status is IncidentStatus.AT_RISK:
            plan.add(
                PlanStep("Commit, push once; the next deploy then ships what production applied.")
            )
        else:
            plan.add(PlanStep("Commit, push once and follow the deploy to its end."))
    return tuple(plan.steps), _other_options(focus, plan.used)


def _recovered_steps(focus: _Focus, window: FailureWindow, options: _Options, plan: _Steps) -> None:
    """Nothing to stop: what is left is the postmortem and the edits never run."""
    plan.add(
        PlanStep(
            f"Nothing is failing now: {literal(window.recovered_by)} went live. "
            "For the postmortem, read the cause and the evidence below."
        )
    )
    if options.forward is not None and focus.applied:
        plan.add(
            PlanStep(
                "Production never ran the edits to its applied migrations; carry what they "
                "meant to do forward:",
                _joined(options.forward),
            ),
            options.forward,
        )


def _stop_pushes(focus: _Focus, plan: _Steps) -> None:
    """First stop the edits to applied migrations, and the automation making them."""
    paths = focus.paths
    if not paths:
        return
    files = ", ".join(literal(p) for p in paths[:3]) + (" …" if len(paths) > 3 else "")
    burst = _burst(focus.report, focus.story)
    behind = (
        ", and the automation behind them"
        if burst is not None and burst.automation_score >= AUTOMATED
        else ""
    )
    plan.add(PlanStep(f"Stop the pushes to {files}{behind}."))


def _undo_edits(focus: _Focus, options: _Options, plan: _Steps) -> None:
    """Put back what production applied (a restore when it is recommended, else a revert
    of the commits that changed it), then carry the intended change forward."""
    restore, revert, forward = options.restore, options.revert, options.forward
    applied = focus.applied
    restored = _narrow(restore, "restore", set(focus.paths)) if restore is not None else None
    commits = {c for f in applied for c in f.commits}
    reverted = _narrow(revert, "revert", commits) if revert is not None else None
    if restore is not None and restore.recommended and restored:
        plan.add(PlanStep("Put back what production applied:", restored), restore)
    elif revert is not None and reverted and applied:
        plan.add(PlanStep("Revert exactly the commits that changed it:", reverted), revert)
    if forward is not None and applied:
        plan.add(PlanStep("Carry the intended change forward:", _joined(forward)), forward)


def _repair_graph(focus: _Focus, options: _Options, plan: _Steps) -> None:
    """Merge the heads, and name each other graph break still open."""
    merge, ranked = options.merge, focus.ranked
    if merge is not None and (focus.applied or any(f.rule == RuleId.FX101 for f in ranked)):
        plan.add(PlanStep("Merge the heads:", _joined(merge)), merge)
    for f in ranked:
        if f.rule in GRAPH_RULES and f.rule != RuleId.FX101 and _still_open(focus.report, f):
            plan.add(PlanStep(f"Fix the migration graph: {f.title}."))


def _revert_suspect(focus: _Focus, plan: _Steps) -> None:
    """A failure that no migration finding explains: undo its most likely cause."""
    window = focus.window
    if focus.applied or any(f.rule in GRAPH_RULES for f in focus.ranked) or window is None:
        return
    top = window.suspects[0].commit if window.suspects else None
    if top is None:
        return
    try:
        undo = shell.command("git", "revert", "--no-edit", shell.commit(top))
    except shell.UnsafeValue:
        undo = None
    plan.add(PlanStep("Revert the most likely cause, or fix it:", undo))


def _other_options(focus: _Focus, used: Sequence[Remediation]) -> tuple[str, ...]:
    """The titles of the options no step used: those of this incident's migrations, and
    those that name no other incident's."""
    report, revisions = focus.report, focus.revisions
    elsewhere = {
        f.revision for f in report.findings if _serious_applied(f) and f.revision
    } - revisions

    def mine(option: Remediation) -> bool:
        named = option.title + option.why
        return any(r in named for r in revisions) or not any(r in named for r in elsewhere)

    others = tuple(o.title for o in report.remediations if o not in used and mine(o))
    return tuple(dict.fromkeys(others))


def _headline(report: Report, story: _Story, window: FailureWindow | None) -> str:
    if window is not None and window.open:
        return f"Deploys blocked since {_when(window.start)}"
    if window is not None:
        recovered = literal(window.recovered_by)
        return f"Deploys failed {_span(window.start, window.end)}, recovered by {recovered}"
    revisions = list(
        dict.fromkeys(f.revision for f in story.findings if f.revision and f.rule in APPLIED_RULES)
    )
    named = ", ".join(literal(r) for r in revisions[:3]) + (" …" if len(revisions) > 3 else "")
    noun = "migration" if len(revisions) == 1 else "migrations"
    return f"Applied {noun} {named} edited since the last successful deploy"


def _impact(report: Report, story: _Story, window: FailureWindow | None) -> str:
    serves = _serves(report, window)
    if window is not None:
        state = "none recovered" if window.open else f"recovered by {literal(window.recovered_by)}"
        return (
            f"{plural(window.count, 'deploy')} failed in a row "
            f"({_span(window.start, window.end)}), {state}. {serves}"
        )
    return (
        "No deploy has failed yet, but the next deploy ships edits that production never "
        f"runs. {serves}"
    )


def build_incidents(report: Report) -> tuple[Incident, ...]:
    """The report's incidents, the most urgent first, numbered ``INC-1``, ``INC-2``…"""
    incidents = []
    for n, story in enumerate(_stories(report), 1):
        window = report.failure_windows[story.window] if story.window is not None else None
        plan, others = _plan(report, story)
        incidents.append(
            Incident(
                id=f"INC-{n}",
                status=story.status,
                headline=_headline(report, story, window),
                impact=_impact(report, story, window),
                cause=_cause(report, story, window),
                plan=plan,
                findings=tuple(f.fingerprint for f in _ranked(story.findings)),
                window=story.window,
                other_options=others,
            )
        )
    return tuple(incidents)
