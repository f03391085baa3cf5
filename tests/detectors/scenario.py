"""The seed incident's shape in a real repository, and a small wiring of the stages the rules
need (sources -> analysis -> Context), for the applied and deploy rule tests."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics.analysis.applied import (
    application_points,
    applied_set,
    heads_of,
    point_as_of,
    production_revisions,
    tables_expected,
)
from forensics.analysis.windows import candidate_range, failure_windows, rank_suspects
from forensics.detectors import applied_rules, deploy_rules
from forensics.detectors.base import Context
from forensics.errors import Diagnostics
from forensics.gitbuild import RepoBuilder
from forensics.model.findings import Finding
from forensics.model.migrations import ChangeKind
from forensics.pipeline import load_graphs, load_history
from forensics.sources.database import probe
from forensics.sources.deploys import load_deploys
from forensics.sources.git import GitSource
from tests.conftest import migration

VERSIONS = "backend/alembic/versions"
M = "774225e563ca"
M_PATH = f"{VERSIONS}/{M}_add_deals.py"
BASE, NEXT = "1a2b3c4d5e6f", "91614ff3fbf6"
CREATE_DEALS = "    op.create_table('deals', sa.Column('id', sa.Integer()))"
T0 = datetime(2025, 11, 16, 8, 0, tzinfo=UTC)


def m_text(step: str, down: str = BASE) -> str:
    return migration(M, down, message="add deals", body=f"{CREATE_DEALS}\n    op.execute('{step}')")


@dataclass
class Seed:
    repo: RepoBuilder
    deploys_file: Path
    live: str = ""  # deploy D's commit
    edits: list[str] = field(default_factory=list)  # the 10 commits that touched M
    message_only: str = ""
    rewire: str = ""
    restore: str = ""
    syntax_error: str = ""


def build_seed(repo: RepoBuilder, folder: Path) -> Seed:
    """M is applied by live deploy D; then 10 commits within 20 minutes edit M (one rewires it,
    a later one restores it, one leaves a syntax error the next one fixes); a commit in the
    middle claims to update M but touches other files; every deploy after D fails."""
    seed = Seed(repo, folder / "deploys.json")
    repo.commit(
        "initial schema",
        T0,
        files={
            "backend/alembic/env.py": "from alembic import context\n",
            f"{VERSIONS}/{BASE}_users.py": migration(
                BASE,
                None,
                message="users",
                body="    op.create_table('users', sa.Column('id', sa.Integer()))",
            ),
            M_PATH: migration(M, BASE, message="add deals", body=CREATE_DEALS),
        },
    )
    seed.live = repo.commit(
        "add orders",
        T0 + timedelta(minutes=30),
        files={
            f"{VERSIONS}/{NEXT}_orders.py": migration(
                NEXT,
                M,
                message="orders",
                body="    op.create_table('orders', sa.Column('id', sa.Integer()))",
            ),
        },
    )
    deploys = [_render("dep-D", "live", seed.live, T0 + timedelta(minutes=35))]
    at = T0 + timedelta(hours=2)
    broken_syntax = m_text("SELECT 6").replace("op.execute('SELECT 6')", "op.execute('SELECT 6'")
    steps: list[tuple[str, str, str | None]] = [
        ("fix: cleanup alembic guard helpers for 774225e563ca", m_text("SELECT 1"), None),
        ("fix: finalize alembic guard helpers for 774225e563ca", m_text("SELECT 2"), None),
        ("fix: rewrite revision chain", m_text("SELECT 2", down="aaaa00000000"), "rewire"),
        ("fix: rewrite alembic guard helpers", m_text("SELECT 4", down="aaaa00000000"), None),
        ("fix: restore revision metadata for 774225e563ca", m_text("SELECT 4"), "restore"),
        ("chore: update migration 774225e563ca formatting", "", "message_only"),
        ("fix: guard helpers", broken_syntax, "syntax_error"),
        ("fix: syntax", m_text("SELECT 7"), None),
        ("style: black", m_text("SELECT 7").replace("'", '"'), None),
        ("fix(alembic): refactor guard helpers", m_text("SELECT 9"), None),
        ("fix(alembic): refactor migration 774225e563ca guard helpers", m_text("SELECT 10"), None),
    ]
    for number, (message, text, role) in enumerate(steps):
        files = (
            {"render.yaml": f"services: {number}\n"} if role == "message_only" else {M_PATH: text}
        )
        sha = repo.commit(message, at, files=files)
        if role != "message_only":
            seed.edits.append(sha)
        if role:
            setattr(seed, role, sha)
        deploys.append(
            _render(f"dep-{number:02d}", "update_failed", sha, at + timedelta(seconds=30))
        )
        at += timedelta(minutes=2)
    seed.deploys_file.write_text(json.dumps(deploys))
    return seed


def _render(ident: str, status: str, sha: str, at: datetime) -> dict[str, object]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "deploy": {
            "id": ident,
            "status": status,
            "commit": {"id": sha[:7]},
            "createdAt": stamp,
            "finishedAt": stamp,
            "trigger": "new_commit",
        },
        "cursor": ident,
    }


def analyse(
    path: Path,
    specs: list[str],
    *,
    rev: str = "HEAD",
    prod_revisions: tuple[str, ...] = (),
    db_url: str | None = None,
) -> tuple[Context, list[Finding]]:
    """The stages the applied and deploy rules need, wired as the pipeline does."""
    diag = Diagnostics()
    git = GitSource(path, diag)
    sha = git.resolve(rev)
    envs, states = load_graphs(git, sha, (), diag)
    history = load_history(git, sha, envs, diag)
    deploys = load_deploys(specs, git, sha, diag)
    commits = {c.sha: c for c in git.log(sha, first_parent=False)}

    def commit_time(commit: str) -> datetime | None:
        record = commits.get(commit)
        return record.committed_at if record else None

    def exists(commit: str, file: str) -> str | None:
        entries = git.tree(commit, [file])
        return entries[0].blob if entries else None

    db = probe(db_url) if db_url else None
    production = production_revisions(
        lambda c: heads_of(point_as_of(history, c, commit_time(c))),
        database=db.revisions if db else None,
        database_url=db.url_redacted if db else None,
        flags=prod_revisions,
        deploys=deploys,
    )
    removed = [c.before for c in history.changes if c.kind is ChangeKind.DELETED and c.before]
    applied = applied_set(states, production.revisions, removed)
    points = application_points(states, applied, deploys, exists, commit_time)
    production = dataclasses.replace(
        production,
        applied=tuple(sorted(applied)),
        tables_expected=tables_expected(states, applied) if db else None,
        tables_present=db.tables if db else None,
    )
    windows = []
    for window in failure_windows(deploys):
        tip, exclude = candidate_range(window, deploys)
        candidates = git.log(tip, exclude=exclude) if tip else []
        windows.append(
            dataclasses.replace(window, suspects=rank_suspects(window, candidates, history, points))
        )
    git.close()
    now = datetime(2025, 11, 16, 17, 25, tzinfo=UTC)
    ctx = Context(
        rev=sha,
        now=now,
        until=now,
        states=tuple(states),
        history=history,
        commits=commits,
        deploys=tuple(deploys),
        failure_windows=tuple(windows),
        production=production,
        applied=points,
        deploy_evidence=bool(deploys),
    )
    return ctx, [*applied_rules.detect(ctx), *deploy_rules.detect(ctx)]


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]
