"""An audit is stored only once its reports exist: an interrupted audit is re-run as new."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from forensics.demo import DemoScenario
from forensics.model.findings import Confidence, Finding, Severity
from forensics.model.report import AuditDiff
from forensics.store import FindingsStore
from tests.conftest import DEMO_UNTIL as UNTIL
from tests.conftest import Run

MONDAY = datetime(2025, 11, 10, 9, 0, tzinfo=UTC)


def audit(demo: DemoScenario, store: Path, out: Path) -> list[str]:
    return [
        "audit", "--repo", str(demo.repo), "--rev", f"{demo.head}~1", "--until", UNTIL,
        "--store", str(store), "--out", str(out), "--format", "json,md", "--fail-on", "none",
        "--no-cache",
    ]  # fmt: skip


def test_an_unwritable_out_stores_nothing_and_the_rerun_is_new(
    demo: DemoScenario, run: Run, tmp_path: Path
) -> None:
    store = tmp_path / "store.db"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _out, err = run(*audit(demo, store, blocker / "reports"))
    assert code == 2 and "cannot write" in err
    with FindingsStore.open(str(store)) as opened:
        assert opened.audits(str(demo.repo.resolve())) == []

    out = tmp_path / "reports"
    assert run(*audit(demo, store, out))[0] == 0
    doc = json.loads((out / "audit-2025-W46.json").read_text())
    assert doc["audit"]["previous"] is None
    assert doc["audit"]["new"] and len(doc["audit"]["new"]) == len(
        {f["fingerprint"] for f in doc["findings"]}
    )
    assert (out / "audit-2025-W46.md").exists()
    with FindingsStore.open(str(store)) as opened:
        assert [a.audit_id for a in opened.audits(str(demo.repo.resolve()))] == ["audit-2025-W46"]


def finding(rule: str) -> Finding:
    return Finding(
        rule=rule,
        name="n",
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        title=f"{rule} title",
        detail="d",
        revision="r1",
        path="p.py",
    )


def test_an_interrupted_publish_rolls_the_audit_back(tmp_path: Path) -> None:
    url = str(tmp_path / "store.db")
    seen: list[AuditDiff] = []
    with FindingsStore.open(url) as store:
        store.record_audit("repo", "audit-2025-W46", "a" * 40, MONDAY, [finding("FX101")])

        def interrupted(diff: AuditDiff) -> None:
            seen.append(diff)
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            store.record_audit(
                "repo", "audit-2025-W47", "b" * 40, MONDAY, [finding("FX102")], interrupted
            )
        assert [a.audit_id for a in store.audits("repo")] == ["audit-2025-W46"]
        again = store.record_audit(
            "repo", "audit-2025-W47", "b" * 40, MONDAY, [finding("FX102")], seen.append
        )
    assert seen[0] == seen[1] == again
    assert again.previous == "audit-2025-W46" and len(again.new) == 1
