"""remediations: exact commands, checked by running them in scratch clones of the demo."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from forensics.analysis.graph import build_state
from forensics.analysis.remediation import remediations
from forensics.demo import DemoScenario
from forensics.errors import Diagnostics
from forensics.gitbuild import RepoBuilder
from forensics.model.deploys import AppliedMigration
from forensics.model.findings import Confidence, Finding, Severity
from forensics.model.migrations import Environment
from forensics.model.report import Remediation
from forensics.pipeline import load_graphs
from forensics.sources.alembic_files import read_migration
from forensics.sources.git import GitSource
from tests.analysis.demo_states import ENV, commit_records, state_at
from tests.conftest import migration

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    "HOME": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout


def _edits(demo: DemoScenario) -> list[str]:
    """What `git log --no-merges` says changed the file after it was applied, oldest first."""
    out = git(
        demo.repo,
        "log",
        "--no-merges",
        "--reverse",
        "--format=%H",
        f"{demo.applied_commit}..HEAD",
        "--",
        demo.migration_path,
    )
    return out.split()


def _finding(demo: DemoScenario, rule: str = "FX201", extra: tuple[str, ...] = ()) -> Finding:
    return Finding(
        rule,
        "applied-migration-modified",
        Severity.HIGH,
        Confidence.HIGH,
        "t",
        "d",
        revision=demo.applied_revision,
        path=demo.migration_path,
        commits=(*_edits(demo), *extra),
        environment=ENV.name,
    )


def _point(demo: DemoScenario) -> AppliedMigration:
    return AppliedMigration(
        demo.applied_revision,
        demo.migration_path,
        ENV.name,
        "deploy",
        since_deploy=demo.applied_deploy,
        since_commit=demo.applied_commit,
    )


def _options(demo: DemoScenario, **kw: object) -> tuple[Remediation, ...]:
    finding = _finding(demo, extra=(demo.message_only_commit,))
    return remediations(
        [finding],
        commit_records(demo.repo),
        [_point(demo)],
        [state_at(demo.repo, "HEAD")],
        production=[demo.production_revision],
        **kw,
    )  # type: ignore[arg-type]


def _run(clone: Path, commands: tuple[str, ...]) -> None:
    subprocess.run(
        ["bash", "-ec", " && ".join(commands)],
        cwd=clone,
        env=GIT_ENV,
        check=True,
        capture_output=True,
    )


def _clone(demo: DemoScenario, tmp_path: Path, name: str, rev: str = "HEAD") -> Path:
    clone = tmp_path / name
    git(tmp_path, "clone", "-q", str(demo.repo), str(clone))
    git(clone, "checkout", "-q", rev)
    return clone


def test_restore_names_the_application_commit_and_restores_the_applied_content(
    demo: DemoScenario, tmp_path: Path
) -> None:
    restore = _options(demo)[0]
    assert restore.recommended and restore.title.startswith("Restore 774225e563ca")
    assert restore.commands[0] == (
        f"git restore --source {demo.applied_commit} -- {shlex.quote(demo.migration_path)}"
    )
    clone = _clone(demo, tmp_path, "restore")
    _run(clone, restore.commands)
    applied = git(demo.repo, "show", f"{demo.applied_commit}:{demo.migration_path}")
    assert (clone / demo.migration_path).read_text() == applied
    assert git(clone, "status", "--porcelain") == ""  # committed


def test_revert_lists_exactly_the_commits_that_touched_the_file_newest_first(
    demo: DemoScenario, tmp_path: Path
) -> None:
    revert = _options(demo)[1]
    shas = revert.commands[0].split()[3:]
    assert revert.commands[0].startswith("git revert --no-commit ")
    assert shas == list(reversed(_edits(demo)))
    assert demo.message_only_commit not in shas  # it names the migration but touched scripts
    assert len(shas) == len(demo.burst_commits) == 11
    clone = _clone(demo, tmp_path, "revert")
    _run(clone, revert.commands)
    applied = git(demo.repo, "show", f"{demo.applied_commit}:{demo.migration_path}")
    assert (clone / demo.migration_path).read_text() == applied
    assert (clone / "scripts/trigger_deploy.py").exists()  # other commits are left alone


def test_revert_names_other_files_those_commits_changed(demo: DemoScenario, tmp_path: Path) -> None:
    builder_repo = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(demo.repo), str(builder_repo))
    (builder_repo / demo.migration_path).write_text(
        "# edited\n" + (builder_repo / demo.migration_path).read_text()
    )
    (builder_repo / "scripts/monitor_deploy.py").write_text("print('changed')\n")
    git(builder_repo, "commit", "-qam", "fix: touch the migration and a script")
    sha = git(builder_repo, "rev-parse", "HEAD").strip()
    finding = Finding(
        "FX201",
        "applied-migration-modified",
        Severity.HIGH,
        Confidence.HIGH,
        "t",
        "d",
        revision=demo.applied_revision,
        path=demo.migration_path,
        commits=(*_edits(demo), sha),
        environment=ENV.name,
    )
    options = remediations(
        [finding], commit_records(builder_repo), [_point(demo)], [state_at(builder_repo, "HEAD")]
    )
    revert = next(o for o in options if o.commands[0].startswith("git revert"))
    assert revert.commands[0].split()[3] == sha
    assert any(sha[:8] in r and "scripts/monitor_deploy.py" in r for r in revert.risks)


def test_carry_forward_on_the_head_that_descends_from_the_revision(
    demo: DemoScenario, tmp_path: Path
) -> None:
    forward = next(o for o in _options(demo) if o.commands[-1].startswith("alembic revision"))
    assert forward.commands == (
        "cd backend",
        "alembic revision -m 'carry forward the intended changes to 774225e563ca' "
        "--head 9a90b381abd5",
    )
    clone = _clone(demo, tmp_path, "forward")
    before = set((clone / ENV.versions_dirs[0]).glob("*.py"))
    _run(clone, forward.commands)
    (created,) = set((clone / ENV.versions_dirs[0]).glob("*.py")) - before
    migration = read_migration(created.name, created.read_bytes())
    assert migration.down_revisions == ("9a90b381abd5",)


def test_the_dangerous_option_is_exact_and_not_recommended(demo: DemoScenario) -> None:
    rerun = next(o for o in _options(demo) if "dangerous" in o.title)
    assert not rerun.recommended
    assert "alembic stamp --purge 65e4b4ef883d" in rerun.commands
    assert any("deletes nothing" in r for r in rerun.risks)
    # Stamping back below 774225e563ca runs it and everything after it up to production.
    parents = {r: m.down_revisions for r, m in state_at(demo.repo, "HEAD").by_revision().items()}

    def lineage(rev: str) -> set[str]:
        return {rev}.union(*(lineage(p) for p in parents[rev]))

    again = lineage(demo.production_revision) - lineage("65e4b4ef883d")
    assert demo.applied_revision in again
    assert any(f"run {len(again)} migration(s) again" in r for r in rerun.risks)


def test_restore_warns_when_the_applied_content_does_not_parse(demo: DemoScenario) -> None:
    seen: list[tuple[str, str]] = []

    def parses(commit: str, path: str) -> bool:
        seen.append((commit, path))
        return False

    restore = _options(demo, restore_parses=parses)[0]
    assert seen == [(demo.applied_commit, demo.migration_path)]
    assert restore.warnings and "does not parse" in restore.warnings[0]
    assert not _options(demo, restore_parses=lambda c, p: True)[0].warnings


def test_merge_for_multiple_heads_joins_them(demo: DemoScenario, tmp_path: Path) -> None:
    two_heads = git(demo.repo, "rev-parse", f"{demo.head}~1").strip()
    state = state_at(demo.repo, two_heads)
    finding = Finding(
        "FX101",
        "multiple-heads",
        Severity.HIGH,
        Confidence.HIGH,
        "two heads",
        "d",
        environment=ENV.name,
    )
    (merge,) = remediations([finding], {}, [], [state])
    assert merge.commands == (
        "cd backend",
        "alembic merge -m 'merge heads' 3c4d5e6f7a8b aae3309a2a8b",
    )
    clone = _clone(demo, tmp_path, "merge", two_heads)
    _run(clone, merge.commands)
    files = list((clone / ENV.versions_dirs[0]).glob("*.py"))
    assert len(files) == len(state.migrations) + 1


def test_nothing_for_cosmetic_only_or_unrelated_findings(demo: DemoScenario) -> None:
    low = Finding(
        "FX201",
        "applied-migration-modified",
        Severity.LOW,
        Confidence.HIGH,
        "t",
        "d",
        revision=demo.applied_revision,
        path=demo.migration_path,
    )
    burst = Finding("FX301", "commit-burst", Severity.MEDIUM, Confidence.HIGH, "t", "d")
    assert remediations([low, burst], {}, [_point(demo)], [state_at(demo.repo, "HEAD")]) == ()


def test_paths_and_messages_are_shell_quoted(demo: DemoScenario) -> None:
    odd = "backend/alembic/versions/x; rm -rf ~ $(id).py"
    finding = Finding(
        "FX203",
        "applied-migration-removed",
        Severity.HIGH,
        Confidence.HIGH,
        "t",
        "d",
        revision="abc",
        path=odd,
    )
    point = AppliedMigration("abc", odd, ENV.name, "deploy", since_commit=demo.applied_commit)
    restore = remediations([finding], {}, [point], [])[0]
    assert (
        restore.commands[0] == f"git restore --source {demo.applied_commit} -- {shlex.quote(odd)}"
    )
    assert shlex.split(restore.commands[0])[-1] == odd


def _two_heads(version: Path) -> None:
    """A base and two children of it: two heads that need a merge."""
    for rev, down in (("b0", None), ("h1", "b0"), ("h2", "b0")):
        (version / f"{rev}.py").write_text(migration(rev, down))


def _merge_options(repo: RepoBuilder) -> Remediation:
    git_source = GitSource(repo.path)
    try:
        _envs, states = load_graphs(git_source, "HEAD", (), Diagnostics())
    finally:
        git_source.close()
    (state,) = states
    finding = Finding(
        "FX101",
        "multiple-heads",
        Severity.HIGH,
        Confidence.HIGH,
        "t",
        "d",
        environment=state.environment.name,
    )
    (merge,) = remediations([finding], {}, [], [state])
    return merge


def test_flask_migrate_commands_run_as_flask_db_from_the_application_folder(
    git_repo: Callable[..., RepoBuilder],
) -> None:
    repo = git_repo()
    web = repo.path / "web"
    web.mkdir()
    (web / "app.py").write_text(
        "from flask import Flask\nfrom flask_migrate import Migrate\n"
        "from flask_sqlalchemy import SQLAlchemy\n\n"
        "app = Flask(__name__)\napp.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite:///app.db'\n"
        "db = SQLAlchemy(app)\nmigrate = Migrate(app, db)\n"
    )
    # The layout as Flask-Migrate itself writes it: the ini inside migrations/.
    _run(web, ("flask db init",))
    assert "script_location" not in (web / "migrations" / "alembic.ini").read_text()
    _two_heads(web / "migrations" / "versions")
    repo.commit("flask app", "2025-11-01T09:00:00+00:00")
    merge = _merge_options(repo)
    assert merge.commands == ("cd web", "flask db merge -m 'merge heads' h1 h2")
    _run(repo.path, merge.commands)
    _run(web, ("flask db heads > heads.txt",))
    assert len((web / "heads.txt").read_text().split()) == 2  # "<merge rev> (head)"


def test_alembic_commands_run_from_the_folder_of_the_ini(
    git_repo: Callable[..., RepoBuilder],
) -> None:
    repo = git_repo()
    # `alembic init` run at the root: the ini at the root, the scripts two levels down.
    _run(repo.path, ("alembic init db/migrations",))
    _two_heads(repo.path / "db" / "migrations" / "versions")
    repo.commit("alembic", "2025-11-01T09:00:00+00:00")
    merge = _merge_options(repo)
    assert merge.commands == ("alembic merge -m 'merge heads' h1 h2",)
    _run(repo.path, merge.commands)
    assert len(list((repo.path / "db" / "migrations" / "versions").glob("*.py"))) == 4


def test_commands_name_the_ini_section_and_migrations_folder_when_not_the_defaults() -> None:
    files = [migration(rev, down) for rev, down in (("b0", None), ("h1", "b0"), ("h2", "b0"))]
    parsed = [read_migration(f"v/{i}.py", text.encode()) for i, text in enumerate(files)]
    cases = [
        (
            Environment("db/main", "db/main", ("db/main/versions",), "etc/db.ini", "main"),
            ("cd etc", "alembic -c db.ini -n main merge -m 'merge heads' h1 h2"),
        ),
        (
            Environment("app/db_migrations", "app/db_migrations", ("v",), "x", flask=True),
            ("cd app", "flask db merge -d db_migrations -m 'merge heads' h1 h2"),
        ),
        # Found through env.py alone: `alembic init` put the ini in the folder above.
        (Environment("svc/alembic", "svc/alembic", ("v",)), ("cd svc", "alembic merge")),
    ]
    for env, expected in cases:
        finding = Finding(
            "FX101",
            "multiple-heads",
            Severity.HIGH,
            Confidence.HIGH,
            "t",
            "d",
            environment=env.name,
        )
        (merge,) = remediations([finding], {}, [], [build_state(env, parsed)])
        assert merge.commands[0] == expected[0]
        assert merge.commands[1].startswith(expected[1])
