"""What a run prints for CI logs: the headline and top findings, and workflow annotations that
untrusted text cannot break out of."""

from __future__ import annotations

from dataclasses import replace

from forensics.model.evidence import FindingLocation
from forensics.model.findings import Severity
from forensics.model.incidents import IncidentStatus
from forensics.model.report import HealthCheck, Report
from forensics.render.ci import annotation, finding_annotations, terminal_summary


def test_the_terminal_gets_the_headline_then_the_top_findings(report: Report) -> None:
    lines = terminal_summary(report, limit=2).splitlines()
    assert lines[0] == "BLOCKED: deploys blocked since 2025-11-16 15:02 UTC (INC-1)"
    assert lines[1].startswith("  cause: Applied migration 774225e563ca (backend/")
    assert lines[2].startswith("  critical FX401 ")
    assert lines[-1] == f"  … and {len(report.findings) - 2} more finding(s) in the report"
    assert not any("`" in line for line in lines)


def test_an_annotation_cannot_be_ended_or_forged_by_its_text() -> None:
    line = annotation(
        "two\nlines ::error::forged 100%",
        file="db/versions/a,b:c.py",
        line=7,
        title="FX201 x",
    )
    assert line == (
        "::error file=db/versions/a%2Cb%3Ac.py,line=7,title=FX201 x::"
        "two lines ::error::forged 100%25"
    )
    assert "\n" not in line


def test_annotations_only_at_or_above_the_threshold_on_the_revision_line(report: Report) -> None:
    found = list(finding_annotations(report, Severity.HIGH))
    assert len(found) == sum(f.severity >= Severity.HIGH for f in report.findings)
    assert any(
        a.startswith(
            "::error file=backend/alembic/versions/774225e563ca_add_document_ai.py,"
            "line=14,title=FX201"
        )
        for a in found
    )


def test_a_failed_health_check_is_degraded_whatever_else(report: Report) -> None:
    sick = replace(
        report,
        incidents=(),
        production=replace(report.production, health=HealthCheck("https://x/health", False, 503)),
    )
    assert sick.status is IncidentStatus.DEGRADED


def test_a_window_finding_is_annotated_where_code_scanning_points_it(report: Report) -> None:
    (window,) = [f for f in report.findings if f.rule == "FX401"]
    pinned = FindingLocation(window.fingerprint, "backend/alembic/versions/x.py", 9)
    found = list(finding_annotations(replace(report, locations=(pinned,)), Severity.CRITICAL))
    assert found[0].startswith("::error file=backend/alembic/versions/x.py,line=9,title=FX401")
