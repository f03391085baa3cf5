"""The demo scenario: a repository that replays the seed incident, with pinned dates.

``build_demo_repo(folder)`` writes ``folder/repo`` (a git repository with an Alembic chain,
a branch and merge revisions, and on 2025-11-16 a burst of edits to the applied migration
``774225e563ca``), ``folder/render-deploys.json`` (Render's list-deploys format: the live
deploy of the last good build, then one ``update_failed`` deploy per pushed commit) and
``folder/deploy-logs/<deploy id>.log``, the log of each failed deploy: what ``alembic upgrade
head`` prints for the graph as that commit left it (a file that does not parse, a file with
no revision id, several heads), or, where the graph was sound, the platform's failed health
check. Names, dates and ids are fixed, so every run builds the same commits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics import pipeline
from forensics.config import AnalyzeConfig
from forensics.errors import Diagnostics, ForensicsError, log
from forensics.gitbuild import RepoBuilder
from forensics.model.migrations import GraphEventKind
from forensics.model.report import Report
from forensics.output import write_reports
from forensics.render import parse_formats
from forensics.sources.git import GitSource

VERSIONS = "backend/alembic/versions"
APPLIED = "774225e563ca"
PRODUCTION = "91614ff3fbf6"
TARGET = f"{VERSIONS}/{APPLIED}_add_document_ai.py"
DUDLEY = ("Dudley", "dudley@qamarketing.co.uk")
PRIYA = ("Priya Shah", "priya@example.com")
SAM = ("Sam Okafor", "sam@example.com")
MARKUP = "<script>alert(1)</script> **bold** | pipe"


# Alembic's own generic template, so that `alembic revision` works in the demo repository.
SCRIPT_TEMPLATE = '''"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
'''


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class DemoScenario:
    """What the demo built, and the facts the tests check the analysis against."""

    root: Path
    repo: Path
    deploys_file: Path
    logs_dir: Path
    applied_revision: str
    production_revision: str
    migration_path: str
    applied_commit: str
    applied_deploy: str
    live_deploy: str
    live_commit: str
    burst_commits: tuple[str, ...]
    message_only_commit: str
    markup_commit: str
    syntax_error_commit: str
    rewire_commit: str
    head: str
    since: datetime
    until: datetime


# -- migration texts ------------------------------------------------------------------------
def _migration(
    revision: str | None,
    down: str | tuple[str, ...] | None,
    message: str,
    created: str,
    body: str,
    *,
    style: str = "classic",
) -> str:
    down_text = repr(down)
    rev_line = f"revision = {revision!r}\n" if revision else ""
    header = (
        f'"""{message}\n\nRevision ID: {revision or APPLIED}\n'
        f"Revises: {down if isinstance(down, str) else ', '.join(down or ())}\n"
        f'Create Date: {created}\n\n"""\n'
    )
    imports = "from alembic import op\nimport sqlalchemy as sa\n\n"
    if style == "black":
        imports = "import sqlalchemy as sa\nfrom alembic import op\n\n"
    meta = (
        "# revision identifiers, used by Alembic.\n"
        f"{rev_line}down_revision = {down_text}\nbranch_labels = None\ndepends_on = None\n\n\n"
    )
    text = header + imports + meta + body
    # What black and isort change: quote style and import order, nothing the AST sees.
    return text.replace("'", '"') if style == "black" else text


def _tables(*names: str) -> str:
    ups = "".join(
        f"    op.create_table(\n        {name!r},\n"
        "        sa.Column('id', sa.Integer(), primary_key=True),\n    )\n"
        for name in names
    )
    downs = "".join(f"    op.drop_table({name!r})\n" for name in reversed(names))
    return f"def upgrade():\n{ups}\n\ndef downgrade():\n{downs}"


_GUARDS = """def _table_exists(name):
    bind = op.get_bind()
    return sa.inspect(bind).has_table(name)


def _safe_create_table(name, *columns):
    if _table_exists(name):
        return
    op.create_table(name, *columns)


def upgrade():
    _safe_create_table(
        'document_ai_jobs',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('status', sa.String(32), nullable=False),
    )
    _safe_create_table(
        'document_ai_results',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('job_id', sa.Integer(), sa.ForeignKey('document_ai_jobs.id')),
    )


def downgrade():
    op.drop_table('document_ai_results')
    op.drop_table('document_ai_jobs')
"""


