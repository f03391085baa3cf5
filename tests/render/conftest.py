"""A hand-built, seed-like ``Report`` for the renderer tests.

It mirrors the incident of ``shared/seeds/000_f242b155ec7eda9b.txt``: an applied migration
edited by a burst of commits, every auto-deploy failing, production still on the last good
build. One commit message carries ``<script>`` and Markdown markup, one author name a pipe.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from forensics.analysis.incidents import build_incidents
from forensics.model.commits import ChangeStatus, CommitRecord, FileChange, Person
from forensics.model.deploys import Deploy, DeployCategory, FailureWindow, Suspect
from forensics.model.findings import ChangeRef, Confidence, Finding, Severity
from forensics.model.migrations import ChangeKind, GraphEvent, MigrationChange
from forensics.model.report import (
    AuditDiff,
    Burst,
    ChainNode,
    EnvironmentSummary,
    HealthCheck,
    Production,
    Remediation,
    RemediationKind,
    Report,
    RuleInfo,
)

SCRIPT = "<script>document.title='pwned';alert(1)</script>"
MARKUP_MESSAGE = f"fix: rewrite {SCRIPT} guard helpers **bold** | pipe `tick` for 774225e563ca"
VERSIONS = "backend/alembic/versions"
TARGET = f"{VERSIONS}/774225e563ca_add_document_ai.py"
BASE = datetime(2025, 11, 16, 15, 0, tzinfo=UTC)


def sha(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()


DUDLEY = Person("Dudley", "dudley@qamarketing.co.uk")
PRIYA = Person("Priya | Ops", "priya@example.com")

# (name, minutes after BASE, message, kind of change to TARGET or None, other paths)
BURST: tuple[tuple[str, int, str, str | None, tuple[str, ...]], ...] = (
    (
        "b1",
        2,
        "fix(migration): clean up duplicate revision identifiers in 774225e563ca",
        "code",
        (),
    ),
    ("b2", 4, "style: black formatting for 774225e563ca", "cosmetic", ()),
    ("b3", 6, "fix: cleanup alembic guard helpers for 774225e563ca", "code", ()),
    ("b4", 8, "fix: finalize alembic guard helpers for 774225e563ca", "metadata", ()),
    ("b5", 10, "fix: rewrite alembic guard helpers for 774225e563ca", "parse-error", ()),
    ("b6", 11, MARKUP_MESSAGE, "code", ()),
    (
        "m1",
        14,
        "chore: add Render deployment utilities and update migration formatting",
        None,
        ("scripts/check_db_state.py", "scripts/monitor_deploy.py"),
    ),
    ("b7", 16, "fix: restore revision metadata for 774225e563ca", "metadata", ("README.md",)),
    ("b8", 20, "fix(alembic): refactor migration 774225e563ca guard helpers", "code", ()),
)


def _commit(
    name: str, at: datetime, message: str, paths: tuple[str, ...], who: Person
) -> CommitRecord:
    return CommitRecord(
        sha=sha(name),
        parents=(sha(f"parent-{name}"),),
        author=who,
        committer=who,
        authored_at=at,
        committed_at=at,
        message=message + "\n\nbody line",
        files=tuple(FileChange(p, ChangeStatus.MODIFIED) for p in paths),
    )


def seed_report(*, audit: bool = False) -> Report:
    live_commit = _commit(
        "live",
        BASE - timedelta(hours=20),
        "feat: add notification tables",
        (f"{VERSIONS}/91614ff3fbf6_notifications.py",),
        PRIYA,
    )
    commits = [live_commit]
    changes = []
    for name, minutes, message, kind, others in BURST:
        at = BASE + timedelta(minutes=minutes)
        paths = ((TARGET,) if kind else ()) + others
        commits.append(_commit(name, at, message, paths, DUDLEY))
        if kind:
            changes.append(
                MigrationChange(
                    commit=sha(name),
                    at=at,
                    path=TARGET,
                    kind=ChangeKind(kind),
                    revision="774225e563ca",
                    authors=(sha(name),),
                    environment="backend/alembic",
                )
            )
    burst_shas = tuple(sha(n) for n, _, _, kind, _ in BURST if kind)
    start, end = BASE + timedelta(minutes=2), BASE + timedelta(minutes=20)

    deploys = [
        Deploy(
            "dep-applied",
            "deactivated",
            DeployCategory.SUPERSEDED,
            BASE - timedelta(days=2),
            "render:deploys.json",
            commit=sha("applied"),
        ),
        Deploy(
            "dep-live",
            "live",
            DeployCategory.LIVE,
            BASE - timedelta(hours=20) + timedelta(minutes=1),
            "render:deploys.json",
            commit=live_commit.sha,
            message="feat: add notification tables",
        ),
    ]
    for name, minutes, message, _kind, _ in BURST:
        deploys.append(
            Deploy(
                f"dep-{name}",
                "update_failed",
                DeployCategory.FAILED,
                BASE + timedelta(minutes=minutes, seconds=30),
                "render:deploys.json",
                commit=sha(name),
                finished_at=BASE + timedelta(minutes=minutes + 3),
                message=message,
            )
        )
    failed_ids = tuple(d.id for d in deploys if d.category is DeployCategory.FAILED)
    window = FailureWindow(
        start=deploys[2].created_at,
        end=deploys[-1].finished_at or deploys[-1].created_at,
        count=len(failed_ids),
        first_failed=failed_ids[0],
        last_failed=failed_ids[-1],
        last_live_before="dep-live",
        recovered_by=None,
        deploys=failed_ids,
        suspects=(
            Suspect(sha("b5"), 1.0, ("left the migration graph broken (parse-error)",)),
            Suspect(sha("b1"), 0.7, ("edited applied migration 774225e563ca",)),
            Suspect(sha("m1"), 0.1, ("no migration change",)),
        ),
    )
    burst = Burst(
        commits=burst_shas,
        start=start,
        end=end,
        authors=("Dudley",),
        paths=(TARGET,),
        median_gap_seconds=120.0,
        longest_gap_seconds=240.0,
        automation_score=0.8,
        signals=("8 commits in 18 min", "templated subjects"),
    )
    findings = (
        Finding(
            "FX201",
            "applied-migration-modified",
            Severity.HIGH,
            Confidence.HIGH,
            "Applied migration 774225e563ca changed by 8 commit(s) after it was applied",
            "Production applied it with deploy dep-applied. Afterwards 8 commit(s) changed "
            f"{TARGET} (4 code, 1 cosmetic).",
            revision="774225e563ca",
            path=TARGET,
            line=14,
            commits=burst_shas,
            changes=tuple(ChangeRef(c.commit, c.kind.value) for c in changes),
            deploys=("dep-applied",),
            start=start,
            end=end,
            environment="backend/alembic",
            facts=(
                ("changes", "4 code, 1 cosmetic, 2 metadata, 1 parse-error"),
                ("note | with pipe", SCRIPT),
            ),
        ),
        Finding(
            "FX401",
            "failed-deploy-streak",
            Severity.CRITICAL,
            Confidence.HIGH,
            f"{len(failed_ids)} failed deploys since 2025-11-16 15:02 UTC, not recovered",
            "Every deploy after dep-live failed with update_failed.",
            deploys=failed_ids,
            start=window.start,
            end=window.end,
        ),
        Finding(
            "FX402",
            "suspect-change",
            Severity.HIGH,
            Confidence.MEDIUM,
            "Commit b5 most likely caused the failure window",
            "Ranked by what each commit did to the migration graph.",
            commits=(sha("b5"), sha("b1"), sha("m1")),
        ),
        Finding(
            "FX105",
            "unparseable-migration",
            Severity.HIGH,
            Confidence.HIGH,
            "Migration 774225e563ca did not parse between b5 and b6",
            "A syntax error was committed and fixed by the next commit.",
            revision="774225e563ca",
            path=TARGET,
            line=22,
            commits=(sha("b5"),),
        ),
        Finding(
            "FX302",
            "automation-suspected",
            Severity.MEDIUM,
            Confidence.MEDIUM,
            "Burst looks automated (score 0.80)",
            "Templated subjects, steady cadence.",
            commits=burst_shas,
            start=start,
            end=end,
            path=TARGET,
        ),
    )
    chain = (
        ChainNode(
            "b354d12d1e7d",
            f"{VERSIONS}/b354d12d1e7d_docs.py",
            "Document generation tables",
            (),
            ("applied", "base"),
        ),
        ChainNode(
            "65e4b4ef883d",
            f"{VERSIONS}/65e4b4ef883d_enums.py",
            "Create enums + 13 tables",
            ("b354d12d1e7d",),
            ("applied",),
        ),
        ChainNode(
            "774225e563ca",
            TARGET,
            "Add document AI <b>x</b>",
            ("65e4b4ef883d",),
            ("applied", "modified"),
        ),
        ChainNode(
            "d47310025be2",
            f"{VERSIONS}/d47310025be2_community.py",
            "Community tables",
            ("774225e563ca",),
            ("applied",),
        ),
        ChainNode(
            "0a1b2c3d4e5f",
            f"{VERSIONS}/0a1b2c3d4e5f_events.py",
            "Event tables",
            ("d47310025be2",),
            ("applied",),
        ),
        ChainNode(
            "5f4e3d2c1b0a",
            f"{VERSIONS}/5f4e3d2c1b0a_marketing.py",
            "Marketing tables",
            ("d47310025be2",),
            ("applied",),
        ),
        ChainNode(
            "7c8d9e0f1a2b",
            f"{VERSIONS}/7c8d9e0f1a2b_merge.py",
            "merge heads",
            ("0a1b2c3d4e5f", "5f4e3d2c1b0a"),
            ("applied",),
        ),
        ChainNode(
            "91614ff3fbf6",
            f"{VERSIONS}/91614ff3fbf6_notifications.py",
            "Notification tables",
            ("7c8d9e0f1a2b",),
            ("applied", "production"),
        ),
        ChainNode(
            "aae3309a2a8b",
            f"{VERSIONS}/aae3309a2a8b_billing.py",
            "Billing tables",
            ("91614ff3fbf6",),
            (),
        ),
        ChainNode(
            "9a90b381abd5",
            f"{VERSIONS}/9a90b381abd5_audit.py",
            "Audit tables",
            ("aae3309a2a8b",),
            ("head",),
        ),
    )
    env = EnvironmentSummary(
        "backend/alembic", (VERSIONS,), 10, ("9a90b381abd5",), ("b354d12d1e7d",), chain
    )
    remediations = (
        Remediation(
            "Restore 774225e563ca to the content production applied",
            (
                f"git restore --source {sha('applied')} -- {TARGET}",
                "git commit -m 'Restore 774225e563ca to the applied content'",
            ),
            "Puts back the exact file production ran with deploy dep-applied.",
            ("Drops the intended changes of the later edits from this file.",),
            recommended=True,
            kind=RemediationKind.RESTORE,
        ),
        Remediation(
            "Revert exactly the commits that changed the file",
            ("git revert --no-commit " + " ".join(reversed(burst_shas)),),
            "Undoes the 8 commits that touched the file, newest first.",
            (f"{sha('b7')[:8]} also changed README.md, which the revert undoes too.",),
            warnings=("Message with ``` fence and <b>bold</b>",),
            kind=RemediationKind.REVERT,
        ),
    )
    rules = (
        RuleInfo(
            "FX201",
            "applied-migration-modified",
            "An applied migration's file changed after it was applied",
            "Alembic records only the revision id of what it applied, never the content. "
            "`alembic upgrade head` never reruns it.",
            Severity.HIGH,
        ),
        RuleInfo(
            "FX401",
            "failed-deploy-streak",
            "A failure window",
            "Deploys kept failing; the provider kept the last good build.",
            Severity.CRITICAL,
        ),
        RuleInfo(
            "FX402",
            "suspect-change",
            "Ranked commits that most likely caused a failure window",
            "The commits between the last good deploy and the failures.",
            Severity.HIGH,
        ),
        RuleInfo(
            "FX105",
            "unparseable-migration",
            "A migration file does not parse",
            "Every deploy that runs migrations fails.",
            Severity.HIGH,
        ),
        RuleInfo(
            "FX101",
            "multiple-heads",
            "More than one head",
            "alembic upgrade head fails.",
            Severity.HIGH,
        ),
    )
    event = GraphEvent(
        "parse-error",
        "FX105",
        sha("b5"),
        BASE + timedelta(minutes=10),
        "invalid syntax",
        resolved_by=sha("b6"),
        resolved_at=BASE + timedelta(minutes=11),
        revision=None,
        path=TARGET,
        environment="backend/alembic",
    )
    diff = None
    if audit:
        diff = AuditDiff(
            "audit-2025-W47",
            "audit-2025-W46",
            new=(findings[0].fingerprint,),
            still_open=(findings[1].fingerprint,),
            resolved=("0123456789abcdef",),
        )
    report = Report(
        generated_at=datetime(2025, 11, 16, 17, 25, tzinfo=UTC),
        repo_path="/srv/ma-saas",
        rev=sha("b8"),
        since=datetime(2025, 11, 13, tzinfo=UTC),
        until=datetime(2025, 11, 16, 17, 25, tzinfo=UTC),
        environments=(env,),
        production=Production(
            revisions=("91614ff3fbf6",),
            source="flag",
            deploy="dep-live",
            commit=live_commit.sha,
            applied=tuple(n.revision for n in chain if "applied" in n.annotations),
            tables_expected=("documents", "document_ai", "communities"),
            tables_present=("documents", "document_ai"),
            health=HealthCheck(
                "https://ma-saas-backend.onrender.com/health", True, 200, '{"status":"healthy"}'
            ),
        ),
        findings=findings,
        graph_events=(event,),
        bursts=(burst,),
        deploys=tuple(deploys),
        failure_windows=(window,),
        commits=tuple(commits),
        migration_changes=tuple(changes),
        remediations=remediations,
        head=commits[-1],
        files_examined=(TARGET, f"{VERSIONS}/91614ff3fbf6_notifications.py", "backend/alembic.ini"),
        warnings=("deploy dep-x names commit deadbeef, which is not in the repository",),
        audit=diff,
        rules=rules,
    )
    return replace(report, incidents=build_incidents(report))


@pytest.fixture
def report() -> Report:
    return seed_report()


@pytest.fixture
def audit_report() -> Report:
    return seed_report(audit=True)
