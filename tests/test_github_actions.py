"""Under GitHub Actions (``GITHUB_STEP_SUMMARY`` set), as a workflow step runs them:
``analyze``, ``audit`` and ``guard`` append their verdict to the job summary and print a
workflow annotation on the migration file and the line of its revision."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from forensics.demo import DemoScenario, build_demo_repo

UNTIL = "2025-11-16T17:25:00Z"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoScenario:
    return build_demo_repo(tmp_path_factory.mktemp("gha"))


def step(summary: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    command = [sys.executable, "-m", "forensics", *argv]
    return subprocess.run(command, capture_output=True, text=True, check=False, env=env)


def revision_line(demo: DemoScenario) -> int:
    text = (demo.repo / demo.migration_path).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(text, 1) if re.match(r"revision\b", line))


def common(demo: DemoScenario) -> list[str]:
    return ["--repo", str(demo.repo), "--since", "2025-11-13", "--until", UNTIL,
            "--deploys", f"render:{demo.deploys_file}", "--no-cache"]  # fmt: skip


def test_analyze_writes_the_job_summary_and_annotates_the_migration(
    demo: DemoScenario, tmp_path: Path
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    done = step(summary, "analyze", *common(demo), "--out", str(tmp_path), "--fail-on", "high")
    assert done.returncode == 1
    # standard output still lists only the files written
    assert all(line.endswith((".md", ".html", ".json")) for line in done.stdout.split())
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")  # appended, never overwritten
    assert "# Migration incident report: deploys blocked since 2025-11-16 15:02 UTC" in text
    assert "**BLOCKED** ·" in text and "**Do this now**" in text
    assert "\\`" not in text  # our code spans render as code on GitHub
    line = revision_line(demo)
    expected = f"::error file={demo.migration_path},line={line},title=FX201 "
    annotations = [a for a in done.stderr.splitlines() if a.startswith("::error")]
    assert any(a.startswith(expected) for a in annotations), annotations
    # only findings at or above --fail-on, each on one line
    assert not any("title=FX303" in a for a in annotations)  # churn is low
    # the log tells what happened before the annotations
    assert "BLOCKED: deploys blocked since 2025-11-16 15:02 UTC (INC-1)" in done.stderr


def test_audit_annotates_at_its_own_fail_on(demo: DemoScenario, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    store = f"sqlite:///{tmp_path / 'store.db'}"
    done = step(summary, "audit", *common(demo), "--store", store, "--out", str(tmp_path),
                "--fail-on", "critical")  # fmt: skip
    assert done.returncode == 1
    annotations = [a for a in done.stderr.splitlines() if a.startswith("::error")]
    assert annotations and all("(critical)" in a.split("::")[1] for a in annotations)
    assert "**BLOCKED**" in summary.read_text(encoding="utf-8")


def test_guard_annotates_each_violation_on_its_revision_line(
    demo: DemoScenario, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    done = step(summary, "guard", "--repo", str(demo.repo), "--base", demo.applied_commit,
                "--deploys", f"render:{demo.deploys_file}")  # fmt: skip
    assert done.returncode == 1
    annotations = [a for a in done.stderr.splitlines() if a.startswith("::error")]
    expected = (
        f"::error file={demo.migration_path},line={revision_line(demo)},title=forensics guard"
    )
    assert any(a.startswith(expected) for a in annotations), annotations
    assert "# forensics guard: **BLOCKED**" in summary.read_text(encoding="utf-8")


def test_without_github_actions_nothing_is_annotated(demo: DemoScenario, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    command = [sys.executable, "-m", "forensics", "analyze", *common(demo), "--out",
               str(tmp_path), "--fail-on", "high"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 1
    assert "::error" not in done.stderr and "BLOCKED: deploys blocked" in done.stderr
