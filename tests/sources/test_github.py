"""GitHub deployments from a file and from a real loopback API server."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.errors import Diagnostics, ForensicsError, InputError
from forensics.model.deploys import DeployCategory
from forensics.sources import github
from tests.sources.apiserver import Api, Reply

TOKEN = "ghp_TOKENtoken1234567890"


def deployment(n: int, env: str = "production") -> dict[str, Any]:
    return {
        "id": 1000 + n,
        "sha": f"{n:040x}",
        "ref": "main",
        "environment": env,
        "created_at": f"2025-11-16T09:{n:02d}:00Z",
        "description": f"deploy {n}",
        "creator": {"login": "bot"},
    }


def status(state: str, n: int) -> dict[str, Any]:
    return {"state": state, "created_at": f"2025-11-16T09:{n:02d}:30Z", "environment": "production"}


def test_file_maps_states_and_takes_the_latest_status(tmp_path: Path) -> None:
    states = ["success", "inactive", "failure", "error", "pending", "queued", "in_progress"]
    items = []
    for n, state in enumerate(states):
        item = deployment(n)
        item["statuses"] = [status(state, n), status("in_progress", n)]
        items.append(item)
    items.append({**deployment(9), "latest_status": status("success", 9)})
    items.append(deployment(10))  # no status yet
    path = tmp_path / "gh.json"
    path.write_text(json.dumps(items))
    got = github.read_file(str(path), Diagnostics())
    categories = [d.category.value for d in got]
    assert categories == [
        "live",
        "superseded",
        "failed",
        "failed",
        "in_progress",
        "in_progress",
        "in_progress",
        "live",
        "in_progress",
    ]
    first = got[0]
    assert first.id == "1000" and first.commit_ref == f"{0:040x}"
    assert first.service == "production" and first.finished_at is not None
    assert got[-1].status == "pending" and got[-1].finished_at is None


def test_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "gh.json"
    path.write_text('{"deployments": []}')
    with pytest.raises(InputError, match="must hold"):
        github.read_file(str(path), Diagnostics())
    path.write_text(json.dumps([{"sha": "abc", "created_at": "2025-11-16T09:00:00Z"}]))
    with pytest.raises(InputError, match="no id"):
        github.read_file(str(path), Diagnostics())


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                ["id", "sha", "created_at", "statuses", "latest_status", "environment"]
            ),
            st.none()
            | st.integers()
            | st.text(max_size=20)
            | st.lists(
                st.dictionaries(
                    st.sampled_from(["state", "created_at"]), st.text(max_size=20) | st.integers()
                )
            ),
            max_size=6,
        ),
        max_size=4,
    )
)
def test_arbitrary_deployments_never_crash(tmp_path: Path, data: object) -> None:
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(data))
    try:
        github.read_file(str(path), Diagnostics())
    except ForensicsError as exc:
        assert "\n" not in exc.message


def test_api_follows_link_pages_and_reads_latest_statuses(
    api_server: Api, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    first = "/repos/acme/shop/deployments?per_page=100&environment=production"
    second = "/repos/acme/shop/deployments?per_page=100&environment=production&page=2"
    api_server.on(
        first,
        Reply(500),
        Reply(
            200, [deployment(1), deployment(2)], {"Link": f'<{api_server.url}{second}>; rel="next"'}
        ),
    )
    api_server.on(second, Reply(429, b"", {"Retry-After": "0"}), Reply(200, [deployment(3)]))
    for n, state in ((1, "inactive"), (2, "success"), (3, "failure")):
        api_server.json(
            f"/repos/acme/shop/deployments/{1000 + n}/statuses?per_page=1", [status(state, n)]
        )
    env = {"GITHUB_TOKEN": TOKEN, "FORENSICS_GITHUB_API_URL": api_server.url}
    got = github.fetch("acme/shop@production", Diagnostics(), env=env)
    assert [(d.id, d.category) for d in got] == [
        ("1001", DeployCategory.SUPERSEDED),
        ("1002", DeployCategory.LIVE),
        ("1003", DeployCategory.FAILED),
    ]
    assert all(d.source == "github-api:acme/shop@production" for d in got)
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for _, h in api_server.seen)
    out = capsys.readouterr()
    assert TOKEN not in caplog.text + out.out + out.err


def test_api_never_follows_links_to_another_host(api_server: Api) -> None:
    api_server.json(
        "/repos/acme/shop/deployments",
        [deployment(1)],
        Link='<https://evil.example/steal?page=2>; rel="next"',
    )
    api_server.json("/repos/acme/shop/deployments/1001/statuses", [status("success", 1)])
    diag = Diagnostics()
    got = github.fetch("acme/shop", diag, env={"FORENSICS_GITHUB_API_URL": api_server.url})
    assert [d.id for d in got] == ["1001"]
    assert any("elsewhere" in w for w in diag.warnings)
    assert all("Authorization" not in h for _, h in api_server.seen)


def test_api_malformed_page(api_server: Api) -> None:
    api_server.on("/repos/acme/shop/deployments", Reply(200, b"]]"))
    with pytest.raises(InputError, match="not JSON"):
        github.fetch("acme/shop", Diagnostics(), env={"FORENSICS_GITHUB_API_URL": api_server.url})


def test_api_bad_target() -> None:
    with pytest.raises(InputError, match="OWNER/REPO"):
        github.fetch("just-a-name", Diagnostics(), env={})
