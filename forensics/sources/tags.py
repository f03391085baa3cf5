"""Release tags as deploys (``tags:PATTERN``), for projects where a release is what gets
applied: every tag reachable from ``--rev`` whose name matches the glob is a live deploy of
its commit, at the tag's creation time (tagger date, or commit date for a lightweight tag).
"""

from __future__ import annotations

from forensics.errors import InputError
from forensics.model.deploys import Deploy, DeployCategory
from forensics.sources.git import GitSource

PREFIX = "tags:"


def load(pattern: str, git: GitSource, rev: str) -> list[Deploy]:
    pattern = pattern.strip()
    if not pattern:
        raise InputError("--deploys tags: needs a tag pattern, as in tags:'v*'")
    found = git.tags(pattern, rev)
    if not found:
        raise InputError(
            f"no tag matching {pattern!r} is reachable from {rev}: check the pattern (a glob "
            "such as 'v*' or 'release-*'; `git tag --list` shows the tags) and --rev"
        )
    return [
        Deploy(
            id=f"tag:{tag.name}",
            status="tag",
            category=DeployCategory.LIVE,
            created_at=tag.at,
            source=f"{PREFIX}{pattern}",
            commit=tag.commit,
            commit_ref=tag.commit,
            message=tag.name,
            trigger="annotated tag" if tag.annotated else "tag",
        )
        for tag in found
    ]
