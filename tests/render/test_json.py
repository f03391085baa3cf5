"""render_json: the forensics.report/1 document of DESIGN.md, key for key."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from forensics.model.report import Report
from forensics.render.json import render_json

# The keys DESIGN.md documents, in its order. Added keys may follow, none may be missing.
TOP = [
    "schema",
    "generated_at",
    "repo",
    "window",
    "environments",
    "production",
    "findings",
    "graph_events",
    "bursts",
    "deploys",
    "failure_windows",
]
NESTED = {
    "repo": ["path", "rev"],
    "window": ["since", "until"],
    "environments": ["name", "versions_dirs", "revision_count", "heads", "bases"],
    "production": ["revisions", "source", "deploy"],
    "findings": [
        "rule",
        "name",
        "severity",
        "confidence",
        "title",
        "detail",
        "revision",
        "path",
        "commits",
        "changes",
        "merges",
        "deploys",
        "start",
        "end",
        "fingerprint",
    ],
    "graph_events": ["kind", "commit", "at", "resolved_by", "revision", "path"],
    "bursts": ["commits", "start", "end", "authors", "paths", "automation_score"],
    "deploys": [
        "id",
        "status",
        "category",
        "commit",
        "created_at",
        "finished_at",
        "service",
        "source",
    ],
    "failure_windows": [
        "start",
        "end",
        "count",
        "first_failed",
        "last_failed",
        "last_live_before",
        "recovered_by",
        "suspects",
    ],
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SHA = re.compile(r"^[0-9a-f]{40}$")


def _starts_with(keys: list[str], documented: list[str]) -> None:
    assert keys[: len(documented)] == documented


def test_keys_follow_design_in_order(report: Report) -> None:
    doc = json.loads(render_json(report))
    _starts_with(list(doc), TOP)
    assert doc["schema"] == "forensics.report/1"
    for key, documented in NESTED.items():
        value = doc[key]
        for item in value if isinstance(value, list) else [value]:
            _starts_with(list(item), documented)
    assert list(doc["findings"][0]["changes"][0]) == ["commit", "kind"]
    assert list(doc["failure_windows"][0]["suspects"][0]) == [
        "commit", "score", "reasons", "role", "failed_fix",
    ]  # fmt: skip
    assert "audit" not in doc


def test_times_are_utc_z_and_commits_full_shas(report: Report) -> None:
    doc = json.loads(render_json(report))
    assert doc["generated_at"] == "2025-11-16T17:25:00Z"
    times = [doc["window"]["since"], doc["window"]["until"]]
    times += [t for f in doc["findings"] for t in (f["start"], f["end"]) if t]
    times += [d["created_at"] for d in doc["deploys"]] + [b["start"] for b in doc["bursts"]]
    assert times and all(ISO.match(t) for t in times)
    shas = [c for f in doc["findings"] for c in f["commits"]] + [doc["repo"]["rev"]]
    shas += [d["commit"] for d in doc["deploys"]] + [e["commit"] for e in doc["graph_events"]]
    assert all(SHA.match(s) for s in shas)


def test_fingerprints_match_the_findings(report: Report) -> None:
    doc = json.loads(render_json(report))
    assert [f["fingerprint"] for f in doc["findings"]] == [f.fingerprint for f in report.findings]


def test_audit_block_when_the_report_has_one(audit_report: Report) -> None:
    doc = json.loads(render_json(audit_report))
    assert list(doc["audit"])[:4] == ["previous", "new", "still_open", "resolved"]
    assert doc["audit"]["new"] == [audit_report.findings[0].fingerprint]


def test_stable_output(report: Report) -> None:
    first = render_json(report)
    assert first == render_json(report)
    assert first.endswith("}\n") and first.startswith('{\n  "schema"')
    later = replace(report, generated_at=report.generated_at.replace(hour=18))
    assert render_json(later) != first  # generated_at comes from the Report, not the clock


def test_untrusted_text_is_kept_verbatim(report: Report) -> None:
    doc = json.loads(render_json(report))
    assert any("<script>" in d["message"] for d in doc["deploys"] if d["message"])
