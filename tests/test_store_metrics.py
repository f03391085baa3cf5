"""The store's metrics revision (0002): an older store is upgraded with its audits kept, and
each audit keeps its weekly figures, its status and its report path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from benchmarks.fleet_repos import END, LEAD_P50_H, build_service
from forensics.model.incidents import IncidentStatus
from forensics.model.metrics import WeekMetrics
from forensics.store import MIGRATIONS, VERSION_TABLE, FindingsStore
from tests.conftest import Run

ROWS = (
    WeekMetrics("2025-W45", 2, 1, 0.5, 4.0, 28.5, 28.9, 0, 0),
    WeekMetrics("2025-W46", 1, 0, 0.0, None, 28.5, 28.9, 1, 0),
)


def test_a_store_of_the_first_schema_is_upgraded_and_keeps_its_audits(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "0001_initial")
        conn.execute(
            sa.text(
                "INSERT INTO forensics_audits (repo_key, audit_id, week, rev, created_at, "
                "finding_count) VALUES ('repo', 'audit-2025-W45', '2025-W45', 'abc', "
                "'2025-11-07 12:00:00', 0)"
            )
        )
    engine.dispose()

    with FindingsStore.open(str(path)) as store:
        (old,) = store.audits("repo")
        assert (old.audit_id, old.status, old.report) == ("audit-2025-W45", None, None)
        store.record_audit(
            "repo",
            "audit-2025-W46",
            "def",
            END,
            [],
            metrics=ROWS,
            status=IncidentStatus.HEALTHY,
            report="repo/audit-2025-W46.html",
        )
        stored = store.stored_audit("repo", "audit-2025-W46")
        assert stored is not None
        assert stored.metrics == ROWS
        assert (stored.record.status, stored.record.report) == (
            "healthy",
            "repo/audit-2025-W46.html",
        )
        assert stored.record.previous == "audit-2025-W45"
        # a re-run of the week replaces its figures, never adds to them
        store.record_audit("repo", "audit-2025-W46", "def", END, [], metrics=ROWS[1:])
        again = store.stored_audit("repo", "audit-2025-W46")
        assert again is not None and again.metrics == ROWS[1:]
        assert store.stored_audit("repo", "audit-2025-W44") is None
    with sqlite3.connect(path) as db:
        assert db.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall() == [
            ("0002_metrics",)
        ]
        assert db.execute("SELECT COUNT(*) FROM forensics_metrics").fetchone() == (8,)


def test_audit_stores_the_weeks_and_shows_the_trend(tmp_path: Path, run: Run) -> None:
    service = build_service(tmp_path, "svc")
    store, out = tmp_path / "store.db", tmp_path / "out"
    code, stdout, _err = run(
        "audit",
        "--repo",
        str(service.repo),
        "--deploys",
        f"csv:{service.deploys}",
        "--deploy-logs",
        f"dir:{service.logs}",
        "--until",
        "2025-11-14T12:00:00Z",
        "--store",
        str(store),
        "--out",
        str(out),
        "--fail-on",
        "none",
    )
    assert code == 0, stdout
    markdown = (out / "audit-2025-W46.md").read_text()
    assert "## Delivery metrics" in markdown
    assert "| 2025-W46 | 1 | 0 | 0% | - | 28.5 h | 28.9 h | 1 | 0 |" in markdown
    html = (out / "audit-2025-W46.html").read_text()
    assert '<svg class="chart trend"' in html and 'href="#metrics"' in html
    with FindingsStore.open(str(store)) as findings_store:
        stored = findings_store.stored_audit(str(service.repo.resolve()), "audit-2025-W46")
    assert stored is not None and len(stored.metrics) == 12
    assert stored.metrics[-1].lead_time_h_p50 == LEAD_P50_H
    assert stored.record.status == "at-risk"
    assert stored.record.report == str(out / "audit-2025-W46.md")
