"""The --deploys dispatcher and the shared rules, against a real repository."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from forensics.errors import Diagnostics, ForensicsError, InputError
from forensics.gitbuild import RepoBuilder
from forensics.model.deploys import DeployCategory
from forensics.sources.deploys import load_deploys
from forensics.sources.git import GitSource


@pytest.fixture
def repo(git_repo: Callable[..., RepoBuilder]) -> RepoBuilder:
    builder = git_repo()
    builder.commit("one", "2025-11-16T08:00:00Z", files={"a.txt": "1"})
    builder.commit("two", "2025-11-16T08:30:00Z", files={"a.txt": "2"})
    builder.tag("v1")
    return builder


def render_item(
    ident: str, status: str, commit: str, created: str, finished: str | None = None
) -> dict[str, object]:
    return {
        "deploy": {
            "id": ident,
            "status": status,
            "commit": {"id": commit},
            "createdAt": created,
            "finishedAt": finished,
        },
        "cursor": ident,
    }


def test_shared_rules(repo: RepoBuilder, tmp_path: Path) -> None:
    head = repo.head()
    first = repo.git("rev-parse", "HEAD~1")
    rewritten = "deadbeef" * 5
    render_file = tmp_path / "render.json"
    render_file.write_text(
        json.dumps(
            [
                render_item("dep-3", "update_failed", head[:7], "2025-11-16T11:00:00+02:00"),
                render_item("dep-1", "update_in_progress", first[:10], "2025-11-16T08:05:00Z"),
                render_item(
                    "dep-1", "live", first[:10], "2025-11-16T08:05:00Z", "2025-11-16T08:09:00Z"
                ),
                render_item("dep-2", "live", rewritten, "2025-11-16T08:40:00Z"),
                render_item("dep-2", "deactivated", rewritten, "2025-11-16T08:40:00Z"),
            ]
        )
    )
    csv_file = tmp_path / "more.csv"
    csv_file.write_text(
        "id,commit,status,created_at\ndep-0,main,live,2025-11-16T07:00:00Z\n"
        "dep-1,,update_in_progress,2025-11-16T08:05:00Z\n"
    )
    diag = Diagnostics()
    git = GitSource(repo.path)
    got = load_deploys([f"render:{render_file}", f"csv:{csv_file}", "tags:v*"], git, "HEAD", diag)
    git.close()
    assert [d.id for d in got] == ["dep-0", "dep-1", "tag:v1", "dep-2", "dep-3"]
    by_id = {d.id: d for d in got}
    assert by_id["dep-1"].status == "live" and by_id["dep-1"].commit == first  # most final
    assert by_id["dep-3"].commit == head and by_id["dep-3"].commit_ref == head[:7]
    assert by_id["dep-3"].created_at.isoformat() == "2025-11-16T09:00:00+00:00"
    assert by_id["dep-2"].category is DeployCategory.SUPERSEDED
    assert by_id["dep-2"].commit is None and not by_id["dep-2"].commit_known
    assert by_id["dep-2"].commit_ref == rewritten
    # "main" is a branch name, not a commit id: it must not resolve to today's branch
    assert by_id["dep-0"].commit is None and not by_id["dep-0"].commit_known
    assert by_id["tag:v1"].commit == head
    assert any("not in this repository" in w and "deadbeefdead" in w for w in diag.warnings)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("deploys.json", "no known source prefix"),
        ("heroku:x", "no known source prefix"),
        ("render:", "names no file"),
        ("render:/no/such/file.json", "does not exist"),
        ("csv:/no/such/file.csv", "does not exist"),
        ("tags:release-*", "no tag matching"),
    ],
)
def test_bad_specs(repo: RepoBuilder, spec: str, needle: str) -> None:
    git = GitSource(repo.path)
    with pytest.raises(ForensicsError) as err:
        load_deploys([spec], git, "HEAD", Diagnostics())
    git.close()
    assert needle in err.value.message and "\n" not in err.value.message


def test_empty_file_is_named(repo: RepoBuilder, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    git = GitSource(repo.path)
    with pytest.raises(InputError, match=f"{empty} is empty"):
        load_deploys([f"jsonl:{empty}"], git, "HEAD", Diagnostics())
    git.close()
