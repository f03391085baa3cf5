"""``forensics guard`` on real repositories: a seed-like history where migrations applied
per a deploy log (or release tags, or a lock file) are rewired, reformatted, or left alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from forensics.api import analyze, guard, write_lock
from forensics.errors import InputError, UsageError
from forensics.gitbuild import RepoBuilder
from forensics.guarding import default_base
from forensics.lockfile import read_lock
from forensics.model.findings import Finding
from forensics.model.guard import STAGED, GuardMode, GuardResult
from forensics.model.report import RemediationKind
from forensics.model.rules import RuleId
from forensics.render.guard_text import format_result
from forensics.sources.git import GitSource
from tests.conftest import Run, migration

NOW = datetime(2025, 11, 14, tzinfo=UTC)
A1 = "db/versions/a1_create_users.py"
B2 = "db/versions/b2_add_email.py"
X9 = "db/versions/x9_add_index.py"
A1_TEXT = migration(
    "a1a1a1a1a1a1", None, message="create users", body="    op.create_table('users')"
)
B2_TEXT = migration(
    "b2b2b2b2b2b2",
    "a1a1a1a1a1a1",
    message="add email",
    body="    op.add_column('users', sa.Column('email', sa.String()))",
)

B2_REWIRED = B2_TEXT.replace(
    "down_revision = 'a1a1a1a1a1a1'", "down_revision = 'x9x9x9x9x9x9'"
).replace("Revises: a1a1a1a1a1a1", "Revises: x9x9x9x9x9x9")


@dataclass
class Seed:
    repo: RepoBuilder
    deployed: str  # migrations a1, b2 live here
    rewire: str  # inserts x9 under b2: b2.down_revision a1 -> x9
    reformat: str  # black/isort-style change of a1
    unrelated: str  # app code only
    deploys: str  # render:FILE


def build_seed(git_repo: Callable[..., RepoBuilder], tmp_path: Path) -> Seed:
    repo = git_repo()
    deployed = repo.commit(
        "Add users and email migrations",
        "2025-11-10T09:00:00+00:00",
        files={
            "alembic.ini": "[alembic]\nscript_location = db\n",
            "db/env.py": "",
            A1: A1_TEXT,
            B2: B2_TEXT,
            "app/main.py": "print('v1')\n",
        },
    )
    repo.tag("v1", deployed, message="release 1", at="2025-11-10T09:30:00+00:00")
    rewire = repo.commit(
        "Index before email",
        "2025-11-13T10:00:00+00:00",
        files={
            X9: migration("x9x9x9x9x9x9", "a1a1a1a1a1a1", message="add index"),
            B2: B2_REWIRED,
        },
    )
    reformat = repo.commit(
        "Run black",
        "2025-11-13T11:00:00+00:00",
        files={
            A1: A1_TEXT.replace("'users'", '"users"').replace("'a1a1a1a1a1a1'", '"a1a1a1a1a1a1"')
        },
    )
    unrelated = repo.commit(
        "Tweak the app", "2025-11-13T12:00:00+00:00", files={"app/main.py": "print('v2')\n"}
    )
    log = tmp_path / "deploys.json"
    log.write_text(
        json.dumps(
            [
                {
                    "deploy": {
                        "id": "dep-live",
                        "status": "live",
                        "commit": {"id": deployed, "message": "Add users and email migrations"},
                        "createdAt": "2025-11-10T09:05:00Z",
                        "finishedAt": "2025-11-10T09:08:00Z",
                    },
                    "cursor": "c1",
                },
                {
                    "deploy": {
                        "id": "dep-failed",
                        "status": "update_failed",
                        "commit": {"id": rewire, "message": "Index before email"},
                        "createdAt": "2025-11-13T10:05:00Z",
                    },
                    "cursor": "c2",
                },
            ]
        )
    )
    return Seed(repo, deployed, rewire, reformat, unrelated, f"render:{log}")


@pytest.fixture
def seed(git_repo: Callable[..., RepoBuilder], tmp_path: Path) -> Seed:
    return build_seed(git_repo, tmp_path)


def kinds(result: GuardResult) -> list[str]:
    """Each failing finding as its rule and, where commits made it, what they did: the
    detectors' vocabulary (``FX202 metadata`` is a rewire)."""
    return [
        " ".join((f.rule, *dict.fromkeys(c.kind for c in f.changes))) for f in result.violations
    ]


