"""The seed incident's shape in a real repository, and a small wiring of the stages the rules
need (sources -> analysis -> Context), for the applied and deploy rule tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics.config import AnalyzeConfig
from forensics.detectors import applied_rules, deploy_rules
from forensics.detectors.base import Context
from forensics.errors import Diagnostics
from forensics.gitbuild import RepoBuilder
from forensics.model.findings import Finding
from forensics.pipeline import load, prepare
from forensics.sources.git import GitSource
from tests.conftest import migration

VERSIONS = "backend/alembic/versions"
M = "774225e563ca"
M_PATH = f"{VERSIONS}/{M}_add_deals.py"
BASE, NEXT = "1a2b3c4d5e6f", "91614ff3fbf6"
CREATE_DEALS = "    op.create_table('deals', sa.Column('id', sa.Integer()))"
T0 = datetime(2025, 11, 16, 8, 0, tzinfo=UTC)
NOW = datetime(2025, 11, 16, 17, 25, tzinfo=UTC)


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
    deploy_logs: tuple[str, ...] = (),
) -> tuple[Context, list[Finding]]:
    """The pipeline's own preparation, and the applied and deploy rules over it."""
    cfg = AnalyzeConfig(
        repo=path,
        now=NOW,
        rev=rev,
        deploys=tuple(specs),
        deploy_logs=deploy_logs,
        prod_revisions=prod_revisions,
        db_url=db_url,
        use_cache=False,
    )
    diag = Diagnostics()
    git = GitSource(path, diag)
    try:
        ctx = prepare(cfg, git, load(cfg, git, diag), diag)
    finally:
        git.close()
    return ctx, [*applied_rules.detect(ctx), *deploy_rules.detect(ctx)]


def by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]
