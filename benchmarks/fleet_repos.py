"""Small service repositories for the fleet: Alembic migrations, a deploy history (CSV) and
the logs of its failed deploys, with every figure of the delivery metrics known by
construction. The fleet tests and ``make bench-fleet`` build theirs here.

Each service has ``weeks`` weeks of activity ending in the week of ``END`` (2025-W46). In
the week before the first, one commit adds the first migration and goes live (a history's
first live deploy has no lead time). Then each week ``i``:

- Monday 09:00 a commit adds migration ``i``; Monday 10:00 a second commit changes code.
- Odd weeks: Tuesday 10:00 a deploy of the second commit fails (its log says multiple
  heads); Tuesday 14:00 the same commit goes live. Even weeks: only the live deploy.

So every week has its deploys (1 or 2), failures (0 or 1), a time to restore of 4 h in odd
weeks, and lead times of 29 h and 28 h (p50 28.5 h, p90 28.9 h). In the last week, Wednesday
09:00, a commit edits the migration of week 1, which was applied: one edit to an applied
migration.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics.gitbuild import RepoBuilder

# Friday of ISO week 2025-W46, after the last week's events.
END = datetime(2025, 11, 14, 12, 0, tzinfo=UTC)
LEAD_P50_H = 28.5
LEAD_P90_H = 28.9
RESTORE_H = 4.0


@dataclass(frozen=True)
class Service:
    name: str
    repo: Path
    deploys: Path
    logs: Path


def _migration(revision: str, down: str | None, message: str, extra: str = "") -> str:
    return (
        f'"""{message}\n\nRevision ID: {revision}\nRevises: {down or ""}\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade():\n    op.create_table({message!r}, sa.Column('id', sa.Integer))"
        f"{extra}\n\n\n"
        "def downgrade():\n    pass\n"
    )


def week_monday(weeks_before_end: int) -> datetime:
    """Monday 00:00 UTC of the week ``weeks_before_end`` weeks before the week of ``END``."""
    monday = (END - timedelta(days=END.weekday())).replace(hour=0, minute=0)
    return monday - timedelta(weeks=weeks_before_end)


def build_service(root: Path, name: str, weeks: int = 4) -> Service:
    """A service repository under ``root/name`` with its deploys and logs beside it."""
    repo = RepoBuilder(root / name)
    logs = root / f"{name}-logs"
    logs.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str, str, str]] = []

    def deploy(ident: str, commit: str, status: str, at: datetime) -> None:
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append((ident, commit, status, stamp, stamp))

    files = {
        "alembic.ini": "[alembic]\nscript_location = migrations\n",
        "migrations/env.py": "# env\n",
        "migrations/versions/m0_init.py": _migration("m0", None, "init"),
        "app.py": "VERSION = 0\n",
    }
    start = week_monday(weeks)
    first = repo.commit("Initial service", start + timedelta(hours=9), files=files)
    deploy("dep-0", first, "live", start + timedelta(days=1, hours=14))
    previous = "m0"
    for i in range(1, weeks + 1):
        monday = week_monday(weeks - i)
        revision = f"m{i}"
        repo.commit(
            f"Add migration {i}",
            monday + timedelta(hours=9),
            files={
                f"migrations/versions/{revision}_step.py": _migration(revision, previous, f"t{i}")
            },
        )
        code = repo.commit(
            f"Feature {i}", monday + timedelta(hours=10), files={"app.py": f"VERSION = {i}\n"}
        )
        previous = revision
        if i % 2:
            ident = f"dep-{i}-failed"
            deploy(ident, code, "build_failed", monday + timedelta(days=1, hours=10))
            (logs / f"{ident}.log").write_text(
                "Running migrations\nFAILED: Multiple head revisions are present for given "
                "argument 'head'; please specify a specific target revision\n"
            )
        deploy(f"dep-{i}", code, "live", monday + timedelta(days=1, hours=14))
    repo.commit(
        "Tweak migration 1",
        week_monday(0) + timedelta(days=2, hours=9),
        files={"migrations/versions/m1_step.py": _migration("m1", "m0", "t1", "\n    pass")},
    )
    deploys = root / f"{name}-deploys.csv"
    with deploys.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("id", "commit", "status", "created_at", "finished_at"))
        writer.writerows(rows)
    return Service(name, repo.path, deploys, logs)


def write_manifest(root: Path, services: list[Service], broken: tuple[str, ...] = ()) -> Path:
    """A fleet manifest over ``services`` (paths relative to it), plus a repository entry
    for each name in ``broken`` whose path is no git repository."""
    lines = ["[defaults]", 'migrations = ["migrations"]', ""]
    for service in services:
        lines += [
            "[[repo]]",
            f'name = "{service.name}"',
            f'path = "{service.repo.relative_to(root)}"',
            f'deploys = ["csv:{service.deploys.relative_to(root)}"]',
            f'deploy_logs = ["dir:{service.logs.relative_to(root)}"]',
            "",
        ]
    for name in broken:
        (root / name).mkdir(parents=True, exist_ok=True)
        lines += ["[[repo]]", f'name = "{name}"', f'path = "{name}"', ""]
    manifest = root / "fleet.toml"
    manifest.write_text("\n".join(lines))
    return manifest
