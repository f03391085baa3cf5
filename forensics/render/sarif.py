"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF consumers.

One result per finding, with the rule's metadata from the report's rule catalogue, a location
at the migration file (and line, where known), the commits and deploys in ``properties`` and
the finding's fingerprint as a partial fingerprint, so that a result keeps its identity across
runs. A finding without a file (a failure window) is placed at the first versions folder, as
code scanning wants every result to have a location.
"""

from __future__ import annotations

from typing import Any

from forensics import __version__
from forensics.model.findings import Finding, Severity
from forensics.model.report import Report, RuleInfo
from forensics.render.json import dumps

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def level(severity: Severity) -> str:
    if severity >= Severity.HIGH:
        return "error"
    if severity >= Severity.MEDIUM:
        return "warning"
    return "note"


def _rule(info: RuleInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.explanation},
        "help": {"text": f"{info.summary}. {info.explanation}"},
        "defaultConfiguration": {"level": level(info.severity)},
        "properties": {"tags": ["alembic", "migrations"], "severity": info.severity.label},
    }


def _catalogue(report: Report) -> list[RuleInfo]:
    """The report's rules, plus a bare entry for any rule a finding names that is missing."""
    rules = list(report.rules)
    known = {r.id for r in rules}
    for f in report.findings:
        if f.rule not in known:
            known.add(f.rule)
            rules.append(RuleInfo(f.rule, f.name, f.name.replace("-", " "), f.title, f.severity))
    return rules


def _location(report: Report, finding: Finding) -> list[dict[str, Any]]:
    uri = finding.path
    if uri is None:
        folders = [d for e in report.environments for d in e.versions_dirs]
        uri = folders[0] if folders else None
    if uri is None:
        return []
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if finding.path and finding.line:
        physical["region"] = {"startLine": finding.line}
    return [{"physicalLocation": physical}]


def _result(report: Report, finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": level(finding.severity),
        "message": {"text": f"{finding.title}. {finding.detail}"},
        "locations": _location(report, finding),
        "partialFingerprints": {"forensicsFingerprint/v1": finding.fingerprint},
        "properties": {
            "severity": finding.severity.label,
            "confidence": finding.confidence.label,
            "fingerprint": finding.fingerprint,
            "revision": finding.revision,
            "environment": finding.environment,
            "commits": list(finding.commits),
            "changes": [{"commit": c.commit, "kind": c.kind} for c in finding.changes],
            "merges": list(finding.merges),
            "deploys": list(finding.deploys),
        },
    }
    if not result["locations"]:
        del result["locations"]
    return result


def sarif_log(report: Report) -> dict[str, Any]:
    rules = _catalogue(report)
    index = {r.id: i for i, r in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "forensics",
                        "version": __version__,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "results": [_result(report, f, index) for f in report.findings],
                "properties": {"rev": report.rev, "status": report.status},
            }
        ],
    }


def render_sarif(report: Report) -> str:
    return dumps(sarif_log(report))