def _applied_body(variant: int) -> str:
    """The guarded migration body, edited a little differently by each commit of the burst."""
    body = _GUARDS
    if variant >= 1:
        body = body.replace(
            "    if _table_exists(name):\n        return\n",
            "    if _table_exists(name):\n        return None\n",
        )
    if variant >= 2:
        body = body.replace("sa.String(32)", "sa.String(64)")
    if variant >= 3:
        body = body.replace(
            "def _table_exists(name):\n    bind = op.get_bind()\n",
            "def _table_exists(name):\n    bind = op.get_bind()\n    # guard helper\n",
        )
        body = body.replace(
            "return sa.inspect(bind).has_table(name)",
            "inspector = sa.inspect(bind)\n    return inspector.has_table(name)",
        )
    if variant >= 4:
        body = body.replace(
            "    op.drop_table('document_ai_results')\n",
            "    if _table_exists('document_ai_results'):\n"
            "        op.drop_table('document_ai_results')\n",
        )
    if variant >= 5:
        body = body.replace("nullable=False", "nullable=False, server_default='queued'")
    return body


def _applied(down: str, variant: int, *, style: str = "classic", revision: bool = True) -> str:
    return _migration(
        APPLIED if revision else None,
        down,
        "Add document AI",
        "2025-11-13 10:40:12.000000",
        _applied_body(variant),
        style=style,
    )


# -- deploy logs ----------------------------------------------------------------------------
_LOG_START = (
    "==> Deploying...\n"
    "==> Running pre-deploy command 'cd backend && alembic upgrade head'\n"
    "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n"
    "INFO  [alembic.runtime.migration] Will assume transactional DDL.\n"
)
_SRC = "/opt/render/project/src"


def _deploy_log(repo: Path, sha: str) -> str:
    """What the deploy of ``sha`` printed: Alembic's own message for the first problem it
    meets in the graph (files are loaded before heads are counted), else a health check
    that never passed."""
    diag = Diagnostics()
    git = GitSource(repo, diag)
    try:
        _envs, states = pipeline.load_graphs(git, sha, (), diag)
    finally:
        git.close()
    problems = {p.kind: p for state in states for p in state.problems}
    broken = problems.get(GraphEventKind.PARSE_ERROR)
    if broken is not None and broken.path:
        error = broken.detail.rsplit("does not parse: ", 1)[-1]
        return (
            f"{_LOG_START}Traceback (most recent call last):\n"
            '  File "/opt/render/project/python/lib/python3.11/site-packages/alembic/util/'
            'pyfiles.py", line 132, in load_module_py\n'
            "    spec.loader.exec_module(module)  # type: ignore\n"
            f'  File "{_SRC}/{broken.path}", line {broken.line or 1}\n'
            f"SyntaxError: {error}\n==> Pre-deploy has failed\n"
        )
    unnamed = problems.get(GraphEventKind.MISSING_REVISION)
    if unnamed is not None and unnamed.path:
        return (
            f"{_LOG_START}FAILED: Could not determine revision id from filename "
            f"{unnamed.path.rsplit('/', 1)[-1]}. Be sure the 'revision' variable is declared "
            "inside the script (please see 'Upgrading from Alembic 0.1 to 0.2' in the "
            "documentation).\n==> Pre-deploy has failed\n"
        )
    if "multiple-heads" in problems:
        return (
            f"{_LOG_START}FAILED: Multiple head revisions are present for given argument "
            "'head'; please specify a specific target revision, '<branchname>@head' to "
            "narrow to a specific head, or 'heads' for all heads\n==> Pre-deploy has failed\n"
        )
    return (
        f"{_LOG_START}==> Starting service with 'uvicorn app.main:app --port 8000'\n"
        "INFO:     Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit)\n"
        "==> No open ports detected on 0.0.0.0, continuing to scan...\n"
        "==> Timed out: health checks failed for the new instance\n"
    )


