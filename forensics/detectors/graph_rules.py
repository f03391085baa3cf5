"""FX101-FX107: faults of the migration graph at the analysed revision.

Each problem of ``ctx.states`` becomes a finding; when the graph history knows the
first-parent commit that introduced it (its still-open event), that commit is the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator

from forensics.analysis.graph import PROBLEM_RULES
from forensics.detectors.base import Context, Rule
from forensics.model.findings import Confidence, Finding
from forensics.model.migrations import GraphEvent

_TEXT: dict[str, tuple[str, str]] = {
    "FX101": (
        "More than one head that is not an intended labelled branch",
        "Alembic's `upgrade head` needs exactly one head. Two branches that both end in a "
        "head, without distinct branch labels (an expand/contract layout has them), make "
        "every deploy that runs migrations fail until a merge revision joins them.",
    ),
    "FX102": (
        "Two files declare the same revision id",
        "Alembic keys migrations by revision id. When two files declare the same id, one "
        "silently shadows the other, so a migration never runs, or runs in the wrong place.",
    ),
    "FX103": (
        "A down_revision or depends_on names a revision that does not exist",
        "Alembic cannot place a migration whose parent is missing; it stops with an error "
        "before running anything.",
    ),
    "FX104": (
        "The revision graph has a cycle",
        "A migration that is, through its parents, its own ancestor has no order in which it "
        "could run; Alembic refuses the whole graph.",
    ),
    "FX105": (
        "A migration file does not parse",
        "Alembic imports every file in the versions folder. A syntax error in any of them "
        "makes every deploy that runs migrations fail.",
    ),
    "FX106": (
        "A file in a versions folder has no literal revision",
        "Alembic reads `revision` from every file in the versions folder; a file without one "
        "stops Alembic from loading the environment.",
    ),
    "FX107": (
        "down_revision, branch_labels or depends_on is not a literal",
        "The value could not be read without running the file, so the graph drawn here may "
        "be incomplete around it. Alembic itself may still accept it.",
    ),
}

RULES: tuple[Rule, ...] = tuple(
    Rule(id=rule, name=name, severity=severity, summary=_TEXT[rule][0], explanation=_TEXT[rule][1])
    for rule, (name, _kind, severity) in PROBLEM_RULES.items()
)


def _title(rule: str, revision: str | None, path: str | None) -> str:
    what = revision or path or "the graph"
    titles = {
        "FX101": "The migration graph has several unlabelled heads",
        "FX102": f"Revision {what} is declared twice",
        "FX103": f"{what} names a parent that does not exist",
        "FX104": f"The revision graph has a cycle through {what}",
        "FX105": f"{path or what} does not parse",
        "FX106": f"{path or what} has no literal revision",
        "FX107": f"{what} has metadata that could not be read statically",
    }
    return titles[rule]


def detect(ctx: Context) -> Iterator[Finding]:
    opened: dict[tuple[str | None, ...], GraphEvent] = {
        (e.environment, e.kind, e.revision, e.path): e
        for e in ctx.history.events
        if e.resolved_by is None
    }
    for state in ctx.states:
        for problem in state.problems:
            event = opened.get(problem.key)
            yield Finding(
                rule=problem.rule,
                name=problem.name,
                severity=problem.severity,
                confidence=Confidence.MEDIUM if problem.rule == "FX107" else Confidence.HIGH,
                title=_title(problem.rule, problem.revision, problem.path),
                detail=problem.detail,
                revision=problem.revision,
                path=problem.path,
                line=problem.line,
                commits=(event.commit,) if event else (),
                start=event.at if event else None,
                environment=problem.environment,
            )
