"""The shipped JSON Schemas hold for what the real commands write, and catch a broken one."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from forensics.demo import DemoScenario
from forensics.schemas import NAMES, schema
from tests.conftest import Run


def validate(name: str, document: object) -> None:
    validator = jsonschema.Draft202012Validator(
        schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(document)


@pytest.mark.parametrize("name", NAMES)
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))
    assert schema(name)["$id"] == f"forensics.{name}/1"


def test_the_reports_of_analyze_and_audit_match_the_report_schema(
    demo: DemoScenario, run: Run, tmp_path: Path
) -> None:
    common = ["--repo", str(demo.repo), "--deploys", f"render:{demo.deploys_file}", "--no-cache",
              "--deploy-logs", f"dir:{demo.logs_dir}"]  # fmt: skip
    window = ["--since", "2025-11-13", "--until", "2025-11-16T17:25:00Z"]
    baseline = tmp_path / "baseline.json"
    code, out, _ = run(
        "analyze", *common, *window, "--format", "json", "--out", "-",
        "--write-baseline", str(baseline),
    )  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert report["findings"] and report["deploys"] and report["failure_windows"]
    assert report["failure_windows"][0]["causes"]
    validate("report", report)
    validate("baseline", json.loads(baseline.read_text(encoding="utf-8")))

    store = f"sqlite:///{tmp_path / 'store.db'}"
    run("audit", *common, *window, "--store", store, "--out", str(tmp_path), "--stem", "a",
        "--format", "json", "--fail-on", "none")  # fmt: skip
    audit = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert "audit" in audit
    validate("report", audit)


def test_dag_and_history_match_their_schemas(demo: DemoScenario, run: Run) -> None:
    for rev in ("HEAD", "HEAD~1"):
        code, out, _ = run("dag", "--repo", str(demo.repo), "--rev", rev, "--format", "json")
        assert code == 0
        validate("dag", json.loads(out))
    code, out, _ = run("history", "--repo", str(demo.repo), "--format", "json")
    document = json.loads(out)
    assert document["graph_events"]
    validate("history", document)


def test_the_report_schema_rejects_a_renamed_key(demo: DemoScenario, run: Run) -> None:
    _code, out, _ = run(
        "analyze", "--repo", str(demo.repo), "--no-cache", "--format", "json", "--out", "-"
    )
    document = json.loads(out)
    document["finding"] = document.pop("findings")
    with pytest.raises(jsonschema.ValidationError, match="'findings' is a required property"):
        validate("report", document)
