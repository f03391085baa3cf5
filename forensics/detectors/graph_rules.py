"""FX101-FX107: faults of the migration graph at the analysed revision.

Each problem of ``ctx.states`` becomes a finding; when the graph history knows the
first-parent commit that introduced it (its still-open event), that commit is the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator

from forensics.detectors.base import Context
from forensics.model.findings import Confidence, Finding
from forensics.model.migrations import GraphEvent, GraphProblem
from forensics.model.rules import Rule, RuleGroup, RuleId, in_group

RULES: tuple[Rule, ...] = in_group(RuleGroup.GRAPH)


def _title(rule: RuleId, revision: str | None, path: str | None) -> str:
    what = revision or path or "the graph"
    titles = {
        RuleId.FX101: "The migration graph has several unlabelled heads",
        RuleId.FX102: f"Revision {what} is declared twice",
        RuleId.FX103: f"{what} names a parent that does not exist",
        RuleId.FX104: f"The revision graph has a cycle through {what}",
        RuleId.FX105: f"{path or what} does not parse",
        RuleId.FX106: f"{path or what} has no literal revision",
        RuleId.FX107: f"{what} has metadata that could not be read statically",
    }
    return titles[rule]


def finding_of(problem: GraphProblem, event: GraphEvent | None = None) -> Finding:
    """The finding of one graph problem; ``event`` is the still-open graph event that
    introduced it, when the history knows it. ``forensics guard`` uses it too, so that a
    fault reads the same in a report and in a guarded change."""
    return Finding(
        rule=problem.rule,
        name=problem.name,
        severity=problem.severity,
        confidence=Confidence.MEDIUM if problem.rule == RuleId.FX107 else Confidence.HIGH,
        title=_title(problem.rule, problem.revision, problem.path),
        detail=problem.detail,
        revision=problem.revision,
        path=problem.path,
        line=problem.line,
        commits=(event.commit,) if event else (),
        start=event.at if event else None,
        environment=problem.environment,
    )


def detect(ctx: Context) -> Iterator[Finding]:
    opened: dict[tuple[str | None, ...], GraphEvent] = {
        (e.environment, e.kind, e.revision, e.path): e
        for e in ctx.history.events
        if e.resolved_by is None
    }
    for state in ctx.states:
        for problem in state.problems:
            yield finding_of(problem, opened.get(problem.key))