# -- deploys --------------------------------------------------------------------------------
def _deploy_id(n: int) -> str:
    return "dep-d4" + hashlib.sha1(f"demo-deploy-{n}".encode()).hexdigest()[:18]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def _render_deploy(
    n: int, sha: str, message: str, committed: datetime, status: str
) -> dict[str, object]:
    created = committed + timedelta(seconds=40)
    finished = created + timedelta(minutes=3, seconds=10)
    return {
        "deploy": {
            "id": _deploy_id(n),
            "commit": {"id": sha, "message": message, "createdAt": _stamp(committed)},
            "status": status,
            "trigger": "new_commit",
            "createdAt": _stamp(created),
            "startedAt": _stamp(created + timedelta(seconds=5)),
            "updatedAt": _stamp(finished),
            "finishedAt": _stamp(finished),
        },
        "cursor": f"cursor-{n:03d}",
    }


# -- the scenario ---------------------------------------------------------------------------
def build_demo_repo(folder: Path) -> DemoScenario:
    """Build the demo repository and its deploy file under ``folder`` (created if needed)."""
    repo_path = folder / "repo"
    b = RepoBuilder(repo_path)
    pushes: list[tuple[str, str, datetime]] = []

    def commit(
        message: str, when: str, who: tuple[str, str], files: Mapping[str, str], push: bool = True
    ) -> str:
        sha = b.commit(message, at(when), author=who[0], email=who[1], files=dict(files))
        if push:
            pushes.append((sha, message, at(when)))
        return sha

    v = VERSIONS
    commit(
        "feat: backend with Alembic and document generation tables",
        "2025-11-12T09:10:00",
        PRIYA,
        {
            "backend/alembic.ini": "[alembic]\nscript_location = %(here)s/alembic\n"
            "sqlalchemy.url = postgresql://localhost/app\n",
            "backend/alembic/env.py": "from alembic import context\n\n# Runs migrations online.\n",
            "backend/alembic/script.py.mako": SCRIPT_TEMPLATE,
            "backend/app/__init__.py": "",
            "backend/app/main.py": "def health():\n    return {'status': 'healthy'}\n",
            "README.md": "# ma-saas backend\n",
            f"{v}/b354d12d1e7d_document_generation_tables.py": _migration(
                "b354d12d1e7d",
                None,
                "Document generation tables",
                "2025-11-12 09:00:00",
                _tables("documents", "document_templates"),
            ),
        },
    )
    commit(
        "feat: create enums and module tables",
        "2025-11-12T15:20:00",
        PRIYA,
        {
            f"{v}/65e4b4ef883d_create_enums_and_tables.py": _migration(
                "65e4b4ef883d",
                "b354d12d1e7d",
                "Create enums + 13 tables",
                "2025-11-12 15:00:00",
                _tables("deals", "contacts", "companies"),
            )
        },
    )
    applied_commit = commit(
        "feat: add document AI tables with guarded creation",
        "2025-11-13T10:45:00",
        SAM,
        {TARGET: _applied("65e4b4ef883d", 0)},
    )
    commit(
        "feat: community tables",
        "2025-11-13T16:05:00",
        PRIYA,
        {
            f"{v}/d47310025be2_community_tables.py": _migration(
                "d47310025be2",
                APPLIED,
                "Community tables",
                "2025-11-13 16:00:00",
                _tables("communities", "community_members"),
            )
        },
    )
    # A branch with its own revision, merged in git; the two Alembic heads are then joined
    # by a merge revision in the next commit (both pushed together, one deploy).
    b.checkout("events", create=True)
    commit(
        "feat: event tables",
        "2025-11-14T10:00:00",
        SAM,
        {
            f"{v}/0a1b2c3d4e5f_event_tables.py": _migration(
                "0a1b2c3d4e5f",
                "d47310025be2",
                "Event tables",
                "2025-11-14 09:55:00",
                _tables("events", "event_attendees"),
            )
        },
        push=False,
    )
    b.checkout("main")
    commit(
        "feat: marketing tables",
        "2025-11-14T11:00:00",
        PRIYA,
        {
            f"{v}/5f4e3d2c1b0a_marketing_tables.py": _migration(
                "5f4e3d2c1b0a",
                "d47310025be2",
                "Marketing tables",
                "2025-11-14 10:50:00",
                _tables("campaigns"),
            )
        },
    )
    b.merge("events", "Merge branch 'events'", at("2025-11-14T14:00:00"), author=PRIYA[0])
    commit(
        "fix(alembic): merge event and marketing heads",
        "2025-11-14T14:05:00",
        PRIYA,
        {
            f"{v}/7c8d9e0f1a2b_merge_event_and_marketing_heads.py": _migration(
                "7c8d9e0f1a2b",
                ("0a1b2c3d4e5f", "5f4e3d2c1b0a"),
                "merge heads",
                "2025-11-14 14:04:00",
                "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
            )
        },
    )
    live_commit = commit(
        "feat: notification tables",
        "2025-11-15T09:30:00",
        SAM,
        {
            f"{v}/{PRODUCTION}_notification_tables.py": _migration(
                PRODUCTION,
                "7c8d9e0f1a2b",
                "Notification tables",
                "2025-11-15 09:25:00",
                _tables("notifications"),
            )
        },
    )
    good = len(pushes)

    # 2025-11-16: the burst. Every commit touches the applied migration's file, except the
    # message-only one, which names the migration but changes scripts only.
    d = DUDLEY
    burst = []
    edits: list[tuple[str, str, str]] = [
        (
            "fix(migration): clean up duplicate revision identifiers in 774225e563ca",
            "15:02:10",
            _applied("65e4b4ef883d", 1),
        ),
        (
            "style: black formatting for 774225e563ca",
            "15:04:05",
            _applied("65e4b4ef883d", 1, style="black"),
        ),
        (
            "fix: cleanup alembic guard helpers for 774225e563ca",
            "15:05:40",
            _applied("65e4b4ef883d", 2),
        ),
        (
            "fix: finalize alembic guard helpers for 774225e563ca",
            "15:07:15",
            _applied("b354d12d1e7d", 2),
        ),
        (
            "fix: rewrite alembic guard helpers for 774225e563ca",
            "15:08:50",
            _applied("b354d12d1e7d", 3).replace(
                "def _safe_create_table(name, *columns):", "def _safe_create_table(name, *columns)"
            ),
        ),
        (
            "fix: rewrite alembic guard helpers for 774225e563ca",
            "15:10:20",
            _applied("b354d12d1e7d", 3),
        ),
        (
            "fix: finalize alembic guard helpers for 774225e563ca (restore down_revision)",
            "15:11:55",
            _applied("65e4b4ef883d", 3),
        ),
    ]
    for message, when, text in edits:
        burst.append(commit(message, f"2025-11-16T{when}", d, {TARGET: text}))
    message_only = commit(
        "chore: add Render deployment utilities and update migration formatting",
        "2025-11-16T15:13:30",
        d,
        {
            "scripts/check_db_state.py": "print('check alembic_version for 774225e563ca')\n",
            "scripts/monitor_deploy.py": "print('poll the Render deploy status')\n",
            "scripts/trigger_deploy.py": "print('trigger a Render deploy')\n",
        },
    )
    burst.append(
        commit(
            "fix: tidy alembic guard helpers for 774225e563ca",
            "2025-11-16T15:15:05",
            d,
            {TARGET: _applied("65e4b4ef883d", 4, revision=False)},
        )
    )
    burst.append(
        commit(
            "fix: restore revision metadata for 774225e563ca",
            "2025-11-16T15:16:40",
            d,
            {TARGET: _applied("65e4b4ef883d", 4)},
        )
    )
    markup = commit(
        f"fix: rewrite {MARKUP} guard helpers for 774225e563ca",
        "2025-11-16T15:18:20",
        d,
        {TARGET: _applied("65e4b4ef883d", 5)},
    )
    burst.append(markup)
    burst.append(
        commit(
            "fix(alembic): refactor migration 774225e563ca guard helpers",
            "2025-11-16T15:21:30",
            d,
            {
                TARGET: _applied("65e4b4ef883d", 5).replace(
                    "# guard helper", "# guard helper (idempotent)"
                )
            },
        )
    )
    # Two developers add revisions on production's head at the same time: a second head,
    # joined by a merge revision about forty minutes later.
    commit(
        "feat: billing tables",
        "2025-11-16T15:24:00",
        PRIYA,
        {
            f"{v}/aae3309a2a8b_billing_tables.py": _migration(
                "aae3309a2a8b",
                PRODUCTION,
                "Billing tables",
                "2025-11-16 15:20:00",
                _tables("invoices"),
            )
        },
    )
    commit(
        "feat: audit log table",
        "2025-11-16T15:27:00",
        SAM,
        {
            f"{v}/3c4d5e6f7a8b_audit_log_table.py": _migration(
                "3c4d5e6f7a8b",
                PRODUCTION,
                "Audit log table",
                "2025-11-16 15:25:00",
                _tables("audit_log"),
            )
        },
    )
    head = commit(
        "fix(alembic): merge billing and audit heads",
        "2025-11-16T16:07:00",
        PRIYA,
        {
            f"{v}/9a90b381abd5_merge_billing_and_audit_heads.py": _migration(
                "9a90b381abd5",
                ("aae3309a2a8b", "3c4d5e6f7a8b"),
                "merge billing and audit heads",
                "2025-11-16 16:05:00",
                "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
            )
        },
    )

    deploys = []
    for n, (sha, message, moment) in enumerate(pushes, 1):
        if n < good:
            status = "deactivated"
        elif n == good:
            status = "live"
        else:
            status = "update_failed"
        deploys.append(_render_deploy(n, sha, message, moment, status))
    deploys.reverse()  # the API lists the newest first
    deploys_file = folder / "render-deploys.json"
    deploys_file.write_text(json.dumps(deploys, indent=2) + "\n", encoding="utf-8")
    logs_dir = folder / "deploy-logs"
    logs_dir.mkdir(exist_ok=True)
    for n, (sha, _message, _moment) in enumerate(pushes, 1):
        if n > good:
            log_text = _deploy_log(repo_path, sha)
            (logs_dir / f"{_deploy_id(n)}.log").write_text(log_text, encoding="utf-8")
    applied_index = next(i for i, p in enumerate(pushes, 1) if p[0] == applied_commit)
    return DemoScenario(
        root=folder,
        repo=repo_path,
        deploys_file=deploys_file,
        logs_dir=logs_dir,
        applied_revision=APPLIED,
        production_revision=PRODUCTION,
        migration_path=TARGET,
        applied_commit=applied_commit,
        applied_deploy=_deploy_id(applied_index),
        live_deploy=_deploy_id(good),
        live_commit=live_commit,
        burst_commits=tuple(burst),
        message_only_commit=message_only,
        markup_commit=markup,
        syntax_error_commit=burst[4],
        rewire_commit=burst[3],
        head=head,
        since=at("2025-11-13T00:00:00"),
        until=at("2025-11-16T17:25:00"),
    )


