"""FX201-FX204 over real repositories: the seed's shape, release tags, databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from forensics.gitbuild import RepoBuilder
from forensics.model.findings import Confidence, Severity
from tests.conftest import migration
from tests.detectors.scenario import (
    BASE,
    M_PATH,
    NEXT,
    T0,
    M,
    Seed,
    analyse,
    build_seed,
    by_rule,
)


@pytest.fixture
def seed(git_repo: Callable[..., RepoBuilder], tmp_path: Path) -> Seed:
    return build_seed(git_repo(), tmp_path)


KINDS = [
    "code",
    "code",
    "metadata",
    "code",
    "metadata",
    "parse-error",
    "code",
    "cosmetic",
    "code",
    "code",
]


def check_seed_applied_findings(seed: Seed, findings: list) -> None:  # type: ignore[type-arg]
    (modified,) = by_rule(findings, "FX201")
    assert modified.revision == M and modified.path == M_PATH
    assert list(modified.commits) == seed.edits
    assert seed.message_only not in modified.commits
    assert [c.kind for c in modified.changes] == KINDS
    assert [c.commit for c in modified.changes] == seed.edits
    assert modified.severity is Severity.HIGH and modified.confidence is Confidence.HIGH
    assert modified.deploys == ("dep-D",) and "dep-D" in modified.detail
    (rewired,) = by_rule(findings, "FX202")
    assert rewired.commits == (seed.rewire, seed.restore)
    facts = dict(rewired.facts)
    assert f"down_revision {BASE}" in facts[f"{seed.rewire[:8]} before"]
    assert "down_revision aaaa00000000" in facts[f"{seed.rewire[:8]} after"]
    assert f"down_revision {BASE}" in facts[f"{seed.restore[:8]} after"]
    assert not by_rule(findings, "FX203") and not by_rule(findings, "FX204")


@pytest.mark.rule("FX201", fires=True)
@pytest.mark.rule("FX202", fires=True)
@pytest.mark.rule("FX203", fires=False)
@pytest.mark.rule("FX204", fires=False)
def test_seed_production_from_the_live_deploy(seed: Seed) -> None:
    ctx, findings = analyse(seed.repo.path, [f"render:{seed.deploys_file}"])
    assert ctx.production.source == "deploy" and ctx.production.revisions == (NEXT,)
    assert set(ctx.production.applied) == {BASE, M, NEXT}
    check_seed_applied_findings(seed, findings)


def make_db(url: str, revisions: tuple[str, ...], tables: tuple[str, ...]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        for rev in revisions:
            conn.execute(sa.text("INSERT INTO alembic_version VALUES (:r)"), {"r": rev})
        for table in tables:
            conn.execute(sa.text(f"CREATE TABLE {table} (id INTEGER)"))
    engine.dispose()


@pytest.mark.rule("FX201", fires=True)
@pytest.mark.rule("FX202", fires=True)
@pytest.mark.rule("FX203", fires=False)
@pytest.mark.rule("FX204", fires=False)
def test_seed_production_from_sqlite(seed: Seed, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    make_db(url, (NEXT,), ("users", "deals"))
    ctx, findings = analyse(seed.repo.path, [f"render:{seed.deploys_file}"], db_url=url)
    assert ctx.production.source == "database" and ctx.production.revisions == (NEXT,)
    assert ctx.production.tables_expected == ("deals", "orders", "users")
    assert ctx.production.tables_present == ("alembic_version", "deals", "users")
    check_seed_applied_findings(seed, findings)


@pytest.mark.rule("FX201", fires=True)
@pytest.mark.rule("FX202", fires=True)
@pytest.mark.rule("FX203", fires=False)
@pytest.mark.rule("FX204", fires=False)
@pytest.mark.postgres
def test_seed_production_from_postgres(seed: Seed, postgres_url: str) -> None:
    make_db(postgres_url, (NEXT,), ("users", "deals", "orders"))
    ctx, findings = analyse(seed.repo.path, [f"render:{seed.deploys_file}"], db_url=postgres_url)
    assert ctx.production.source == "database" and ctx.production.revisions == (NEXT,)
    assert set(ctx.production.tables_expected or ()) <= set(ctx.production.tables_present or ())
    check_seed_applied_findings(seed, findings)


@pytest.mark.rule("FX201", fires=True)
def test_without_deploy_evidence_confidence_drops_and_says_so(seed: Seed) -> None:
    ctx, findings = analyse(seed.repo.path, [], prod_revisions=(NEXT,))
    assert ctx.production.source == "flag"
    (modified,) = by_rule(findings, "FX201")
    assert modified.confidence is Confidence.MEDIUM
    assert "No deploy or release tag shows when production applied it" in modified.detail
    assert list(modified.commits) == seed.edits  # every edit after the file was added


@pytest.mark.rule("FX204", fires=True)
def test_production_revision_missing(seed: Seed) -> None:
    _ctx, findings = analyse(seed.repo.path, [], prod_revisions=("ffffffffffff", NEXT))
    (missing,) = by_rule(findings, "FX204")
    assert missing.revision == "ffffffffffff" and "check the revision id" in missing.detail


@pytest.mark.rule("FX203", fires=True)
def test_applied_migration_removed(git_repo: Callable[..., RepoBuilder], tmp_path: Path) -> None:
    repo = git_repo()
    repo.commit(
        "schema",
        T0,
        files={
            "alembic/env.py": "\n",
            "alembic/versions/a.py": migration("a1", None),
            "alembic/versions/b.py": migration("b1", "a1"),
        },
    )
    deploys = tmp_path / "d.csv"
    deploys.write_text(f"id,commit,status,created_at\nd1,{repo.head()},live,2025-11-16T08:10:00Z\n")
    repo.delete("alembic/versions/a.py")
    gone = repo.commit("drop old migration", T0 + timedelta(hours=1))
    _ctx, findings = analyse(repo.path, [f"csv:{deploys}"])
    (removed,) = by_rule(findings, "FX203")
    assert removed.revision == "a1" and removed.commits == (gone,)
    assert removed.severity is Severity.HIGH


@pytest.mark.rule("FX201", fires=False)
@pytest.mark.rule("FX202", fires=False)
def test_unapplied_migrations_are_free_to_change(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    repo.commit(
        "schema", T0, files={"alembic/env.py": "\n", "alembic/versions/a.py": migration("a1", None)}
    )
    deploys = tmp_path / "d.csv"
    deploys.write_text(f"id,commit,status,created_at\nd1,{repo.head()},live,2025-11-16T08:10:00Z\n")
    repo.commit(
        "new", T0 + timedelta(hours=1), files={"alembic/versions/b.py": migration("b1", "a1")}
    )
    repo.commit(
        "edit new",
        T0 + timedelta(hours=2),
        files={"alembic/versions/b.py": migration("b1", "a1", body="    op.execute('x')")},
    )
    _ctx, findings = analyse(repo.path, [f"csv:{deploys}"])
    assert not by_rule(findings, "FX201") and not by_rule(findings, "FX202")


@pytest.mark.rule("FX201", fires=True)
@pytest.mark.rule("FX202", fires=False)
def test_tags_reformat_then_real_change(git_repo: Callable[..., RepoBuilder]) -> None:
    repo = git_repo()
    text = migration("a1", None, body="    op.create_table('t', sa.Column('id', sa.Integer()))")
    repo.commit("schema", T0, files={"alembic/env.py": "\n", "alembic/versions/a.py": text})
    repo.tag("v1.0", message="release", at=T0 + timedelta(minutes=30))
    black = repo.commit(
        "style: black",
        T0 + timedelta(hours=1),
        files={"alembic/versions/a.py": text.replace("'", '"')},
    )
    only_cosmetic = repo.head()
    code = repo.commit(
        "change it",
        T0 + timedelta(hours=2),
        files={"alembic/versions/a.py": text.replace("'id'", "'uuid'")},
    )
    repo.commit("unrelated", T0 + timedelta(hours=3), files={"README": "x"})

    ctx, findings = analyse(repo.path, ["tags:v*"])
    assert ctx.production.source == "tags" and ctx.production.revisions == ("a1",)
    (modified,) = by_rule(findings, "FX201")
    assert [(c.commit, c.kind) for c in modified.changes] == [(black, "cosmetic"), (code, "code")]
    assert modified.severity is Severity.HIGH and modified.deploys == ("tag:v1.0",)
    assert not by_rule(findings, "FX202")

    _ctx, findings = analyse(repo.path, ["tags:v*"], rev=only_cosmetic)
    (cosmetic,) = by_rule(findings, "FX201")
    assert cosmetic.severity is Severity.LOW and [c.kind for c in cosmetic.changes] == ["cosmetic"]
    assert "cosmetic only" in cosmetic.detail


def _versions(name: str) -> str:
    return f"alembic/versions/{name}"


@pytest.mark.rule("FX203", fires=False)
@pytest.mark.rule("FX201", fires=False)
def test_renames_before_and_after_a_release_are_not_removals(
    git_repo: Callable[..., RepoBuilder],
) -> None:
    repo = git_repo()
    repo.commit(
        "schema",
        T0,
        files={
            "alembic/env.py": "\n",
            _versions("a.py"): migration("a1", None),
            _versions("b.py"): migration("b1", "a1"),
        },
    )
    # Renamed before any release: the file that got released is the new one.
    repo.move(_versions("a.py"), _versions("0001_a1_init.py"))
    repo.commit("name migrations after their revision", T0 + timedelta(hours=1))
    repo.tag("v1.0", message="release", at=T0 + timedelta(hours=2))
    # Renamed after the release: Alembic finds it by revision id, nothing was removed.
    repo.move(_versions("b.py"), _versions("0002_b1_users.py"))
    repo.commit("rename the second one too", T0 + timedelta(hours=3))
    ctx, findings = analyse(repo.path, ["tags:v*"])
    assert not by_rule(findings, "FX203") and not by_rule(findings, "FX201")
    b1 = next(a for a in ctx.applied if a.revision == "b1")
    # The rename is followed back to the released path.
    assert b1.evidence == "tag" and b1.since_deploy == "tag:v1.0"
    assert b1.path == _versions("0002_b1_users.py") and b1.earlier_paths == (_versions("b.py"),)


@pytest.mark.rule("FX201", fires=True)
def test_an_edit_that_comes_with_a_rename_is_an_edit(git_repo: Callable[..., RepoBuilder]) -> None:
    repo = git_repo()
    repo.commit(
        "schema", T0, files={"alembic/env.py": "\n", _versions("a.py"): migration("a1", None)}
    )
    repo.tag("v1.0", message="release", at=T0 + timedelta(hours=1))
    repo.delete(_versions("a.py"))
    renamed = repo.commit(
        "rename and change",
        T0 + timedelta(hours=2),
        files={_versions("0001_a1.py"): migration("a1", None, body="    op.execute('x')")},
    )
    _ctx, findings = analyse(repo.path, ["tags:v*"])
    (modified,) = by_rule(findings, "FX201")
    assert [(c.commit, c.kind) for c in modified.changes] == [(renamed, "code")]
    assert modified.severity is Severity.HIGH and not by_rule(findings, "FX203")


@pytest.mark.rule("FX203", fires=True)
def test_a_squash_after_a_release_removes_every_released_migration(
    git_repo: Callable[..., RepoBuilder],
) -> None:
    repo = git_repo()
    released = [f"r{i:02d}" for i in range(1, 13)]
    files: dict[str, str | bytes] = {"alembic/env.py": "\n"}
    for i, rev in enumerate(released):
        files[_versions(f"{rev}.py")] = migration(rev, released[i - 1] if i else None)
    repo.commit("twelve migrations", T0, files=files)
    repo.tag("v1.0", message="release", at=T0 + timedelta(hours=1))
    # Added after the release and deleted by the squash: never released, so never applied.
    repo.commit(
        "one more",
        T0 + timedelta(hours=2),
        files={_versions("r13.py"): migration("r13", "r12")},
    )
    for rev in [*released, "r13"]:
        repo.delete(_versions(f"{rev}.py"))
    squash = repo.commit(
        "squash migrations",
        T0 + timedelta(hours=3),
        files={_versions("s1.py"): migration("s1", None)},
    )
    repo.tag("v2.0", message="release", at=T0 + timedelta(hours=4))
    ctx, findings = analyse(repo.path, ["tags:v*"])
    # Production's heads (at v2.0) descend from none of the squashed revisions.
    assert ctx.production.revisions == ("s1",)
    removed = by_rule(findings, "FX203")
    assert sorted(f.revision for f in removed) == released
    for finding in removed:
        assert finding.commits == (squash,) and finding.deploys == ("tag:v1.0",)
        assert "release tag tag:v1.0" in finding.detail and finding.severity is Severity.HIGH
        assert finding.detail.endswith("The same commit added s1.")


@pytest.mark.rule("FX203", fires=False)
def test_a_migration_deleted_before_any_deploy_held_it_is_no_removal(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    live = repo.commit(
        "schema", T0, files={"alembic/env.py": "\n", _versions("a.py"): migration("a1", None)}
    )
    repo.commit(
        "try something",
        T0 + timedelta(hours=1),
        files={_versions("b.py"): migration("b1", "a1")},
    )
    repo.delete(_versions("b.py"))
    repo.commit("drop the experiment", T0 + timedelta(hours=2))
    deploys = tmp_path / "d.csv"
    deploys.write_text(f"id,commit,status,created_at\nd1,{live},live,2025-11-16T08:10:00Z\n")
    _ctx, findings = analyse(repo.path, [f"csv:{deploys}"])
    assert not by_rule(findings, "FX203")