@pytest.mark.parametrize("evidence", ["render", "tags"])
def test_range_with_the_rewire_fails_and_names_revision_file_commit(
    seed: Seed, evidence: str
) -> None:
    deploys = [seed.deploys] if evidence == "render" else ["tags:v*"]
    result = guard(seed.repo.path, base=seed.deployed, rev=seed.rewire, deploys=deploys)
    assert result.exit_code == 1
    assert kinds(result) == ["FX202 metadata"]
    (violation,) = result.violations
    assert (violation.revision, violation.path, violation.commits) == (
        "b2b2b2b2b2b2",
        B2,
        (seed.rewire,),
    )
    for expected in ("b2b2b2b2b2b2", B2, seed.rewire[:8], "alembic revision -m", "x9x9x9x9x9x9"):
        assert expected in violation.detail
    assert ("dep-live" if evidence == "render" else "v1") in violation.detail
    assert violation.detail in format_result(result)


def test_range_that_only_touched_other_files_passes(seed: Seed) -> None:
    result = guard(seed.repo.path, base=seed.reformat, rev=seed.unrelated, deploys=[seed.deploys])
    assert result.exit_code == 0
    assert result.violations == () and result.cosmetic == ()
    assert "guard passed" in format_result(result)


def test_cosmetic_edit_passes_and_is_listed_strict_fails(seed: Seed) -> None:
    result = guard(seed.repo.path, base=seed.rewire, rev=seed.reformat, deploys=[seed.deploys])
    assert result.exit_code == 0
    assert [(c.revision, c.path, c.commits) for c in result.cosmetic] == [
        ("a1a1a1a1a1a1", A1, (seed.reformat,))
    ]
    assert "reformatted" in format_result(result)
    strict = guard(
        seed.repo.path, base=seed.rewire, rev=seed.reformat, deploys=[seed.deploys], strict=True
    )
    assert strict.exit_code == 1 and kinds(strict) == ["FX201 cosmetic"]


def test_whole_range_blames_only_the_commit_that_rewired(seed: Seed) -> None:
    result = guard(seed.repo.path, base=seed.deployed, rev=seed.unrelated, deploys=[seed.deploys])
    assert kinds(result) == ["FX202 metadata"]
    assert result.violations[0].commits == (seed.rewire,)
    assert [c.revision for c in result.cosmetic] == ["a1a1a1a1a1a1"]


def test_default_base_is_the_parent_without_upstream(seed: Seed) -> None:
    git = GitSource(seed.repo.path)
    try:
        assert default_base(git, seed.rewire) == seed.deployed
    finally:
        git.close()
    result = guard(seed.repo.path, rev=seed.rewire, deploys=[seed.deploys])
    assert result.base == seed.deployed and kinds(result) == ["FX202 metadata"]


def test_default_base_is_the_merge_base_with_the_upstream(seed: Seed) -> None:
    seed.repo.git("update-ref", "refs/remotes/origin/main", seed.deployed)
    seed.repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    result = guard(seed.repo.path, deploys=[seed.deploys])
    assert result.base == seed.deployed and result.rev == seed.unrelated
    assert kinds(result) == ["FX202 metadata"]


def test_base_that_is_not_an_ancestor_is_a_clear_error(seed: Seed) -> None:
    seed.repo.checkout(seed.deployed)
    seed.repo.checkout("side", create=True)
    side = seed.repo.commit("side work", "2025-11-14T09:00:00+00:00", files={"x.txt": "x\n"})
    with pytest.raises(InputError) as caught:
        guard(seed.repo.path, base=side, rev=seed.unrelated)
    assert "is not an ancestor of --rev" in caught.value.message


def test_without_evidence_only_the_graph_is_checked(seed: Seed) -> None:
    result = guard(seed.repo.path, base=seed.deployed, rev=seed.rewire)
    assert result.exit_code == 0
    assert any("neither --deploys nor --lock" in n for n in result.notes)


# -- staged -----------------------------------------------------------------------------------
def stage(repo: RepoBuilder, files: dict[str, str]) -> None:
    for path, text in files.items():
        repo.write(path, text)
    repo.git("add", "-A")