# -- the demo command -----------------------------------------------------------------------
DEMO_FORMATS = ("md", "html", "json", "sarif", "summary")


def demo_config(scenario: DemoScenario) -> AnalyzeConfig:
    """The analysis the seed's author would have run: the window of the incident, the Render
    deploy log and production's revision, with the report time pinned to the seed's."""
    return AnalyzeConfig(
        repo=scenario.repo,
        now=scenario.until,
        since=scenario.since,
        until=scenario.until,
        deploys=(f"render:{scenario.deploys_file}",),
        deploy_logs=(f"dir:{scenario.logs_dir}",),
        prod_revisions=(scenario.production_revision,),
        use_cache=False,
    )


def demo_report(scenario: DemoScenario) -> Report:
    """The demo's report. The repository lives in a temporary folder, so the report names it
    by a fixed label: the output is the same on every machine."""
    report = pipeline.run(demo_config(scenario))
    label = "demo-repo"
    return dataclasses.replace(
        report,
        repo_path=label,
        warnings=tuple(w.replace(str(scenario.root), label) for w in report.warnings),
    )


def run_demo(out: Path) -> tuple[list[Path], Report]:
    """Build the scenario in a temporary folder, analyse it, and write ``out/incident.*``:
    the files written, and the report."""
    root = Path(tempfile.mkdtemp(prefix="forensics-demo-"))
    scenario = build_demo_repo(root)
    log.info("demo repository: %s", scenario.repo)
    report = demo_report(scenario)
    written, failed = write_reports(report, parse_formats(",".join(DEMO_FORMATS)), out, "incident")
    if failed is not None:
        raise ForensicsError(failed)
    return written, report
