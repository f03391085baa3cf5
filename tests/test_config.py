"""Team settings (`[tool.forensics]`, `--config`), baselines and `--fail-on` everywhere,
on the demo repository through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forensics.config import load_settings
from forensics.demo import DemoScenario
from forensics.errors import UsageError
from tests.conftest import Run, demo_analyze


def analyze(demo: DemoScenario, out: Path, *extra: str) -> list[str]:
    return demo_analyze(demo, "--format", "json", "--out", str(out), "--stem", "r", *extra)


def report(out: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads((out / "r.json").read_text(encoding="utf-8"))
    return doc


def rules(doc: dict[str, object]) -> set[str]:
    findings = doc["findings"]
    assert isinstance(findings, list)
    return {f["rule"] for f in findings}


def test_pyproject_settings_give_deploys_ignore_and_fail_on(
    demo: DemoScenario, run: Run, tmp_path: Path
) -> None:
    pyproject = demo.repo / "pyproject.toml"
    deploys = demo.deploys_file.relative_to(demo.repo.parent)
    pyproject.write_text(
        "[tool.forensics]\n"
        f'deploys = ["render:../{deploys}"]\n'
        'ignore = ["FX301", "FX302"]\n'
        'fail-on = "high"\n',
        encoding="utf-8",
    )
    try:
        code, _out, err = run(*analyze(demo, tmp_path))
        doc = report(tmp_path)
        # The deploy file, named relative to pyproject.toml, was read.
        assert doc["deploys"]
        assert "FX401" in rules(doc)
        assert not rules(doc) & {"FX301", "FX302"}
        suppressed = doc["suppressed"]
        assert isinstance(suppressed, dict) and suppressed["ignored rules"] >= 1
        assert "findings hidden (ignored rules)" in err
        # fail-on from the settings: edits to the applied migration are high.
        assert code == 1
        # The command line wins over the settings.
        assert run(*analyze(demo, tmp_path, "--fail-on", "none"))[0] == 0
    finally:
        pyproject.unlink()


def test_without_settings_nothing_is_hidden(demo: DemoScenario, run: Run, tmp_path: Path) -> None:
    code, _out, _err = run(*analyze(demo, tmp_path))
    assert code == 0
    doc = report(tmp_path)
    assert "FX301" in rules(doc)
    assert doc["suppressed"] == {}


def test_a_baseline_hides_todays_findings_and_says_how_many(
    demo: DemoScenario, run: Run, tmp_path: Path
) -> None:
    deploys = f"render:{demo.deploys_file}"
    baseline = tmp_path / "baseline.json"
    code, _out, err = run(
        *analyze(demo, tmp_path, "--deploys", deploys, "--write-baseline", str(baseline))
    )
    assert code == 0
    assert f"written to {baseline}" in err
    written = json.loads(baseline.read_text(encoding="utf-8"))
    before = report(tmp_path)["findings"]
    assert isinstance(before, list) and before
    assert written["schema"] == "forensics.baseline/1"
    assert {e["fingerprint"] for e in written["findings"]} == {f["fingerprint"] for f in before}

    code, _out, err = run(
        *analyze(
            demo, tmp_path, "--deploys", deploys, "--baseline", str(baseline), "--fail-on", "info"
        )
    )
    doc = report(tmp_path)
    assert code == 0
    assert doc["findings"] == []
    assert doc["suppressed"] == {"baseline": len(before)}
    assert f"{len(before)} findings hidden (baseline)" in err


def test_exclude_hides_findings_on_matching_paths(
    demo: DemoScenario, run: Run, tmp_path: Path
) -> None:
    config = tmp_path / "forensics.toml"
    config.write_text('exclude = ["backend/alembic/versions/774225e563ca_*"]\n', encoding="utf-8")
    run(*analyze(demo, tmp_path, "--config", str(config)))
    doc = report(tmp_path)
    findings = doc["findings"]
    assert isinstance(findings, list)
    assert not [
        f for f in findings if (f["path"] or "").endswith("774225e563ca_add_document_ai.py")
    ]
    suppressed = doc["suppressed"]
    assert isinstance(suppressed, dict) and suppressed["excluded paths"] >= 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('colour = "red"\n', "unknown key 'colour'"),
        ('ignore = ["FX999"]\n', "unknown rule 'FX999'"),
        ("ignore = [\n", "is not valid TOML"),
        ("ignore = 3\n", "'ignore' must be a list of strings"),
        ('fail-on = "loud"\n', "--fail-on 'loud'"),
    ],
)
def test_bad_settings_are_one_line_usage_errors(
    demo: DemoScenario, run: Run, tmp_path: Path, text: str, message: str
) -> None:
    config = tmp_path / "forensics.toml"
    config.write_text(text, encoding="utf-8")
    code, _out, err = run(*analyze(demo, tmp_path, "--config", str(config)))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_baseline_that_is_not_one_is_a_usage_error(
    demo: DemoScenario, run: Run, tmp_path: Path
) -> None:
    bogus = tmp_path / "baseline.json"
    bogus.write_text("[1, 2]", encoding="utf-8")
    code, _out, err = run(*analyze(demo, tmp_path, "--baseline", str(bogus)))
    assert code == 2
    assert "is not a forensics baseline" in err


def test_config_file_may_hold_a_tool_forensics_table(tmp_path: Path) -> None:
    config = tmp_path / "team.toml"
    config.write_text('[tool.forensics]\nmigrations = ["db/migrations"]\n', encoding="utf-8")
    assert load_settings(tmp_path, config).migrations == ("db/migrations",)
    with pytest.raises(UsageError, match="cannot read --config"):
        load_settings(tmp_path, tmp_path / "missing.toml")


def test_dag_and_history_take_fail_on(demo: DemoScenario, run: Run) -> None:
    repo = str(demo.repo)
    # HEAD~1 has two unlabelled heads (FX101, high); HEAD merged them.
    assert run("dag", "--repo", repo, "--rev", "HEAD~1", "--fail-on", "high")[0] == 1
    assert run("dag", "--repo", repo, "--rev", "HEAD~1", "--fail-on", "critical")[0] == 0
    assert run("dag", "--repo", repo, "--fail-on", "high")[0] == 0
    code, out, _err = run("history", "--repo", repo, "--format", "json", "--fail-on", "critical")
    assert code == 1  # a parse error (FX105, critical) happened in the history
    assert json.loads(out)["schema"] == "forensics.history/1"
    assert run("history", "--repo", repo, "--since", "2025-11-17", "--fail-on", "info")[0] == 0


def test_version(run: Run) -> None:
    code, out, _err = run("--version")
    assert code == 0
    assert out.startswith("forensics ")