def test_staged_edit_of_an_applied_migration_fails(seed: Seed) -> None:
    stage(seed.repo, {B2: B2_REWIRED.replace("'email'", "'mail'")})
    result = guard(seed.repo.path, mode=GuardMode.STAGED, deploys=[seed.deploys])
    assert kinds(result) == ["FX201 code"]
    assert result.violations[0].commits == (STAGED,)
    assert "the staged change" in result.violations[0].detail


def test_staged_reformat_and_new_migration_on_the_head_pass(seed: Seed) -> None:
    stage(
        seed.repo,
        {
            A1: "# a comment\n" + A1_TEXT,
            "db/versions/c3_next.py": migration("c3c3c3c3c3c3", "b2b2b2b2b2b2"),
        },
    )
    result = guard(seed.repo.path, mode=GuardMode.STAGED, deploys=[seed.deploys])
    assert result.exit_code == 0, format_result(result)
    assert [(c.revision, c.commits) for c in result.cosmetic] == [("a1a1a1a1a1a1", (STAGED,))]


@pytest.mark.parametrize(
    ("files", "kind"),
    [
        ({"db/versions/c3.py": migration("c3c3c3c3c3c3", "a1a1a1a1a1a1")}, "FX101"),
        ({"db/versions/c3.py": "def upgrade(:\n    pass\n"}, "FX105"),
        ({"db/versions/dup.py": migration("x9x9x9x9x9x9", "a1a1a1a1a1a1")}, "FX102"),
        ({"db/versions/c3.py": migration("c3c3c3c3c3c3", "nonexistent00")}, "FX103"),
    ],
)
def test_staged_graph_faults_fail(seed: Seed, files: dict[str, str], kind: str) -> None:
    stage(seed.repo, files)
    result = guard(seed.repo.path, mode=GuardMode.STAGED)
    assert kinds(result) == [kind], format_result(result)
    assert result.violations[0].commits == (STAGED,)


def test_staged_with_base_is_a_usage_error(seed: Seed) -> None:
    with pytest.raises(UsageError):
        guard(seed.repo.path, base="HEAD~1", mode=GuardMode.STAGED)


# -- lock file --------------------------------------------------------------------------------
def test_lock_file_protects_like_a_deploy_log(seed: Seed, tmp_path: Path) -> None:
    lock = tmp_path / "forensics.lock"
    written = write_lock(seed.repo.path, lock, rev=seed.deployed)
    assert written.exit_code == 0
    assert {e.revision for e in read_lock(lock).entries} == {"a1a1a1a1a1a1", "b2b2b2b2b2b2"}

    result = guard(seed.repo.path, base=seed.deployed, rev=seed.unrelated, lock=lock)
    assert kinds(result) == ["FX202 metadata"] and "locked in" in result.violations[0].detail
    assert [c.revision for c in result.cosmetic] == ["a1a1a1a1a1a1"]

    # Re-locking at the rewired tree is refused, and says why; --force re-locks and reports.
    refused = write_lock(seed.repo.path, lock, rev=seed.unrelated)
    assert refused.exit_code == 1 and kinds(refused) == ["FX201"]
    assert refused.violations[0].revision == "b2b2b2b2b2b2"
    assert "--force" in refused.violations[0].detail
    forced = write_lock(seed.repo.path, lock, rev=seed.unrelated, force=True)
    assert forced.exit_code == 0
    assert any("re-locked b2b2b2b2b2b2" in n for n in forced.notes)
    assert guard(seed.repo.path, base=seed.deployed, rev=seed.unrelated, lock=lock).exit_code == 0


def test_a_forced_relock_inside_the_range_is_reported(seed: Seed) -> None:
    lock = seed.repo.path / "forensics.lock"
    write_lock(seed.repo.path, lock, rev=seed.deployed)
    locked = seed.repo.commit("lock", "2025-11-14T09:00:00+00:00")
    write_lock(seed.repo.path, lock, rev=seed.unrelated, force=True)
    relocked = seed.repo.commit("re-lock on purpose", "2025-11-14T09:10:00+00:00")
    result = guard(seed.repo.path, base=locked, rev=relocked, lock=lock)
    assert result.exit_code == 0
    assert any("re-locks b2b2b2b2b2b2" in note for note in result.notes)


