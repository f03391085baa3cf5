"""The load stage: the sources read once into ``Loaded`` (the migration graphs at the
revision and over history, the commits of the window, the deploys, production's database
and health endpoint). Also owns ``Progress``, the callback every stage reports to, and
``TIMELINE_LIMIT``, the window's size."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from forensics.config import AnalyzeConfig
from forensics.errors import Diagnostics
from forensics.model.commits import CommitRecord
from forensics.model.deploys import Deploy
from forensics.model.migrations import Environment, GraphHistory, GraphState
from forensics.model.report import HealthCheck
from forensics.pipeline.cached import cached_graphs, cached_history
from forensics.pipeline.graphs import env_py, history_environments
from forensics.sources.deploys import load_deploys
from forensics.sources.git import GitSource
from forensics.sources.health import check

if TYPE_CHECKING:
    from forensics.sources.database import DatabaseState


Progress = Callable[[str], None]

# Above this many commits in the window, the report lists only the commits that matter to
# migrations, deploys and findings: a timeline of thousands of rows helps nobody.
TIMELINE_LIMIT = 500


def _probe(db_url: str) -> DatabaseState:
    # SQLAlchemy is imported only when a database is given: it costs a fifth of a second.
    from forensics.sources.database import probe

    return probe(db_url)


def silent(_message: str) -> None:
    """The progress of a run that shows none."""
    return None


@dataclass(frozen=True)
class Loaded:
    """What the sources said, read once: the graphs at the revision and over history, the
    commits that matter, the deploys, production's database and health endpoint.
    ``commits`` grows while suspects are ranked (the commits of each failure window)."""

    sha: str
    until: datetime
    states: tuple[GraphState, ...]
    history: GraphHistory
    window: tuple[CommitRecord, ...]
    commits: dict[str, CommitRecord]
    deploys: tuple[Deploy, ...]
    database: DatabaseState | None
    health: HealthCheck | None

    def commit_time(self, commit: str) -> datetime | None:
        record = self.commits.get(commit)
        return record.committed_at if record else None


def load(
    cfg: AnalyzeConfig, git: GitSource, diag: Diagnostics, progress: Progress = silent
) -> Loaded:
    """Sources: the migration graphs, the commits, the deploys, the database and the
    health endpoint."""
    sha = git.resolve(cfg.rev)
    git.warn_if_shallow()
    until = cfg.until or cfg.now
    progress("reading the migration graph")
    envs, states, touching = _read_graphs(cfg, git, sha, diag)
    progress("walking the migration graph over history")
    history = cached_history(git, sha, envs, diag, states)
    progress("mining the commits of the window")
    window = _window(cfg, git, sha, until)
    commits = {c.sha: c for future in touching for c in future.result()}
    commits.update((c.sha, c) for c in window)
    progress("reading deploys")
    deploys = load_deploys(cfg.deploys, git, sha, diag) if cfg.deploys else []
    # --until is "now" for the analysis: later deploys had not happened yet.
    deploys = [d for d in deploys if d.created_at <= until]
    missing = {d.commit for d in deploys if d.commit and d.commit not in commits} | {sha}
    commits.update((c.sha, c) for c in git.records(missing - commits.keys()))
    return Loaded(
        sha=sha,
        until=until,
        states=tuple(states),
        history=history,
        window=tuple(window),
        commits=commits,
        deploys=tuple(deploys),
        database=_probe(cfg.db_url) if cfg.db_url else None,
        health=check(cfg.health_url) if cfg.health_url else None,
    )


def _read_graphs(
    cfg: AnalyzeConfig, git: GitSource, sha: str, diag: Diagnostics
) -> tuple[list[Environment], list[GraphState], list[Future[list[CommitRecord]]]]:
    """The graphs at ``sha``, and git already reading every commit that touched a versions
    folder, branch commits included (bursts and attribution need them): the questions the
    graph history asks too, read while the graph is built and answered once."""

    def walk_early(envs: Sequence[Environment]) -> None:
        # Most histories never moved their versions folders: git walks today's folders
        # (and the whole commit graph) while the files are parsed and the eras worked out;
        # the same questions asked below are answered by these walks.
        today = sorted({d for env in envs for d in env.versions_dirs})
        git.in_background(git.log, sha, paths=today, first_parent=True)
        git.in_background(git.branch_commits, sha, today)
        for env in envs:  # the renames of each env.py, which give the eras
            git.in_background(git.log, sha, paths=[env_py(env)], first_parent=True, follow=True)

    envs, states = cached_graphs(git, sha, cfg.migrations, diag, walk_early)
    dirs = sorted({d for env in history_environments(git, sha, envs) for d in env.versions_dirs})
    touching = [
        git.in_background(git.log, sha, paths=dirs, first_parent=True),
        git.in_background(git.branch_commits, sha, dirs),
    ]
    return envs, states, touching


def _window(cfg: AnalyzeConfig, git: GitSource, sha: str, until: datetime) -> list[CommitRecord]:
    """The commits of the window, newest first."""
    # Without --until the window ends now: asking git for no end (and dropping commits dated
    # in the future here) keeps the query, and so its cache entry, the same from run to run.
    window = git.log(
        sha,
        since=cfg.since,
        until=cfg.until,
        first_parent=not cfg.all_commits,
        max_count=TIMELINE_LIMIT + 1,
    )
    return [c for c in window if c.committed_at <= until]
