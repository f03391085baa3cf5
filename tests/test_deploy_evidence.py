"""``analyze --deploys github-actions:OWNER/REPO:WORKFLOW`` end to end: the CI runs are the
deploys, the failed run's failed job log says why, and the report carries it (FX404), all
against a real HTTP server on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forensics.gitbuild import RepoBuilder
from tests.conftest import Run, migration
from tests.sources.apiserver import Api, Reply, api_server

__all__ = ["api_server"]

T0 = datetime(2025, 11, 14, 9, 0, tzinfo=UTC)
TOKEN = "ghp_EVIDENCEtoken123456789"
VERSIONS = "app/migrations/versions"


def _run(ident: int, sha: str, conclusion: str, minutes: int) -> dict[str, object]:
    stamp = (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": ident,
        "name": "Deploy",
        "path": ".github/workflows/deploy.yml",
        "head_sha": sha,
        "status": "completed",
        "conclusion": conclusion,
        "created_at": stamp,
        "updated_at": stamp,
    }


def test_ci_runs_and_their_job_logs_explain_the_window(
    git_repo: Callable[..., RepoBuilder],
    api_server: Api,
    monkeypatch: pytest.MonkeyPatch,
    run: Run,
    tmp_path: Path,
) -> None:
    repo = git_repo()
    good = repo.commit(
        "base",
        T0 - timedelta(hours=2),
        files={
            "app/migrations/env.py": "from alembic import context\n",
            f"{VERSIONS}/a1_base.py": migration("a1", None),
        },
    )
    repo.delete(f"{VERSIONS}/a1_base.py")
    removal = repo.commit("squash: drop a1", T0 - timedelta(hours=1))
    repo.commit("docs", T0 - timedelta(minutes=50), files={"README.md": "hello\n"})
    repo.commit(
        "new base",
        T0 - timedelta(minutes=40),
        files={f"{VERSIONS}/b1_new.py": migration("b1", None)},
    )
    head = repo.commit("more docs", T0 - timedelta(minutes=30), files={"README.md": "hi\n"})
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("FORENSICS_GITHUB_API_URL", api_server.url)
    runs = [_run(7, head, "failure", 10), _run(5, good, "success", -100)]
    api_server.json("/repos/acme/orders/actions/workflows/deploy.yml/runs", {"workflow_runs": runs})
    api_server.json(
        "/repos/acme/orders/actions/runs/7/jobs",
        {"jobs": [{"id": 70, "name": "migrate", "conclusion": "failure"}]},
    )
    api_server.on(
        "/repos/acme/orders/actions/jobs/70/logs",
        Reply(
            200,
            b"2025-11-14T09:10:01.0000000Z Run alembic upgrade head\n"
            b"2025-11-14T09:10:02.0000000Z ERROR [alembic.util.messaging] Can't locate "
            b"revision identified by 'a1'\n"
            b"2025-11-14T09:10:02.5000000Z FAILED: Can't locate revision identified by 'a1'\n",
        ),
    )
    out = tmp_path / "out"
    code, stdout, stderr = run(
        "analyze", "--repo", str(repo.path), "--deploys",
        "github-actions:acme/orders:deploy.yml", "--format", "json,sarif", "--out", str(out),
        "--stem", "r", "--no-cache",
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads((out / "r.json").read_text())
    (window,) = report["failure_windows"]
    assert window["classes"] == {"unknown-revision": 1}
    assert window["causes"][0]["line"] == (
        "ERROR [alembic.util.messaging] Can't locate revision identified by 'a1'"
    )
    assert window["suspects"][0]["commit"] == removal
    assert "removed revision a1" in window["suspects"][0]["reasons"][0]
    (cause,) = [f for f in report["findings"] if f["rule"] == "FX404"]
    assert cause["revision"] == "a1" and cause["deploys"] == ["7"]
    sarif = (out / "r.sarif").read_text()
    assert "FX404" in sarif and "Can't locate revision identified by 'a1'" in sarif
    assert TOKEN not in stdout + stderr + (out / "r.json").read_text() + sarif