def test_write_lock_from_deploys_locks_what_production_applied(seed: Seed, tmp_path: Path) -> None:
    lock = tmp_path / "forensics.lock"
    result = write_lock(seed.repo.path, lock, rev=seed.unrelated, deploys=[seed.deploys])
    assert result.exit_code == 0
    entries = {e.revision: e.path for e in read_lock(lock).entries}
    assert entries == {"a1a1a1a1a1a1": A1, "b2b2b2b2b2b2": B2}  # not x9, added after
    again = guard(seed.repo.path, base=seed.deployed, rev=seed.rewire, lock=lock)
    assert kinds(again) == ["FX202 metadata"]


def test_write_lock_needs_a_lock_path(seed: Seed, run: Run) -> None:
    code, _out, err = run("guard", "--repo", str(seed.repo.path), "--write-lock")
    assert code == 2 and "--lock FILE" in err


def test_restoring_the_applied_content_passes(seed: Seed) -> None:
    restored = seed.repo.commit(
        "Put b2 back",
        "2025-11-14T09:00:00+00:00",
        files={B2: B2_TEXT, X9: migration("x9x9x9x9x9x9", "b2b2b2b2b2b2")},
    )
    result = guard(seed.repo.path, base=seed.unrelated, rev=restored, deploys=[seed.deploys])
    assert result.exit_code == 0, format_result(result)


def test_guard_never_executes_the_migrations_it_reads(seed: Seed, tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    planted = migration(
        "c3c3c3c3c3c3",
        "b2b2b2b2b2b2",
        body=f"    pass\n\n\nopen({str(marker)!r}, 'w').write('ran')",
    )
    head = seed.repo.commit(
        "planted", "2025-11-14T09:00:00+00:00", files={"db/versions/c3.py": planted}
    )
    result = guard(seed.repo.path, base=seed.unrelated, rev=head, deploys=[seed.deploys])
    stage(seed.repo, {"db/versions/c3.py": planted + "\n# again\n"})
    guard(seed.repo.path, mode=GuardMode.STAGED, deploys=[seed.deploys])
    assert result.exit_code == 0
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            B2_REWIRED.replace("revision = 'b2b2b2b2b2b2'", "revision = 'b3b3b3b3b3b3'"),
            "FX202 metadata",
        ),
        (B2_REWIRED.replace("def upgrade():", "def upgrade(:"), "FX201 parse-error"),
    ],
)
def test_renumbered_or_broken_applied_file_fails(seed: Seed, text: str, kind: str) -> None:
    stage(seed.repo, {B2: text})
    result = guard(seed.repo.path, mode=GuardMode.STAGED, deploys=[seed.deploys])
    assert kinds(result) == [kind], format_result(result)
    assert result.violations[0].revision == "b2b2b2b2b2b2"


def test_removed_applied_migration_fails(seed: Seed) -> None:
    seed.repo.delete(A1)
    head = seed.repo.commit("drop the first migration", "2025-11-14T09:00:00+00:00")
    result = guard(seed.repo.path, base=seed.unrelated, rev=head, deploys=[seed.deploys])
    assert "FX203 deleted" in kinds(result)
    removed = next(v for v in result.violations if v.rule == RuleId.FX203)
    assert (removed.revision, removed.path, removed.commits) == ("a1a1a1a1a1a1", A1, (head,))


def test_guard_and_analyze_report_the_same_finding_and_fix(seed: Seed) -> None:
    """The rewire, as the report's detectors see it at --rev and as guard sees the change:
    the same rule, name, revision, path, commit and change kind, and the carry-forward
    command the report's plan gives."""
    guarded = guard(seed.repo.path, base=seed.deployed, rev=seed.rewire, deploys=[seed.deploys])
    report = analyze(
        seed.repo.path, rev=seed.rewire, since="2025-11-01", deploys=[seed.deploys], now=NOW
    )
    (found,) = guarded.violations
    (detected,) = [f for f in report.findings if f.rule == RuleId.FX202]

    def identity(f: Finding) -> tuple[object, ...]:
        return (f.rule, f.name, f.revision, f.path, f.commits, f.changes, f.line)

    assert identity(found) == identity(detected)
    forward = [r for r in report.remediations if r.kind is RemediationKind.FORWARD]
    assert forward and " && ".join(forward[0].commands) in found.detail
