"""Remote links: every form of a GitHub or GitLab URL, and never a credential."""

from __future__ import annotations

import pytest

from forensics.model.links import Forge, RemoteLinks, remote_links

SHA = "0123456789abcdef0123456789abcdef01234567"


HUB, LAB = "https://github.com/acme/shop", "https://gitlab.com/grp/sub/shop"


@pytest.mark.parametrize(
    ("url", "base", "forge"),
    [
        ("https://github.com/acme/shop.git", HUB, Forge.GITHUB),
        ("https://github.com/acme/shop", HUB, Forge.GITHUB),
        ("git@github.com:acme/shop.git", HUB, Forge.GITHUB),
        ("ssh://git@github.com/acme/shop.git", HUB, Forge.GITHUB),
        ("ssh://git@gitlab.com:2222/grp/sub/shop.git", LAB, Forge.GITLAB),
        ("https://oauth2:glpat-XYZ@gitlab.com/grp/sub/shop.git", LAB, Forge.GITLAB),
        ("https://x-access-token:ghs_abc@github.com/acme/shop.git", HUB, Forge.GITHUB),
        ("https://user:p%40ss@GitHub.com/acme/shop/", HUB, Forge.GITHUB),
    ],
)  # fmt: skip
def test_remote_forms(url: str, base: str, forge: Forge) -> None:
    links = remote_links(url)
    assert links == RemoteLinks(base, forge)
    for secret in ("glpat", "ghs_", "p%40ss", "oauth2", "x-access-token", "user", "git@"):
        assert secret not in links.base


@pytest.mark.parametrize(
    "url",
    [
        "",
        "/srv/git/shop.git",
        "file:///srv/git/shop.git",
        "https://bitbucket.org/acme/shop.git",
        "https://github.com/acme",
        "https://github.com/acme/<script>",
        "https://github.com/acme/shop) [x](javascript:alert(1)",
        "javascript:alert(1)//github.com/a/b",
    ],
)
def test_no_links_for_other_remotes(url: str) -> None:
    assert remote_links(url) is None


def test_urls_of_commits_files_and_trees() -> None:
    hub = RemoteLinks("https://github.com/acme/shop", Forge.GITHUB)
    lab = RemoteLinks("https://gitlab.com/grp/shop", Forge.GITLAB)
    assert hub.commit(SHA) == f"https://github.com/acme/shop/commit/{SHA}"
    assert lab.commit(SHA) == f"https://gitlab.com/grp/shop/-/commit/{SHA}"
    assert hub.tree(SHA) == f"https://github.com/acme/shop/tree/{SHA}"
    assert (
        lab.file(SHA, "a b/(x).py", 12)
        == f"https://gitlab.com/grp/shop/-/blob/{SHA}/a%20b/%28x%29.py#L12"
    )
    assert hub.commit("not-a-sha") is None and hub.file(SHA, "") is None


def test_a_forced_forge_for_a_self_hosted_base() -> None:
    links = remote_links("https://code.example.com/team/shop", Forge.GITHUB)
    assert links == RemoteLinks("https://code.example.com/team/shop", Forge.GITHUB)
