"""The JSON report, schema ``forensics.report/1`` of DESIGN.md, key for key.

DESIGN's keys come first and in its order; keys this module adds come after them, so that
a reader of the schema finds what it documents where it documents it. Times are ISO-8601 UTC
with ``Z``; commit ids are full SHAs. Output is stable: indent 2, a trailing newline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from forensics.model.deploys import Deploy, FailureWindow
from forensics.model.findings import Finding
from forensics.model.incidents import Incident
from forensics.model.metrics import WeekMetrics
from forensics.model.migrations import GraphEvent
from forensics.model.report import (
    Burst,
    ChainNode,
    EnvironmentSummary,
    Production,
    Remediation,
    Report,
)
from forensics.model.text import clean

SCHEMA = "forensics.report/1"
# DEL, C1 controls, line separators and bidirectional overrides, which JSON leaves raw:
# they can only stand inside strings, where a \u escape means the same character, and a
# terminal or a JavaScript reader that shows the document is then not fooled by them.
_ESCAPED = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def dumps(document: object) -> str:
    """A JSON document as forensics writes it: indent 2, a trailing newline, valid UTF-8
    (a lone surrogate as U+FFFD) and no raw control character."""
    text = clean(json.dumps(document, indent=2, ensure_ascii=False))
    return _ESCAPED.sub(lambda m: f"\\u{ord(m[0]):04x}", text) + "\n"


def iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node(n: ChainNode) -> dict[str, Any]:
    return {
        "revision": n.revision,
        "path": n.path,
        "message": n.message,
        "parents": list(n.parents),
        "annotations": list(n.annotations),
    }


def _environment(e: EnvironmentSummary) -> dict[str, Any]:
    return {
        "name": e.name,
        "versions_dirs": list(e.versions_dirs),
        "revision_count": e.revision_count,
        "heads": list(e.heads),
        "bases": list(e.bases),
        "chain": [_node(n) for n in e.chain],
        "docstring_mismatches": [
            {"path": path, "detail": detail} for path, detail in e.docstring_mismatches
        ],
    }


def _production(p: Production) -> dict[str, Any]:
    health = None
    if p.health is not None:
        health = {
            "url": p.health.url,
            "ok": p.health.ok,
            "status": p.health.status,
            "summary": p.health.summary,
            "error": p.health.error,
        }
    return {
        "revisions": list(p.revisions),
        "source": p.source,
        "deploy": p.deploy,
        "commit": p.commit,
        "applied": list(p.applied),
        "tables_expected": None if p.tables_expected is None else list(p.tables_expected),
        "tables_present": None if p.tables_present is None else list(p.tables_present),
        "database": p.database,
        "health": health,
    }


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity.label,
        "confidence": f.confidence.label,
        "title": f.title,
        "detail": f.detail,
        "revision": f.revision,
        "path": f.path,
        "commits": list(f.commits),
        "changes": [{"commit": c.commit, "kind": c.kind} for c in f.changes],
        "merges": list(f.merges),
        "deploys": list(f.deploys),
        "start": iso(f.start),
        "end": iso(f.end),
        "fingerprint": f.fingerprint,
        "line": f.line,
        "environment": f.environment,
        "facts": [{"label": label, "value": value} for label, value in f.facts],
    }


def event_json(e: GraphEvent) -> dict[str, Any]:
    """A graph event as ``forensics history`` and the report's ``graph_events`` show it."""
    return {
        "kind": e.kind,
        "commit": e.commit,
        "at": iso(e.at),
        "resolved_by": e.resolved_by,
        "revision": e.revision,
        "path": e.path,
        "rule": e.rule,
        "detail": e.detail,
        "resolved_at": iso(e.resolved_at),
        "environment": e.environment,
    }


