"""The ``--deploys`` dispatcher: picks the source by prefix, then applies the shared rules.

Shared rules: times are UTC (the readers convert them); a record seen twice (same id) keeps
its most final state; short commit ids are expanded through git; a deploy whose commit is
not in the repository is kept with ``commit_known=False`` and one warning; the result is
sorted by creation time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from forensics.config import to_utc
from forensics.errors import Diagnostics, UsageError
from forensics.model.deploys import Deploy
from forensics.sources import github, github_actions, render_com, tabular, tags
from forensics.sources.git import GitSource
from forensics.sources.records import finality

_HEX = re.compile(r"^[0-9a-fA-F]{4,40}$")

Reader = Callable[[str, GitSource, str, Diagnostics], list[Deploy]]

READERS: dict[str, Reader] = {
    "render": lambda arg, _git, _rev, diag: render_com.read_file(arg, diag),
    "render-api": lambda arg, _git, _rev, diag: render_com.fetch(arg, diag),
    "github": lambda arg, _git, _rev, diag: github.read_file(arg, diag),
    "github-api": lambda arg, _git, _rev, diag: github.fetch(arg, diag),
    "github-actions": lambda arg, _git, _rev, diag: (
        github_actions.read_file(arg, diag)
        if github_actions.is_file(arg)
        else github_actions.fetch(arg, diag)
    ),
    "csv": lambda arg, _git, _rev, diag: tabular.read_csv(arg, diag),
    "jsonl": lambda arg, _git, _rev, diag: tabular.read_jsonl(arg, diag),
    "tags": lambda arg, git, rev, _diag: tags.load(arg, git, rev),
}


def read_spec(spec: str, git: GitSource, rev: str, diag: Diagnostics) -> list[Deploy]:
    """The deploys of one ``--deploys PREFIX:ARGUMENT``, as its source gives them."""
    prefix, colon, argument = spec.partition(":")
    reader = READERS.get(prefix.strip().lower())
    if not colon or reader is None:
        raise UsageError(
            f"--deploys {spec!r} has no known source prefix: use one of "
            f"{', '.join(p + ':' for p in READERS)} (for example render:deploys.json)"
        )
    return reader(argument, git, rev, diag)


def merge_duplicates(deploys: Sequence[Deploy]) -> list[Deploy]:
    """One deploy per id: the most final state wins (``live`` over ``update_in_progress``,
    ``deactivated`` over ``live``); among equals, the one that finished last."""
    best: dict[str, Deploy] = {}
    for deploy in deploys:
        seen = best.get(deploy.id)
        if seen is None or finality(deploy) > finality(seen):
            best[deploy.id] = deploy
    return list(best.values())


def expand_commits(deploys: Sequence[Deploy], git: GitSource, diag: Diagnostics) -> list[Deploy]:
    """Full SHAs for the commits the repository knows; the others are kept and flagged."""
    # Only hex ids: a provider's "main" or "HEAD" must not resolve to today's branch.
    refs = [d.commit_ref or d.commit for d in deploys]
    resolved = git.resolve_many(r for r in refs if r and _HEX.match(r))
    out: list[Deploy] = []
    for deploy, ref in zip(deploys, refs, strict=True):
        if ref is None:
            out.append(replace(deploy, commit=None, commit_known=False))
            continue
        full = resolved.get(ref)
        out.append(replace(deploy, commit=full, commit_ref=ref, commit_known=full is not None))
    unknown = sorted({d.commit_ref for d in out if not d.commit_known and d.commit_ref})
    if unknown:
        listed = ", ".join(r[:12] for r in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        diag.warn(
            f"{len(unknown)} deployed commit(s) are not in this repository ({listed}); their "
            "deploys are kept and flagged. Was history rewritten, or is --repo another "
            "repository? Run `git fetch` if they may just be missing locally"
        )
    return out


def load_deploys(specs: Sequence[str], git: GitSource, rev: str, diag: Diagnostics) -> list[Deploy]:
    """Every deploy of every ``--deploys`` source, deduplicated, ordered by creation time."""
    gathered: list[Deploy] = []
    for spec in specs:
        gathered += read_spec(spec, git, rev, diag)
    normalised = [
        replace(
            d,
            created_at=to_utc(d.created_at),
            finished_at=to_utc(d.finished_at) if d.finished_at else None,
        )
        for d in gathered
    ]
    merged = expand_commits(merge_duplicates(normalised), git, diag)
    return sorted(merged, key=lambda d: (d.created_at, d.id))
