"""The compose and seal stages: the ``Report`` assembled from what the stages before found,
without I/O, then cleaned and redacted for the renderers."""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Sequence

from forensics import detectors
from forensics.analysis.chain import chain_nodes
from forensics.analysis.evidence import locations
from forensics.analysis.graph_history import events_between
from forensics.analysis.incidents import build_incidents
from forensics.config import AnalyzeConfig
from forensics.detectors.base import Context
from forensics.errors import redact
from forensics.model.findings import Finding, Severity
from forensics.model.migrations import GraphState
from forensics.model.report import EnvironmentSummary, Report, RuleInfo
from forensics.model.rules import CHANGED_APPLIED
from forensics.model.text import clean, map_text
from forensics.pipeline.gathering import Evidence


def compose(
    cfg: AnalyzeConfig,
    context: Context,
    findings: Sequence[Finding],
    hidden: tuple[tuple[str, int], ...],
    evidence: Evidence,
) -> Report:
    """The report, assembled from what the stages before found: no I/O."""
    states = context.states
    envs = [state.environment for state in states]
    fallback = next((e.config or posixpath.join(e.script_location, "env.py") for e in envs), None)
    report = Report(
        generated_at=cfg.now,
        repo_path=str(cfg.repo),
        rev=context.rev,
        since=cfg.since,
        until=context.until,
        environments=tuple(_summary(state, context, findings) for state in states),
        production=context.production,
        findings=tuple(findings),
        graph_events=tuple(events_between(context.history.events, cfg.since, context.until)),
        bursts=context.bursts,
        deploys=context.deploys,
        failure_windows=context.failure_windows,
        commits=evidence.commits,
        migration_changes=evidence.changes,
        remediations=evidence.remediations,
        head=context.commits.get(context.rev),
        files_examined=tuple(sorted({m.path for state in states for m in state.migrations})),
        warnings=evidence.warnings,
        rules=tuple(
            RuleInfo(r.id, r.name, r.title, r.explanation, r.severity)
            for r in detectors.all_rules()
        ),
        edits=evidence.edits,
        locations=locations(
            findings, states, context.history.changes, context.failure_windows, fallback
        ),
        links=evidence.links,
        metrics=evidence.metrics,
    )
    if hidden:
        report = dataclasses.replace(report, suppressed=hidden)
    return dataclasses.replace(report, incidents=build_incidents(report))


def _summary(
    state: GraphState, context: Context, findings: Sequence[Finding]
) -> EnvironmentSummary:
    env = state.environment
    mine = [f for f in findings if f.environment in (None, env.name)]
    modified = {f.revision for f in mine if f.rule in CHANGED_APPLIED and f.revision}
    broken = {p.revision for p in state.problems if p.revision and p.severity >= Severity.HIGH}
    production = set(context.production.revisions)
    focus = modified | broken | {f.revision for f in mine if f.revision}
    nodes = chain_nodes(
        state,
        applied=set(context.production.applied),
        modified=modified,
        production=production,
        broken=broken,
        focus=focus,
    )
    return EnvironmentSummary(
        name=env.name,
        versions_dirs=env.versions_dirs,
        revision_count=len(state.by_revision()),
        heads=state.heads,
        bases=state.bases,
        chain=nodes,
        docstring_mismatches=tuple(
            (m.path, detail)
            for m in sorted(state.migrations, key=lambda m: m.path)
            for detail in m.docstring_mismatches
        ),
    )


def seal(report: Report) -> Report:
    """The report as the renderers get it. Sources clean what they read; this catches the
    rest (a revision id written as "\\udc8f" in a migration's string literal, a path from the
    command line), so that the store and every renderer get valid Unicode. Then the one
    redaction pass: every string a renderer sees, whichever source it came from (an API's
    echo, a commit message, a URL in a warning)."""
    return map_text(report, _clean_and_redact)


def _clean_and_redact(text: str) -> str:
    return redact(clean(text))