def _burst(b: Burst) -> dict[str, Any]:
    return {
        "commits": list(b.commits),
        "start": iso(b.start),
        "end": iso(b.end),
        "authors": list(b.authors),
        "paths": list(b.paths),
        "automation_score": b.automation_score,
        "median_gap_seconds": b.median_gap_seconds,
        "longest_gap_seconds": b.longest_gap_seconds,
        "signals": list(b.signals),
        "merges": list(b.merges),
    }


def _deploy(d: Deploy) -> dict[str, Any]:
    return {
        "id": d.id,
        "status": d.status,
        "category": d.category.value,
        "commit": d.commit,
        "created_at": iso(d.created_at),
        "finished_at": iso(d.finished_at),
        "service": d.service,
        "source": d.source,
        "commit_ref": d.commit_ref,
        "commit_known": d.commit_known,
        "message": d.message,
        "trigger": d.trigger,
    }


def _window(w: FailureWindow) -> dict[str, Any]:
    return {
        "start": iso(w.start),
        "end": iso(w.end),
        "count": w.count,
        "first_failed": w.first_failed,
        "last_failed": w.last_failed,
        "last_live_before": w.last_live_before,
        "recovered_by": w.recovered_by,
        "suspects": [
            {
                "commit": s.commit,
                "score": s.score,
                "reasons": list(s.reasons),
                "role": s.role.value,
                "failed_fix": s.failed_fix,
            }
            for s in w.suspects
        ],
        "open": w.open,
        "deploys": list(w.deploys),
        "classes": {klass.value: count for klass, count in w.class_counts},
        "causes": [
            {
                "deploy": c.deploy,
                "class": c.failure_class.value,
                "signature": c.signature or None,
                "meaning": c.meaning,
                "line": c.line,
                "line_number": c.line_number,
                "subject": c.subject,
            }
            for c in w.causes
        ],
    }


def _remediation(r: Remediation) -> dict[str, Any]:
    return {
        "title": r.title,
        "recommended": r.recommended,
        "why": r.why,
        "commands": list(r.commands),
        "risks": list(r.risks),
        "warnings": list(r.warnings),
    }


def _incident(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "status": i.status.value,
        "headline": i.headline,
        "impact": i.impact,
        "cause": i.cause,
        "plan": [{"step": p.step, "command": p.command} for p in i.plan],
        "findings": list(i.findings),
        "window": i.window,
        "other_options": list(i.other_options),
    }


def report_json(report: Report) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "generated_at": iso(report.generated_at),
        "repo": {"path": report.repo_path, "rev": report.rev},
        "window": {"since": iso(report.since), "until": iso(report.until)},
        "environments": [_environment(e) for e in report.environments],
        "production": _production(report.production),
        "findings": [finding_json(f) for f in report.findings],
        "graph_events": [event_json(e) for e in report.graph_events],
        "bursts": [_burst(b) for b in report.bursts],
        "deploys": [_deploy(d) for d in report.deploys],
        "failure_windows": [_window(w) for w in report.failure_windows],
    }
    if report.audit is not None:
        doc["audit"] = {
            "previous": report.audit.previous,
            "new": list(report.audit.new),
            "still_open": list(report.audit.still_open),
            "resolved": list(report.audit.resolved),
            "id": report.audit.audit_id,
        }
    doc["title"] = report.title
    doc["status"] = report.status.value
    doc["head"] = report.head.sha if report.head else None
    doc["remediations"] = [_remediation(r) for r in report.remediations]
    doc["files_examined"] = list(report.files_examined)
    doc["warnings"] = list(report.warnings)
    doc["suppressed"] = dict(report.suppressed)
    doc["incidents"] = [_incident(i) for i in report.incidents]
    doc["metrics"] = metrics_json(report.metrics)
    return doc


def metrics_json(rows: Sequence[WeekMetrics]) -> list[dict[str, Any]]:
    """DESIGN's weekly rows: ``{week, deploys, failed, change_failure_rate, ...}``."""
    return [{"week": m.week, **m.figures()} for m in rows]


def render_json(report: Report) -> str:
    return dumps(report_json(report))
