"""``forensics watch`` against a real HTTP server on loopback playing Render's deploys API:
one deploy goes queued → in progress → failed (the incident report is written), one goes
live, one never ends."""

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
KEY = "rnd_WATCHkey0987654321"
VERSIONS = "app/migrations/versions"


def _deploy(ident: str, status: str, sha: str, minutes: int) -> dict[str, object]:
    stamp = (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "deploy": {
            "id": ident,
            "status": status,
            "commit": {"id": sha},
            "createdAt": stamp,
            "finishedAt": stamp if status in ("live", "update_failed") else None,
        },
        "cursor": ident,
    }


@pytest.fixture
def repo(git_repo: Callable[..., RepoBuilder]) -> tuple[RepoBuilder, str, str]:
    builder = git_repo()
    first = builder.commit(
        "base",
        T0 - timedelta(hours=1),
        files={
            "app/migrations/env.py": "from alembic import context\n",
            f"{VERSIONS}/a1_base.py": migration("a1", None),
        },
    )
    second = builder.commit(
        "add b1",
        T0 - timedelta(minutes=30),
        files={f"{VERSIONS}/b1_next.py": migration("b1", "a1")},
    )
    return builder, first, second


def _serve(api: Api, monkeypatch: pytest.MonkeyPatch, *pages: list[dict[str, object]]) -> None:
    monkeypatch.setenv("RENDER_API_KEY", KEY)
    monkeypatch.setenv("FORENSICS_RENDER_API_URL", api.url)
    api.on("/v1/services/srv-1/deploys", *(Reply(200, page) for page in pages))


def test_watch_a_deploy_that_fails_writes_the_report(
    repo: tuple[RepoBuilder, str, str],
    api_server: Api,
    monkeypatch: pytest.MonkeyPatch,
    run: Run,
    tmp_path: Path,
) -> None:
    builder, first, second = repo
    live = _deploy("dep-live", "live", first, 0)
    _serve(
        api_server,
        monkeypatch,
        [_deploy("dep-new", "queued", second, 10), live],
        [_deploy("dep-new", "queued", second, 10), live],
        [_deploy("dep-new", "build_in_progress", second, 10), live],
        [_deploy("dep-new", "update_failed", second, 10), live],
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "dep-new.log").write_text(
        "==> Running pre-deploy command 'alembic upgrade head'\n"
        "FAILED: Multiple head revisions are present for given argument 'head'\n"
        "==> Pre-deploy has failed\n"
    )
    out = tmp_path / "out"
    code, stdout, stderr = run(
        "watch",
        "--repo", str(builder.path),
        "--deploys", "render-api:srv-1",
        "--deploy-logs", f"dir:{logs}",
        "--interval", "0.01",
        "--timeout", "60",
        "--format", "json,md",
        "--out", str(out),
        "--stem", "watched",
    )  # fmt: skip
    assert code == 1, stderr
    assert "deploy dep-new of " + second[:8] + ": queued" in stderr
    assert "queued → build_in_progress" in stderr
    assert "build_in_progress → update_failed" in stderr
    assert stdout.split() == [str(out / "watched.json"), str(out / "watched.md")]
    report = json.loads((out / "watched.json").read_text())
    (cause,) = [f for f in report["findings"] if f["rule"] == "FX404"]
    assert cause["deploys"] == ["dep-new"] and "multiple-heads" in cause["title"]
    (window,) = report["failure_windows"]
    assert window["classes"] == {"multiple-heads": 1}
    assert window["causes"][0]["line"].startswith("FAILED: Multiple head revisions")
    assert "Multiple head revisions are present" in (out / "watched.md").read_text()
    assert KEY not in stdout + stderr + (out / "watched.md").read_text()


def test_watch_a_deploy_that_goes_live(
    repo: tuple[RepoBuilder, str, str], api_server: Api, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    builder, first, second = repo
    live = _deploy("dep-live", "live", first, 0)
    _serve(
        api_server,
        monkeypatch,
        [_deploy("dep-new", "build_in_progress", second, 10), live],
        [_deploy("dep-new", "live", second, 10), live],
    )
    code, stdout, stderr = run(
        "watch", "--repo", str(builder.path), "--deploys", "render-api:srv-1",
        "--deploy", "dep-new", "--interval", "0.01",
    )  # fmt: skip
    assert code == 0, stderr
    assert "build_in_progress → live" in stderr and "deploy dep-new is live" in stderr
    assert stdout == ""


def test_watch_gives_up_at_the_timeout_and_names_a_missing_deploy(
    repo: tuple[RepoBuilder, str, str], api_server: Api, monkeypatch: pytest.MonkeyPatch, run: Run
) -> None:
    builder, _first, second = repo
    _serve(api_server, monkeypatch, [_deploy("dep-new", "update_in_progress", second, 10)])
    args = ("watch", "--repo", str(builder.path), "--deploys", "render-api:srv-1")
    code, _out, stderr = run(*args, "--interval", "0.01", "--timeout", "0.05")
    assert code == 2
    assert "still update_in_progress" in stderr and "--timeout" in stderr
    code, _out, stderr = run(*args, "--deploy", "dep-zzz", "--interval", "0.01")
    assert code == 2 and "deploy dep-zzz is not in render-api:srv-1" in stderr
    code, _out, stderr = run("watch", "--repo", str(builder.path))
    assert code == 2 and "--deploys" in stderr
