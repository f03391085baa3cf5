"""The findings store: weekly audits, re-runs, resolved findings, concurrency, bad stores.

Findings come from the real detectors over real repositories (``git_repo``), so their
fingerprints are the ones an audit would store.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forensics.detectors import run
from forensics.detectors.base import Context
from forensics.errors import Diagnostics, InputError
from forensics.gitbuild import RepoBuilder
from forensics.model.findings import ChangeRef, Confidence, Finding, Severity
from forensics.model.migrations import ChangeKind
from forensics.pipeline import load_graphs
from forensics.render.json import finding_json
from forensics.sources.git import GitSource
from forensics.store import (
    MIGRATIONS,
    SCHEMA_HEAD,
    VERSION_TABLE,
    FindingsStore,
    audit_id_for,
    finding_from_json,
    finding_to_json,
)
from tests.conftest import migration

MONDAY = datetime(2025, 11, 10, 6, 0, tzinfo=UTC)  # ISO week 2025-W46


def findings_at(repo: RepoBuilder, rev: str = "HEAD") -> list[Finding]:
    git = GitSource(repo.path, Diagnostics())
    try:
        _envs, states = load_graphs(git, rev, (), Diagnostics())
        sha = git.resolve(rev)
    finally:
        git.close()
    context = Context(rev=sha, until=MONDAY, states=tuple(states))
    return run(context)


def broken_repo(git_repo: Callable[..., RepoBuilder], name: str = "repo") -> RepoBuilder:
    """Two unlabelled heads (FX101) and a file that does not parse (FX105)."""
    repo = git_repo(name)
    repo.commit(
        "migrations",
        "2025-11-07T10:00:00+00:00",
        files={
            "db/env.py": "",
            "db/versions/a1.py": migration("a1a1a1a1a1a1", None),
            "db/versions/b2.py": migration("b2b2b2b2b2b2", "a1a1a1a1a1a1"),
            "db/versions/c3.py": migration("c3c3c3c3c3c3", "a1a1a1a1a1a1"),
            "db/versions/d4.py": "def upgrade(:\n",
        },
    )
    return repo


def fix_heads(repo: RepoBuilder) -> str:
    return repo.commit(
        "merge heads",
        "2025-11-12T10:00:00+00:00",
        files={
            "db/versions/e5.py": migration("e5e5e5e5e5e5", ("b2b2b2b2b2b2", "c3c3c3c3c3c3")),
        },
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "reports" / "forensics.db")  # a plain path, folder created
    url: str = request.getfixturevalue("postgres_url")
    return url


def by_rule(findings: list[Finding], rule: str) -> str:
    return next(f.fingerprint for f in findings if f.rule == rule)


def test_weekly_audits_rerun_and_resolution(
    git_repo: Callable[..., RepoBuilder], store_url: str
) -> None:
    repo = broken_repo(git_repo)
    found = findings_at(repo)
    heads, unparseable = by_rule(found, "FX101"), by_rule(found, "FX105")
    week = audit_id_for(MONDAY)
    assert week == "audit-2025-W46"

    with FindingsStore.open(store_url) as store:
        first = store.record_audit("repo", week, repo.head(), MONDAY, found)
    assert first.previous is None
    assert set(first.new) == {f.fingerprint for f in found} and not first.still_open

    # The same week again, unchanged repository, store opened anew.
    with FindingsStore.open(store_url) as store:
        second = store.record_audit(
            "repo", week, repo.head(), MONDAY + timedelta(hours=3), findings_at(repo)
        )
        audits = store.audits("repo")
    assert second.previous == week  # the first run, which this one replaces
    assert second.new == () and second.resolved == ()
    assert set(second.still_open) == set(first.new)
    assert [a.audit_id for a in audits] == [week]  # replaced, not duplicated
    assert audits[0].created_at == MONDAY + timedelta(hours=3)

    fix_heads(repo)
    fixed = findings_at(repo)
    next_week = audit_id_for(MONDAY + timedelta(days=7))
    with FindingsStore.open(store_url) as store:
        third = store.record_audit("repo", next_week, repo.head(), MONDAY + timedelta(7), fixed)
        other = store.record_audit("other-repo", next_week, "x" * 40, MONDAY, fixed)
        audits = store.audits("repo")
        stored = store.findings("repo", next_week)
    assert third.previous == week
    assert third.resolved == (heads,)
    assert [f.rule for f in third.resolved_findings] == ["FX101"]
    assert third.resolved_findings[0] == next(f for f in found if f.rule == "FX101")
    assert unparseable in third.still_open and third.new == ()
    assert other.previous is None  # audits are per repository
    assert [(a.audit_id, a.previous) for a in audits] == [(week, week), (next_week, week)]
    assert stored == fixed


def test_a_late_rerun_of_an_older_week_compares_with_the_weeks_before_it(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    found = findings_at(broken_repo(git_repo))
    with FindingsStore.open(str(tmp_path / "s.db")) as store:
        store.record_audit("r", "audit-2025-W45", "a", MONDAY - timedelta(7), found[:1])
        store.record_audit("r", "audit-2025-W47", "c", MONDAY + timedelta(7), [])
        backfill = store.record_audit("r", "audit-2025-W46", "b", MONDAY + timedelta(9), found)
    assert backfill.previous == "audit-2025-W45"
    assert backfill.still_open == (found[0].fingerprint,)


def test_concurrent_audits_against_one_sqlite_store(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    found = findings_at(broken_repo(git_repo))
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    jobs = [
        ("audit-2025-W46", found),
        ("audit-2025-W46", found[:1]),
        ("audit-2025-W47", found),
        ("audit-2025-W48", found[1:]),
    ]
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def audit(audit_id: str, findings: list[Finding]) -> None:
        try:
            barrier.wait()
            # each run opens the (not yet created) store itself, as separate processes would
            with FindingsStore.open(url) as store:
                for _ in range(3):
                    store.record_audit("repo", audit_id, "f" * 40, MONDAY, findings)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=audit, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    with sqlite3.connect(tmp_path / "shared.db") as db:
        rows = db.execute(
            "SELECT a.audit_id, a.finding_count, COUNT(f.id) FROM forensics_audits a "
            "LEFT JOIN forensics_findings f ON f.audit_pk = a.id GROUP BY a.id ORDER BY 1"
        ).fetchall()
        orphans = db.execute(
            "SELECT COUNT(*) FROM forensics_findings WHERE audit_pk NOT IN "
            "(SELECT id FROM forensics_audits)"
        ).fetchone()
        versions = db.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
    assert [r[0] for r in rows] == ["audit-2025-W46", "audit-2025-W47", "audit-2025-W48"]
    assert all(count == stored for _id, count, stored in rows)
    assert rows[0][1] in (len(found), 1)  # whichever W46 run came last
    assert orphans == (0,)
    assert versions == [(SCHEMA_HEAD,)]


@pytest.mark.postgres
def test_concurrent_audits_against_postgresql(
    git_repo: Callable[..., RepoBuilder], postgres_url: str
) -> None:
    found = findings_at(broken_repo(git_repo))
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def audit(audit_id: str) -> None:
        try:
            barrier.wait()
            with FindingsStore.open(postgres_url) as store:
                store.record_audit("repo", audit_id, "f" * 40, MONDAY, found)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=audit, args=(f"audit-2025-W{w}",)) for w in ("46", "46", "47")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with FindingsStore.open(postgres_url) as store:
        audits = store.audits("repo")
        assert [a.audit_id for a in audits] == ["audit-2025-W46", "audit-2025-W47"]
        assert all(len(store.findings("repo", a.audit_id)) == len(found) for a in audits)


def test_schema_head_is_the_head_of_the_store_migrations(tmp_path: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_HEAD]
    path = tmp_path / "forensics.db"
    FindingsStore.open(str(path)).close()
    with sqlite3.connect(path) as db:
        assert db.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall() == [(SCHEMA_HEAD,)]


def test_store_written_by_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "forensics.db"
    FindingsStore.open(str(path)).close()
    with sqlite3.connect(path) as db:
        db.execute(f"UPDATE {VERSION_TABLE} SET version_num = '0099_future'")
    with pytest.raises(InputError) as caught:
        FindingsStore.open(str(path))
    message = caught.value.message
    assert "newer forensics" in message and "0099_future" in message
    assert "upgrade forensics" in message and "\n" not in message


def test_unreachable_store_is_a_clear_error_without_credentials() -> None:
    with pytest.raises(InputError) as caught:
        FindingsStore.open("postgresql://auditor:s3cr3t-pw@127.0.0.1:1/forensics")
    message = caught.value.message
    assert "cannot use the findings store" in message and "--store" in message
    assert "s3cr3t-pw" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/proc/no-such-dir/forensics.db", "cannot create the folder"),
        ("nosuchdb://host/x", "cannot use"),
    ],
)
def test_unusable_store_locations_are_clear_errors(url: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        FindingsStore.open(url)


def test_findings_survive_the_store_unchanged() -> None:
    at = datetime(2025, 11, 13, 9, 30, tzinfo=UTC)
    finding = Finding(
        rule="FX201",
        name="applied-migration-modified",
        severity=Severity.HIGH,
        confidence=Confidence.MEDIUM,
        title="Applied migration 774225e563ca was modified",
        detail="<script>untrusted</script> ünïcode",
        revision="774225e563ca",
        path="migrations/versions/774225e563ca_x.py",
        line=12,
        commits=("a" * 40, "b" * 40),
        changes=(ChangeRef("a" * 40, "code"),),
        merges=("c" * 40,),
        deploys=("dep-1",),
        start=at,
        end=at + timedelta(hours=1),
        environment="migrations",
        facts=(("before", "a1 -> b2"),),
    )
    payload = finding_to_json(finding)
    assert finding_from_json(payload) == finding
    # the JSON report's own form of the finding, times with Z
    data = json.loads(payload)
    assert data == json.loads(json.dumps(finding_json(finding)))
    assert (data["start"], data["end"]) == ("2025-11-13T09:30:00Z", "2025-11-13T10:30:00Z")
    assert data["changes"] == [{"commit": "a" * 40, "kind": "code"}]


def test_a_payload_written_before_the_report_form_still_reads() -> None:
    old = {
        "rule": "FX201",
        "name": "applied-migration-modified",
        "severity": "high",
        "confidence": "medium",
        "title": "Applied migration 774225e563ca was modified",
        "detail": "d",
        "revision": "774225e563ca",
        "path": "migrations/versions/774225e563ca_x.py",
        "line": 12,
        "commits": ["a" * 40],
        "changes": [["a" * 40, "cosmetic"]],
        "merges": [],
        "deploys": [],
        "start": "2025-11-13T09:30:00+00:00",
        "end": None,
        "environment": None,
        "facts": [["before", "a1 -> b2"]],
    }
    finding = finding_from_json(json.dumps(old))
    assert finding.changes == (ChangeRef("a" * 40, ChangeKind.COSMETIC),)
    assert finding.facts == (("before", "a1 -> b2"),)
    assert finding.start == datetime(2025, 11, 13, 9, 30, tzinfo=UTC)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not the droids\n" * 100)
    with pytest.raises(InputError) as caught:
        FindingsStore.open(str(path))
    assert "cannot use the findings store" in caught.value.message
    assert "not a database" in caught.value.message
