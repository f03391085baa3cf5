"""render_sarif: SARIF 2.1.0 that validates against the official schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from forensics.model.findings import Severity
from forensics.model.report import Report
from forensics.render.sarif import level, render_sarif

SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())


def _validate(doc: dict[str, Any]) -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    jsonschema.Draft4Validator(SCHEMA).validate(doc)


def test_validates_against_the_sarif_schema(report: Report, audit_report: Report) -> None:
    for r in (report, audit_report):
        _validate(json.loads(render_sarif(r)))


def test_a_broken_log_does_not_validate(report: Report) -> None:
    """The schema really checks: a result without a message is rejected."""
    doc = json.loads(render_sarif(report))
    del doc["runs"][0]["results"][0]["message"]
    try:
        _validate(doc)
    except jsonschema.ValidationError:
        return
    raise AssertionError("the schema accepted a result without a message")


def test_one_result_per_finding_with_rule_metadata(report: Report) -> None:
    run = json.loads(render_sarif(report))["runs"][0]
    results, rules = run["results"], run["tool"]["driver"]["rules"]
    assert [r["ruleId"] for r in results] == [f.rule for f in report.findings]
    for result in results:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
    fx201 = next(r for r in rules if r["id"] == "FX201")
    assert fx201["defaultConfiguration"]["level"] == "error"
    assert "applied" in fx201["fullDescription"]["text"]
    # FX302 is not in the report's catalogue: it still gets a rule entry.
    assert any(r["id"] == "FX302" for r in rules)


def test_locations_commits_and_fingerprints(report: Report) -> None:
    results = json.loads(render_sarif(report))["runs"][0]["results"]
    fx201 = next(r for r in results if r["ruleId"] == "FX201")
    physical = fx201["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith("774225e563ca_add_document_ai.py")
    assert physical["region"] == {"startLine": 14}
    finding = next(f for f in report.findings if f.rule == "FX201")
    assert fx201["properties"]["commits"] == list(finding.commits)
    assert fx201["partialFingerprints"]["forensicsFingerprint/v1"] == finding.fingerprint
    # A failure window has no file of its own: it points at the migration its commits
    # changed, never at a folder.
    window = next(r for r in results if r["ruleId"] == "FX401")
    physical = window["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"].endswith(".py")
    assert physical["region"]["startLine"] >= 1


def test_every_result_points_at_a_file_and_line(report: Report, audit_report: Report) -> None:
    folders = {d for e in report.environments for d in e.versions_dirs}
    for r in (report, audit_report):
        for result in json.loads(render_sarif(r))["runs"][0]["results"]:
            (location,) = result["locations"]
            physical = location["physicalLocation"]
            assert physical["artifactLocation"]["uri"] not in folders
            assert physical["artifactLocation"]["uri"].endswith(".py")
            assert physical["region"]["startLine"] >= 1


def test_rules_carry_help_and_a_default_level_matching_their_results(report: Report) -> None:
    run = json.loads(render_sarif(report))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for rule in rules:
        assert rule["help"]["markdown"].startswith(f"**{rule['id']} ")
        assert rule["helpUri"].startswith("https://") and rule["helpUri"].endswith("#rules")
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        levels = {r["level"] for r in run["results"] if r["ruleId"] == rule["id"]}
        if len(levels) == 1:
            assert rule["defaultConfiguration"]["level"] == result["level"]


def test_levels_from_severity() -> None:
    assert [level(s) for s in Severity] == ["note", "note", "warning", "error", "error"]
