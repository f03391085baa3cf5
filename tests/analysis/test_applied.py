"""What production has applied, and since when, over model objects."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from forensics.analysis.applied import (
    application_points,
    applied_set,
    edited_after,
    follow_renames,
    heads_of,
    point_as_of,
    production_revisions,
    tables_expected,
)
from forensics.analysis.graph import build_state
from forensics.model.deploys import AppliedMigration, Deploy, DeployCategory
from forensics.model.migrations import (
    ChangeKind,
    Environment,
    GraphHistory,
    HistoryPoint,
    MigrationChange,
    MigrationFile,
    TableOps,
)

T0 = datetime(2025, 11, 16, 9, 0, tzinfo=UTC)
ENV = Environment(name="alembic", script_location="alembic", versions_dirs=("alembic/versions",))


def mig(
    rev: str,
    down: tuple[str, ...] = (),
    tables: TableOps | None = None,
    depends: tuple[str, ...] = (),
) -> MigrationFile:
    return MigrationFile(
        path=f"alembic/versions/{rev}.py",
        revision=rev,
        down_revisions=down,
        depends_on=depends,
        tables=tables or TableOps(),
    )


STATE = build_state(
    ENV,
    [
        mig("a", tables=TableOps(create=("users", "tmp"))),
        mig("b", ("a",), TableOps(create=("orders",), drop=("tmp",))),
        mig("c", ("b",), TableOps(rename=(("orders", "purchases"),))),
        mig("x", ("a",), depends=("b",)),
        mig("d", ("c", "x"), TableOps(create=("audit",))),
    ],
)


def dep(
    ident: str, category: DeployCategory, minute: int, commit: str | None, source: str = "render:f"
) -> Deploy:
    return Deploy(
        id=ident,
        status=category.value,
        category=category,
        source=source,
        created_at=T0 + timedelta(minutes=minute),
        commit=commit,
        commit_known=commit is not None,
    )


def test_sources_in_order() -> None:
    def heads(commit: str) -> tuple[str, ...]:
        return {"c-live": ("c",), "c-tag": ("b",)}[commit]

    deploys = [
        dep("old", DeployCategory.SUPERSEDED, 0, "c-old"),
        dep("live", DeployCategory.LIVE, 10, "c-live"),
        dep("bad", DeployCategory.FAILED, 20, "c-bad"),
        dep("ghost", DeployCategory.LIVE, 30, None),
        dep("tag:v1", DeployCategory.LIVE, 40, "c-tag", source="tags:v*"),
    ]
    db = production_revisions(
        heads, database=["d"], database_url="sqlite:///x", flags=["c"], deploys=deploys
    )
    assert (db.revisions, db.source, db.database) == (("d",), "database", "sqlite:///x")
    flag = production_revisions(heads, flags=["c", " c ", "b"], deploys=deploys)
    assert (flag.revisions, flag.source) == (("c", "b"), "flag")
    by_deploy = production_revisions(heads, deploys=deploys)
    assert (by_deploy.revisions, by_deploy.source, by_deploy.deploy, by_deploy.commit) == (
        ("c",),
        "deploy",
        "live",
        "c-live",
    )
    by_tag = production_revisions(heads, deploys=[deploys[2], deploys[4]])
    assert (by_tag.revisions, by_tag.source, by_tag.deploy) == (("b",), "tags", "tag:v1")
    assert production_revisions(heads, deploys=[deploys[2]]).source == "unknown"


def test_applied_set_follows_down_revisions_and_depends_on() -> None:
    assert applied_set([STATE], ["x"]) == {"a", "b", "x"}
    assert applied_set([STATE], ["c"]) == {"a", "b", "c"}
    assert applied_set([STATE], ["gone-from-tree"]) == {"gone-from-tree"}
    assert applied_set([STATE], []) == set()


def test_applied_set_keeps_deleted_files_and_their_parents() -> None:
    # z was deleted from the tree; y (present) still names it, and z names w (deleted too)
    state = build_state(ENV, [mig("y", ("z",))])
    removed = [mig("z", ("w",)), mig("w"), mig("unrelated")]
    assert applied_set([state], ["y"], removed) == {"y", "z", "w"}


def test_application_points_take_the_first_successful_deploy_holding_the_file() -> None:
    trees = {"c1": {"a", "b"}, "c2": {"a", "b", "c"}, "c3": {"a", "b", "c", "d", "x"}}
    times = {"c1": T0 - timedelta(hours=3), "c2": T0 - timedelta(hours=2), "c3": T0}

    def exists(commit: str, path: str) -> str | None:
        rev = path.rsplit("/", 1)[1][:-3]
        return f"blob-{rev}-{commit}" if rev in trees[commit] else None

    deploys = [
        dep("failed-first", DeployCategory.FAILED, 0, "c3"),
        dep("d2", DeployCategory.LIVE, 20, "c2"),
        dep("d1", DeployCategory.SUPERSEDED, 10, "c1"),
        dep("t3", DeployCategory.LIVE, 30, "c3", source="tags:v*"),
    ]
    points = {
        p.revision: p
        for p in application_points([STATE], {"a", "b", "c", "x", "d"}, deploys, exists, times.get)
    }
    assert points["a"].since_deploy == "d1" and points["a"].content_blob == "blob-a-c1"
    assert points["a"].since_commit_at == times["c1"] and points["a"].evidence == "deploy"
    assert points["a"].since_at == T0 + timedelta(minutes=10)
    assert points["c"].since_deploy == "d2"
    assert (points["d"].since_deploy, points["d"].evidence) == ("t3", "tag")
    none = application_points([STATE], {"a"}, [], exists, times.get)
    assert none == (
        AppliedMigration(revision="a", path="alembic/versions/a.py", environment="alembic"),
    )


def test_edited_after() -> None:
    applied = AppliedMigration(
        revision="a",
        path="p.py",
        environment="alembic",
        evidence="deploy",
        since_commit="c1",
        since_commit_at=T0,
    )

    def ch(
        commit: str, minutes: int, kind: ChangeKind = ChangeKind.CODE, path: str = "p.py"
    ) -> MigrationChange:
        return MigrationChange(
            commit=commit,
            at=T0 + timedelta(minutes=minutes),
            path=path,
            kind=kind,
            revision="a",
            environment="alembic",
        )

    assert edited_after(ch("c2", 1), applied)
    assert not edited_after(ch("c1", 0), applied)
    assert not edited_after(ch("c0", -1), applied)
    assert not edited_after(ch("c2", 1, path="other.py"), applied)
    blind = AppliedMigration(revision="a", path="p.py", environment="alembic")
    assert edited_after(ch("c0", -1), blind)
    assert not edited_after(ch("c0", -5, ChangeKind.ADDED), blind)


def test_tables_expected_replays_create_drop_rename() -> None:
    assert tables_expected([STATE], {"a", "b", "c"}) == ("purchases", "users")
    assert tables_expected([STATE], {"a", "b", "c", "x", "d"}) == ("audit", "purchases", "users")
    assert tables_expected([STATE], {"a"}) == ("tmp", "users")


def test_point_as_of_and_heads() -> None:
    history = GraphHistory(
        points=(
            HistoryPoint("p1", T0, (("alembic", ("a",)),), ()),
            HistoryPoint(
                "p2", T0 + timedelta(hours=1), (("alembic", ("b",)), ("plugin", ("q",))), ()
            ),
        )
    )
    assert point_as_of(history, "p1", None) is history.points[0]
    assert point_as_of(history, "other", T0 + timedelta(minutes=30)) is history.points[0]
    assert point_as_of(history, "other", T0 - timedelta(minutes=1)) is None
    assert point_as_of(history, "other", None) is None
    assert heads_of(history.points[1]) == ("b", "q")
    assert heads_of(None) == ()


def _change(
    commit: str,
    hours: int,
    kind: ChangeKind,
    path: str,
    revision: str,
    *,
    old_path: str | None = None,
    blobs: tuple[str | None, str | None] = (None, None),
    before: MigrationFile | None = None,
    after: MigrationFile | None = None,
) -> MigrationChange:
    return MigrationChange(
        commit=commit,
        at=T0 + timedelta(hours=hours),
        path=path,
        kind=kind,
        revision=revision,
        old_blob=blobs[0],
        new_blob=blobs[1],
        old_path=old_path,
        environment=ENV.name,
        before=before,
        after=after,
    )


def test_removed_revisions_need_a_deploy_between_their_addition_and_deletion() -> None:
    # "gone" was added at c1, held by deploy d1 (c2), deleted at c3; "brief" was added and
    # deleted between deploys; "moved" was renamed, so it is not removed.
    state = build_state(ENV, [mig("a"), MigrationFile("alembic/versions/0001_moved.py", "moved")])
    changes = [
        _change("c1", 1, ChangeKind.ADDED, "alembic/versions/gone.py", "gone"),
        _change("c1", 1, ChangeKind.ADDED, "alembic/versions/moved.py", "moved"),
        _change("c3", 3, ChangeKind.DELETED, "alembic/versions/gone.py", "gone"),
        _change("c4", 4, ChangeKind.ADDED, "alembic/versions/brief.py", "brief"),
        _change("c5", 5, ChangeKind.DELETED, "alembic/versions/brief.py", "brief"),
        _change("c5", 5, ChangeKind.DELETED, "alembic/versions/moved.py", "moved"),
        _change(
            "c5",
            5,
            ChangeKind.ADDED,
            "alembic/versions/0001_moved.py",
            "moved",
            old_path="alembic/versions/moved.py",
        ),
    ]
    times = {f"c{i}": T0 + timedelta(hours=i) for i in range(1, 7)}
    trees = {
        "c2": {"alembic/versions/gone.py", "alembic/versions/moved.py"},
        "c6": {"alembic/versions/0001_moved.py", "alembic/versions/brief.py"},
    }
    asked: list[tuple[str, str]] = []

    def exists(commit: str, path: str) -> str | None:
        asked.append((commit, path))
        return f"blob:{commit}:{path}" if path in trees.get(commit, set()) else None

    deploys = [dep("d1", DeployCategory.LIVE, 120, "c2"), dep("d2", DeployCategory.LIVE, 360, "c6")]
    points = {
        p.revision: p
        for p in application_points([state], {"a", "moved"}, deploys, exists, times.get, changes)
    }
    assert sorted(points) == ["a", "gone", "moved"]
    assert points["gone"].removed and points["gone"].since_deploy == "d1"
    assert points["gone"].content_blob == "blob:c2:alembic/versions/gone.py"
    # The rename is followed back to the path deploy d1 held.
    assert not points["moved"].removed and points["moved"].since_deploy == "d1"
    assert points["moved"].earlier_paths == ("alembic/versions/moved.py",)
    # Deploy d2 (c6, after the deletion of "brief") is never asked about "brief".
    assert ("c6", "alembic/versions/brief.py") not in asked
    # Without deploys, a removed revision counts only when production descends from it.
    bare = application_points([state], {"a", "gone"}, [], exists, times.get, changes)
    assert [(p.revision, p.removed, p.evidence) for p in bare] == [
        ("a", False, "none"),
        ("gone", True, "none"),
    ]


def test_follow_renames_and_edits_under_earlier_paths() -> None:
    old = mig("a")
    edited = MigrationFile(
        "alembic/versions/0001_a.py", "a", text_fingerprint="t2", body_fingerprint="new"
    )
    pure = [
        _change("c2", 2, ChangeKind.DELETED, old.path, "a", blobs=("b1", None), before=old),
        _change(
            "c2",
            2,
            ChangeKind.ADDED,
            "alembic/versions/0001_a.py",
            "a",
            old_path=old.path,
            blobs=("b1", "b1"),
            after=old,
        ),
    ]
    point = AppliedMigration(
        "a",
        "alembic/versions/0001_a.py",
        ENV.name,
        "deploy",
        since_commit="c1",
        since_commit_at=T0,
        earlier_paths=(old.path,),
    )
    followed = follow_renames(pure)
    assert followed[1].kind is ChangeKind.ADDED and not edited_after(followed[1], point)
    changed = [pure[0], dataclasses.replace(pure[1], new_blob="b2", after=edited)]
    assert follow_renames(changed)[1].kind is ChangeKind.CODE
    assert edited_after(follow_renames(changed)[1], point)
    # An edit under the old path, after the application point, counts too.
    assert edited_after(_change("c1b", 1, ChangeKind.CODE, old.path, "a"), point)
