"""CI runs as deploys: ``github-actions:FILE`` and the live API against a real HTTP server on
loopback (pages, a 429, a 500, a malformed page, a 50 MB job log), the token never shown."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from forensics.errors import Diagnostics, InputError
from forensics.model.deploys import DeployCategory
from forensics.sources import github_actions
from forensics.sources.deploy_logs import load_logs
from forensics.sources.deploys import read_spec
from forensics.sources.git import GitSource
from forensics.sources.logtext import TAIL_LINES
from tests.sources.apiserver import Api, Reply

TOKEN = "ghp_SECRETtoken1234567890"
C = DeployCategory


def run(
    ident: int, conclusion: str | None, status: str = "completed", **extra: object
) -> dict[str, object]:
    return {
        "id": ident,
        "name": "Deploy",
        "path": ".github/workflows/deploy.yml",
        "head_sha": f"{ident:040x}",
        "status": status,
        "conclusion": conclusion,
        "event": "push",
        "display_title": f"fix: step {ident}",
        "created_at": f"2025-11-14T09:{ident:02d}:00Z",
        "run_started_at": f"2025-11-14T09:{ident:02d}:05Z",
        "updated_at": f"2025-11-14T09:{ident:02d}:50Z",
        **extra,
    }


def test_saved_file_runs_become_deploys(tmp_path: Path) -> None:
    runs = [
        run(1, "success"),
        run(2, "failure"),
        run(3, "timed_out"),
        run(4, "cancelled"),
        run(5, None, status="in_progress"),
        run(6, "action_required"),
        {"id": 7, "status": "completed"},
    ]
    path = tmp_path / "runs.json"
    path.write_text(json.dumps({"total_count": 7, "workflow_runs": runs}))
    diag = Diagnostics()
    deploys = github_actions.read_file(str(path), diag)
    assert [(d.id, d.category) for d in deploys] == [
        ("1", C.LIVE),
        ("2", C.FAILED),
        ("3", C.FAILED),
        ("4", C.CANCELED),
        ("5", C.IN_PROGRESS),
        ("6", C.IN_PROGRESS),
    ]
    first = deploys[0]
    assert first.commit_ref == f"{1:040x}" and first.status == "success"
    assert first.created_at.isoformat() == "2025-11-14T09:01:05+00:00"
    assert first.finished_at is not None and deploys[4].finished_at is None
    assert "skipped 1 of 7" in diag.warnings[0]
    # a list of saved pages reads the same
    path.write_text(json.dumps([{"workflow_runs": runs[:3]}, {"workflow_runs": runs[3:6]}]))
    assert len(github_actions.read_file(str(path), Diagnostics())) == 6


def test_saved_file_through_the_dispatcher(tmp_path: Path, git_repo: object) -> None:
    path = tmp_path / "runs.json"
    path.write_text(json.dumps([run(1, "failure")]))
    repo = tmp_path / "r"
    repo.mkdir()
    import subprocess

    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    git = GitSource(repo, Diagnostics())
    try:
        (deploy,) = read_spec(f"github-actions:{path}", git, "HEAD", Diagnostics())
    finally:
        git.close()
    assert deploy.source == f"github-actions:{path}" and deploy.category is C.FAILED


def _env(api: Api) -> dict[str, str]:
    return {"GITHUB_TOKEN": TOKEN, "FORENSICS_GITHUB_API_URL": api.url}


def test_live_runs_pages_and_retries(
    api_server: Api, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    base = "/repos/acme/orders/actions/workflows/deploy.yml/runs"
    api_server.on(
        f"{base}?per_page=100",
        Reply(429, {"message": "rate"}, {"Retry-After": "0"}),
        Reply(
            200,
            {"total_count": 3, "workflow_runs": [run(3, "failure"), run(2, "failure")]},
            {"Link": f'<{api_server.url}{base}?per_page=100&page=2>; rel="next"'},
        ),
    )
    api_server.on(
        f"{base}?per_page=100&page=2",
        Reply(500, {"message": "oops"}, {"Retry-After": "0"}),
        Reply(200, {"total_count": 3, "workflow_runs": [run(1, "success")]}),
    )
    diag = Diagnostics()
    deploys = github_actions.fetch("acme/orders:deploy.yml", diag, env=_env(api_server))
    assert [(d.id, d.category) for d in deploys] == [
        ("3", C.FAILED),
        ("2", C.FAILED),
        ("1", C.LIVE),
    ]
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for _t, h in api_server.seen)
    out, err = capsys.readouterr()
    assert TOKEN not in out + err + caplog.text + " ".join(diag.warnings)


def test_live_runs_without_a_workflow_keep_the_deploy_runs(api_server: Api) -> None:
    runs = [run(1, "success"), run(2, "failure", name="Tests", path=".github/workflows/ci.yml")]
    api_server.on("/repos/acme/orders/actions/runs", Reply(200, {"workflow_runs": runs}))
    deploys = github_actions.fetch("acme/orders", Diagnostics(), env=_env(api_server))
    assert [d.id for d in deploys] == ["1"]
    only_ci = [run(2, "failure", name="Tests", path=".github/workflows/ci.yml")]
    api_server.on("/repos/acme/orders/actions/runs", Reply(200, {"workflow_runs": only_ci}))
    diag = Diagnostics()
    assert [d.id for d in github_actions.fetch("acme/orders", diag, env=_env(api_server))] == ["2"]
    assert "OWNER/REPO:deploy.yml" in diag.warnings[0]


def test_malformed_page_and_bad_target(api_server: Api) -> None:
    api_server.on("/repos/acme/orders/actions/runs", Reply(200, b"{not json"))
    with pytest.raises(InputError) as info:
        github_actions.fetch("acme/orders", Diagnostics(), env=_env(api_server))
    assert "not JSON" in info.value.message and TOKEN not in info.value.message
    api_server.on("/repos/acme/orders/actions/runs", Reply(200, {"runs": []}))
    with pytest.raises(InputError, match="no workflow_runs list"):
        github_actions.fetch("acme/orders", Diagnostics(), env=_env(api_server))
    with pytest.raises(InputError, match="OWNER/REPO"):
        github_actions.fetch("not a repo", Diagnostics(), env={})


def test_failed_jobs_logs_are_the_runs_log_even_at_50_mb(api_server: Api) -> None:
    jobs = {
        "total_count": 2,
        "jobs": [
            {"id": 11, "name": "build", "conclusion": "success"},
            {"id": 12, "name": "migrate", "conclusion": "failure"},
        ],
    }
    api_server.json("/repos/acme/orders/actions/runs/2/jobs", jobs)
    noise = b"2025-11-14T09:02:10.1234567Z INFO  [app] warming caches " + b"x" * 90 + b"\n"
    body = bytearray(
        b"\xef\xbb\xbf2025-11-14T09:02:01.0000000Z ##[group]Run alembic upgrade head\n"
    )
    while len(body) < 50 * 1024 * 1024:
        body += noise * 10_000
    body += (
        b"2025-11-14T09:02:59.9000000Z FAILED: Can't locate revision identified by "
        b"'774225e563ca'\n"
        b"2025-11-14T09:03:00.0000000Z ##[error]Process completed with exit code 1.\n"
    )
    # The logs endpoint hands the download to another origin (a pre-signed URL), as
    # GitHub's does; localhost and 127.0.0.1 are two origins on the same loopback server.
    elsewhere = api_server.url.replace("127.0.0.1", "localhost")
    api_server.on(
        "/repos/acme/orders/actions/jobs/12/logs",
        Reply(302, b"", {"Location": f"{elsewhere}/blobs/job-12.txt?sig=abc"}),
    )
    api_server.on("/blobs/job-12.txt", Reply(200, bytes(body), {"Content-Type": "text/plain"}))
    diag = Diagnostics()
    from datetime import UTC, datetime

    from forensics.model.deploys import Deploy

    failed = Deploy("2", "failure", C.FAILED, datetime(2025, 11, 14, tzinfo=UTC), "gha")
    logs = load_logs(
        ["github-actions:acme/orders:deploy.yml"], [failed], diag, env=_env(api_server)
    )
    log = logs["2"]
    assert log.lines[0] == "== job migrate =="
    assert log.lines[1] == "##[group]Run alembic upgrade head"
    assert log.lines[-2] == "FAILED: Can't locate revision identified by '774225e563ca'"
    assert log.lines[-1] == "##[error]Process completed with exit code 1."
    assert log.truncated and len(log.lines) <= 1 + 200 + 1 + TAIL_LINES
    assert "/actions/jobs/11/logs" not in " ".join(api_server.targets())
    # The credentials stayed with the API: the handed-off download carried none.
    (blob,) = [h for t, h in api_server.seen if t.startswith("/blobs/")]
    assert "Authorization" not in blob and blob["Host"].startswith("localhost")
    assert not diag.warnings


def test_an_unreadable_job_log_is_a_warning(api_server: Api) -> None:
    from datetime import UTC, datetime

    from forensics.model.deploys import Deploy

    api_server.json(
        "/repos/acme/orders/actions/runs/2/jobs",
        {"jobs": [{"id": 12, "name": "migrate", "conclusion": "failure"}]},
    )
    api_server.on(
        "/repos/acme/orders/actions/jobs/12/logs",
        Reply(302, b"", {"Location": "ftp://example.invalid/job-12.txt"}),
    )
    failed = Deploy("2", "failure", C.FAILED, datetime(2025, 11, 14, tzinfo=UTC), "gha")
    diag = Diagnostics()
    logs = load_logs(["github-actions:acme/orders"], [failed], diag, env=_env(api_server))
    assert logs == {}
    assert "the log of run 2 was not read" in diag.warnings[0] and "not HTTPS" in diag.warnings[0]
    assert TOKEN not in diag.warnings[0]
