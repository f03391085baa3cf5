"""The example CI workflow is valid and safe: the GitHub workflow schema, zizmor (offline, at
its default level), and the properties a copy-paste user relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOW = Path(__file__).parent.parent / "docs" / "weekly-audit.yml"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run `make install` (it is in the dev extra)")
    return found


def steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in doc["jobs"].values() for step in job["steps"]]


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return doc


def test_the_workflow_matches_the_github_schema() -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(WORKFLOW)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout + result.stderr


def test_zizmor_would_flag_the_unsafe_shapes(tmp_path: Path) -> None:
    """The check has teeth: an unpinned action and an expression in a script are found."""
    unsafe = WORKFLOW.read_text().replace(
        '--base "origin/${BASE_REF}"', '--base "origin/${{ github.head_ref }}"'
    )
    unsafe = re.sub(r"actions/checkout@[0-9a-f]{40}", "actions/checkout@v4", unsafe)
    target = tmp_path / "unsafe.yml"
    target.write_text(unsafe)
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(target)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "template-injection" in result.stdout and "unpinned-uses" in result.stdout


def test_actions_are_pinned_by_commit(workflow: dict[str, Any]) -> None:
    uses = [step["uses"] for step in steps(workflow) if "uses" in step]
    assert uses and all(re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", u) for u in uses), uses


def test_no_expression_is_written_into_a_script(workflow: dict[str, Any]) -> None:
    scripts = [step["run"] for step in steps(workflow) if "run" in step]
    assert scripts and not any("${{" in script for script in scripts)


def test_checkouts_keep_no_credentials(workflow: dict[str, Any]) -> None:
    checkouts = [s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts)


def test_permissions_are_minimal(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {}
    audit, guard = workflow["jobs"]["audit"], workflow["jobs"]["guard"]
    assert audit["permissions"] == {
        "contents": "read",
        "security-events": "write",
        "actions": "read",
    }
    assert guard["permissions"] == {"contents": "read"}


def test_the_store_is_saved_whatever_the_outcome(workflow: dict[str, Any]) -> None:
    audit = workflow["jobs"]["audit"]["steps"]
    names = [s.get("uses", "").split("@")[0] for s in audit]
    restore, save = names.index("actions/cache/restore"), names.index("actions/cache/save")
    run = next(i for i, s in enumerate(audit) if s.get("id") == "audit")
    assert restore < run < save
    assert audit[save]["if"].startswith("always()")
    assert audit[save]["with"]["path"] == audit[restore]["with"]["path"]
    assert "actions/cache" not in names  # the plain cache saves only on success
