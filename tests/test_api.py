"""The library API as a user of the package calls it, on the demo repository."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import forensics
from forensics.demo import DemoScenario
from forensics.gitbuild import RepoBuilder
from tests.test_guarding import build_seed

NOW = datetime(2025, 11, 16, 17, 25, tzinfo=UTC)


def untracked(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--ignored"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_every_exported_name_resolves() -> None:
    for name in forensics.__all__:
        assert getattr(forensics, name) is not None
    with pytest.raises(AttributeError):
        _ = forensics.no_such_name  # type: ignore[attr-defined]


def test_analyze_returns_the_report_and_writes_nothing(demo: DemoScenario) -> None:
    before = untracked(demo.repo)
    report = forensics.analyze(
        demo.repo,
        since="2025-11-13",
        until=NOW,
        deploys=[f"render:{demo.deploys_file}"],
        deploy_logs=[f"dir:{demo.logs_dir}"],
        now=NOW,
    )
    assert isinstance(report, forensics.Report)
    assert {"FX201", "FX401", "FX404"} <= {f.rule for f in report.findings}
    assert report.generated_at == NOW
    assert untracked(demo.repo) == before  # no .forensics-cache in the repository
    markdown = forensics.OutputFormat.MD.render(report)
    assert markdown.startswith("#")


def test_the_cache_is_used_only_where_asked(demo: DemoScenario, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = forensics.analyze(demo.repo, since="2025-11-13", until=NOW, now=NOW, cache_dir=cache)
    assert any(cache.iterdir())
    again = forensics.analyze(demo.repo, since="2025-11-13", until=NOW, now=NOW, cache_dir=cache)
    assert [f.fingerprint for f in again.findings] == [f.fingerprint for f in first.findings]


def test_audit_records_in_the_store_and_compares(demo: DemoScenario, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    options = {"deploys": [f"render:{demo.deploys_file}"], "until": NOW, "now": NOW}
    first = forensics.audit(demo.repo, store=store, **options)  # type: ignore[arg-type]
    assert first.audit is not None and first.audit.new
    second = forensics.audit(demo.repo, store=store, **options)  # type: ignore[arg-type]
    assert second.audit is not None
    assert set(second.audit.still_open) == set(first.audit.new)


def test_dag_and_history(demo: DemoScenario) -> None:
    graph = forensics.dag(demo.repo, rev="HEAD~1")
    assert len(graph.rev) == 40
    assert [len(s.heads) for s in graph.states] == [2]
    found = forensics.history(demo.repo, since="2025-11-16", until=NOW, now=NOW)
    assert found.events and all(e.at >= datetime(2025, 11, 16, tzinfo=UTC) for e in found.events)
    assert all(p.at >= datetime(2025, 11, 16, tzinfo=UTC) for p in found.history.points)
    with pytest.raises(forensics.ForensicsError, match="--until is before --since"):
        forensics.history(demo.repo, since="2025-11-16", until="2025-11-15", now=NOW)


def test_guard_and_write_lock_on_a_real_repository(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    seed = build_seed(git_repo, tmp_path)
    assert callable(forensics.guard) and "guard" in forensics.__all__
    rewired = forensics.guard(
        seed.repo.path, base=seed.deployed, rev=seed.rewire, deploys=["tags:v*"]
    )
    assert isinstance(rewired, forensics.GuardResult)
    assert rewired.mode is forensics.GuardMode.RANGE and rewired.exit_code == 1
    assert [(v.rule, v.revision) for v in rewired.violations] == [
        (forensics.RuleId.FX202, "b2b2b2b2b2b2")
    ]
    assert isinstance(rewired.violations[0], forensics.Finding)
    clean = forensics.guard(
        seed.repo.path, base=seed.reformat, rev=seed.unrelated, deploys=["tags:v*"]
    )
    assert clean.exit_code == 0 and not clean.violations

    lock = tmp_path / "forensics.lock"
    written = forensics.write_lock(seed.repo.path, lock, rev=seed.deployed)
    assert written.mode is forensics.GuardMode.WRITE_LOCK and lock.is_file()
    assert written.lock_update is not None and len(written.lock_update.added) == 2
    locked = forensics.guard(seed.repo.path, base=seed.deployed, rev=seed.rewire, lock=lock)
    assert [v.rule for v in locked.violations] == ["FX202"]
    staged = forensics.guard(seed.repo.path, mode=forensics.GuardMode.STAGED, lock=lock)
    assert staged.mode is forensics.GuardMode.STAGED and staged.exit_code == 0
    with pytest.raises(forensics.ForensicsError, match="drop --base"):
        forensics.guard(seed.repo.path, mode=forensics.GuardMode.STAGED, base=seed.deployed)
