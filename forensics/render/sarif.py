"""SARIF 2.1.0 output, for GitHub code scanning and other SARIF consumers.

One result per finding, with the rule's metadata from the report's rule catalogue (help
text in Markdown and a link to the README's rule table), a location at a file and the line
that declares its revision (``Report.locations``: a finding without a file of its own, a
failure window, points at the migration its suspects changed, else at the environment's
configuration; never at a folder, which code scanning cannot show), the commits and deploys
in ``properties``, and the finding's fingerprint as a partial fingerprint, so that a result
keeps its identity across runs. A rule's default level is the level of its results.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from forensics import __version__
from forensics.model.findings import Finding, Severity
from forensics.model.report import Report, RuleInfo
from forensics.render.json import dumps

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# Where the README is published (the package's page shows it); "#rules" is its rule table.
README_URL = "https://pypi.org/project/migration-forensics/"
RULES_URI = README_URL + "#rules"


def level(severity: Severity) -> str:
    if severity >= Severity.HIGH:
        return "error"
    if severity >= Severity.MEDIUM:
        return "warning"
    return "note"


def _rule(info: RuleInfo, severity: Severity) -> dict[str, Any]:
    """``severity``: the one its results have (the catalogue's when it has none here)."""
    return {
        "id": info.id,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.explanation},
        "help": {
            "text": f"{info.summary}. {info.explanation}",
            "markdown": f"**{info.id} {info.name}: {info.summary}.** {info.explanation}\n\n"
            f"All rules: [the rule table]({RULES_URI}).",
        },
        "helpUri": RULES_URI,
        "defaultConfiguration": {"level": level(severity)},
        "properties": {"tags": ["alembic", "migrations"], "severity": severity.label},
    }


def _severities(report: Report, rules: list[RuleInfo]) -> dict[str, Severity]:
    """Each rule's default: the highest severity among its results, so that the default
    level is the level its results show (a rule whose results differ in level keeps the
    highest as default, and each result states its own)."""
    found = {r.id: r.severity for r in rules}
    seen: dict[str, Severity] = {}
    for f in report.findings:
        seen[f.rule] = max(seen.get(f.rule, f.severity), f.severity)
    found.update(seen)
    return found


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
    pinned = report.location(finding.fingerprint)
    if pinned is not None:
        path, line = pinned.path, pinned.line
    elif finding.path:
        path, line = finding.path, finding.line or 1
    else:
        # A report put together without locations: the first migration file the
        # finding's commits changed, else the first file examined.
        changed = [c.path for sha in finding.commits for c in report.changes_by(sha)]
        candidates = [*changed, *report.files_examined]
        if not candidates:
            return []
        path, line = candidates[0], 1
    physical = {
        "artifactLocation": {"uri": quote(path, safe="/", errors="replace")},
        "region": {"startLine": max(1, line)},
    }
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
    severities = _severities(report, rules)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "forensics",
                        "version": __version__,
                        "rules": [_rule(r, severities[r.id]) for r in rules],
                    }
                },
                "results": [_result(report, f, index) for f in report.findings],
                "properties": {"rev": report.rev, "status": report.status.value},
            }
        ],
    }


def render_sarif(report: Report) -> str:
    return dumps(sarif_log(report))
