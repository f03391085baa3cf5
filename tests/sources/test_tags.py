"""Release tags as live deploys, from a real repository."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from forensics.errors import InputError
from forensics.gitbuild import RepoBuilder
from forensics.model.deploys import DeployCategory
from forensics.sources import tags
from forensics.sources.git import GitSource


def test_matching_reachable_tags_are_live_deploys(git_repo: Callable[..., RepoBuilder]) -> None:
    repo = git_repo()
    first = repo.commit("one", "2025-11-01T09:00:00Z", files={"a.txt": "1"})
    repo.tag("v1.0", message="release 1.0", at="2025-11-02T10:00:00Z")
    second = repo.commit("two", "2025-11-03T09:00:00Z", files={"a.txt": "2"})
    repo.tag("v1.1")
    repo.tag("nightly-1")
    repo.checkout("side", create=True)
    repo.commit("side", "2025-11-04T09:00:00Z", files={"b.txt": "x"})
    repo.tag("v9.9")
    repo.checkout("main")
    git = GitSource(repo.path)
    got = tags.load("v*", git, "main")
    assert [(d.id, d.commit) for d in got] == [("tag:v1.0", first), ("tag:v1.1", second)]
    assert all(d.category is DeployCategory.LIVE and d.source == "tags:v*" for d in got)
    assert got[0].created_at.isoformat() == "2025-11-02T10:00:00+00:00"  # tagger date
    assert got[1].created_at.isoformat() == "2025-11-03T09:00:00+00:00"  # commit date
    git.close()


def test_pattern_that_matches_nothing_is_an_error(git_repo: Callable[..., RepoBuilder]) -> None:
    repo = git_repo()
    repo.commit("one", "2025-11-01T09:00:00Z", files={"a.txt": "1"})
    repo.tag("v1")
    git = GitSource(repo.path)
    with pytest.raises(InputError, match="no tag matching 'release-\\*'") as err:
        tags.load("release-*", git, "HEAD")
    assert "\n" not in err.value.message
    git.close()
