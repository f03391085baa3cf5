"""The graph over first-parent history: events open and resolve at exactly the right commits,
every migration change gets its kind, merged changes name the commits that made them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forensics.analysis.graph_history import events_between, walk
from forensics.errors import Diagnostics
from forensics.gitbuild import RepoBuilder
from forensics.model.migrations import ChangeKind, GraphHistory
from forensics.pipeline import load_graphs, load_history
from forensics.sources.alembic_files import read_migration
from forensics.sources.git import GitSource

T0 = datetime(2025, 11, 13, 9, 0, tzinfo=UTC)
V = "migrations/versions"


def at(step: int) -> datetime:
    return T0 + timedelta(minutes=10 * step)


def _history(repo: RepoBuilder) -> GraphHistory:
    git = GitSource(repo.path)
    diag = Diagnostics()
    envs, _states = load_graphs(git, "HEAD", (), diag)
    return load_history(git, "HEAD", envs, diag)


@pytest.fixture
def chain(git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]) -> RepoBuilder:
    repo = git_repo()
    repo.commit(
        "a",
        at(0),
        files={"migrations/env.py": "", f"{V}/a.py": make_migration("a", None)},
    )
    repo.commit("b", at(1), files={f"{V}/b.py": make_migration("b", "a")})
    repo.commit("c", at(2), files={f"{V}/c.py": make_migration("c", "b")})
    return repo


def test_syntax_break_opens_and_fix_resolves(
    chain: RepoBuilder, make_migration: Callable[..., str]
) -> None:
    good = make_migration("b", "a")
    broken = chain.commit("break b", at(3), files={f"{V}/b.py": good.replace("):", ")", 1)})
    chain.commit("unrelated", at(4), files={"README.md": "hi"})
    other = chain.commit("touch c", at(5), files={f"{V}/c.py": make_migration("c", "b") + "\n"})
    fixed = chain.commit("fix b", at(6), files={f"{V}/b.py": good})
    history = _history(chain)
    [event] = history.events
    assert (event.kind, event.rule, event.path) == ("parse-error", "FX105", f"{V}/b.py")
    assert event.commit == broken and event.at == at(3)
    assert event.resolved_by == fixed and event.resolved_at == at(6)
    assert [p.commit for p in history.points][-3:] == [broken, other, fixed]
    assert history.point_at(broken) is not None and history.point_at(broken).broken  # type: ignore[union-attr]
    kinds = [(c.commit, c.path, c.kind) for c in history.changes]
    assert (broken, f"{V}/b.py", ChangeKind.PARSE_ERROR) in kinds
    assert (other, f"{V}/c.py", ChangeKind.COSMETIC) in kinds
    assert (fixed, f"{V}/b.py", ChangeKind.CODE) in kinds
    assert [c.kind for c in history.changes[:3]] == [ChangeKind.ADDED] * 3


def test_down_revision_rewired_then_restored(
    chain: RepoBuilder, make_migration: Callable[..., str]
) -> None:
    rewired = chain.commit("rewire", at(3), files={f"{V}/c.py": make_migration("c", "a")})
    restored = chain.commit("restore", at(4), files={f"{V}/c.py": make_migration("c", "b")})
    history = _history(chain)
    [event] = history.events
    assert event.kind == "multiple-heads"
    assert (event.commit, event.resolved_by) == (rewired, restored)
    changes = [c for c in history.changes if c.commit in (rewired, restored)]
    assert [c.kind for c in changes] == [ChangeKind.METADATA, ChangeKind.METADATA]
    assert changes[0].before is not None and changes[0].before.down_revisions == ("b",)
    assert changes[0].after is not None and changes[0].after.down_revisions == ("a",)
    heads = [dict(p.heads)["migrations"] for p in history.points]
    assert heads == [("a",), ("b",), ("c",), ("b", "c"), ("c",)]


def test_second_head_then_merge_revision(
    chain: RepoBuilder, make_migration: Callable[..., str]
) -> None:
    split = chain.commit("d", at(3), files={f"{V}/d.py": make_migration("d", "b")})
    merged = chain.commit(
        "merge heads", at(8), files={f"{V}/m.py": make_migration("m", ("c", "d"))}
    )
    history = _history(chain)
    [event] = history.events
    assert (event.kind, event.commit, event.resolved_by) == ("multiple-heads", split, merged)
    assert event.resolved_at is not None and event.resolved_at - event.at == timedelta(minutes=50)
    assert events_between(history.events, at(9), None) == []
    assert events_between(history.events, at(4), at(5)) == [event]


def test_open_event_and_deleted_file(chain: RepoBuilder) -> None:
    chain.delete(f"{V}/b.py")
    gone = chain.commit("drop b", at(3))
    history = _history(chain)
    [event] = history.events
    assert event.kind == "missing-parent" and event.commit == gone and event.resolved_by is None
    [change] = [c for c in history.changes if c.commit == gone]
    assert change.kind is ChangeKind.DELETED and change.revision == "b"


def test_rename_is_deleted_plus_added(chain: RepoBuilder) -> None:
    chain.move(f"{V}/b.py", f"{V}/0002_b.py")
    moved = chain.commit("rename", at(3))
    history = _history(chain)
    changes = [(c.path, c.kind, c.old_path) for c in history.changes if c.commit == moved]
    assert changes == [
        (f"{V}/b.py", ChangeKind.DELETED, None),
        (f"{V}/0002_b.py", ChangeKind.ADDED, f"{V}/b.py"),
    ]
    assert history.events == ()


def test_merge_is_attributed_to_the_commits_it_brought(
    chain: RepoBuilder, make_migration: Callable[..., str]
) -> None:
    chain.checkout("feature", create=True)
    first = chain.commit(
        "edit b", at(3), files={f"{V}/b.py": make_migration("b", "a", body="    op.x()")}
    )
    chain.commit("docs", at(4), files={"docs.md": "x"})
    second = chain.commit(
        "edit b again", at(5), files={f"{V}/b.py": make_migration("b", "a", body="    op.y()")}
    )
    chain.checkout("main")
    merge = chain.merge("feature", "Merge feature", at(6))
    history = _history(chain)
    changes = [c for c in history.changes if c.commit == merge]
    assert [(c.authors, c.kind, c.merge) for c in changes] == [
        ((first,), ChangeKind.CODE, merge),
        ((second,), ChangeKind.CODE, merge),
    ]
    assert all(p.commit not in (first, second) for p in history.points)


def test_a_merge_gives_each_commit_it_brought_its_own_kind(
    chain: RepoBuilder, make_migration: Callable[..., str]
) -> None:
    """A formatter sweep and a real edit arrive through one merge: the sweep stays cosmetic,
    the edit is code, and the merge stands beside both."""
    chain.checkout("feature", create=True)
    swept = make_migration("b", "a").replace(
        "from alembic import op", "from alembic import op  # x"
    )
    sweep = chain.commit("style: black", at(3), files={f"{V}/b.py": swept.replace('"', "'")})
    edit = chain.commit(
        "real change", at(4), files={f"{V}/c.py": make_migration("c", "b", body="    op.x()")}
    )
    also = chain.commit("docs", at(5), files={"README.md": "x"})
    chain.checkout("main")
    merge = chain.merge("feature", "Merge feature", at(6))
    history = _history(chain)
    mine = {c.path: (c.authors, c.kind, c.merge) for c in history.changes if c.commit == merge}
    assert mine == {
        f"{V}/b.py": ((sweep,), ChangeKind.COSMETIC, merge),
        f"{V}/c.py": ((edit,), ChangeKind.CODE, merge),
    }
    assert all(also not in c.authors for c in history.changes)


def test_one_commit_brought_by_a_merge_is_judged_against_its_own_parent(
    chain: RepoBuilder, make_migration: Callable[..., str]
) -> None:
    """Two commits on one file: a real edit, then a reformat of it. The merge's overall
    change is code, but the reformat alone is cosmetic."""
    chain.checkout("feature", create=True)
    edited = make_migration("b", "a", body="    op.x()")
    edit = chain.commit("edit", at(3), files={f"{V}/b.py": edited})
    sweep = chain.commit("format", at(4), files={f"{V}/b.py": edited.replace("'", '"')})
    chain.checkout("main")
    merge = chain.merge("feature", "Merge feature", at(6))
    history = _history(chain)
    kinds = [(c.authors, c.kind) for c in history.changes if c.commit == merge]
    assert kinds == [((edit,), ChangeKind.CODE), ((sweep,), ChangeKind.COSMETIC)]


def test_merge_attribution_costs_the_same_git_processes_whatever_the_number_of_merges(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str], tmp_path: Path
) -> None:
    repo = git_repo()
    repo.commit(
        "base", at(0), files={"migrations/env.py": "", f"{V}/a.py": make_migration("a", None)}
    )
    down = "a"
    for n in range(6):
        repo.checkout(f"f{n}", create=True)
        repo.commit(
            f"add m{n}", at(2 * n + 1), files={f"{V}/m{n}.py": make_migration(f"m{n}", down)}
        )
        repo.checkout("main")
        repo.merge(f"f{n}", f"Merge f{n}", at(2 * n + 2))
        down = f"m{n}"
    trace = tmp_path / "trace"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_TRACE2_EVENT", str(trace))
        history = _history(repo)
    merged = [c for c in history.changes if c.merge]
    assert len(merged) == 6 and all(len(c.authors) == 1 for c in merged)
    started = [json.loads(line) for line in trace.read_text().splitlines()]
    commands = [e["argv"][1] for e in started if e.get("event") == "start"]
    # the first-parent chain, the branches, the commits that changed env.py or an ini file
    assert commands.count("log") == 3 and commands.count("rev-list") == 1


def test_walk_with_initial_baseline(chain: RepoBuilder, make_migration: Callable[..., str]) -> None:
    git = GitSource(chain.path)
    envs, _ = load_graphs(git, "HEAD", (), Diagnostics())
    start = {e.path: e.blob for e in git.tree("HEAD")}
    chain.commit("dup", at(3), files={f"{V}/b2.py": make_migration("b", "a")})
    commits = list(reversed(git.log("HEAD", first_parent=True)))[-1:]

    def load(path: str, blob: str) -> object:
        return read_migration(path, git.read_blob(blob) or b"", blob=blob)

    history = walk(envs, commits, load, initial=start)  # type: ignore[arg-type]
    [event] = history.events
    assert event.kind == "duplicate-revision" and event.commit == commits[0].sha
    assert len(history.points) == 1


def moved_folder(repo: RepoBuilder, migration: Callable[..., str]) -> dict[str, str]:
    """Years in ``migrations/versions`` with a problem that opens and one that stays open,
    then ``migrations/`` and the ini move under ``pkg/`` (a 100% rename of every file)."""
    ini = "[alembic]\nscript_location = migrations\n"
    shas = {
        "start": repo.commit(
            "start",
            at(0),
            files={
                "alembic.ini": ini,
                "migrations/env.py": "from alembic import context\n",
                f"{V}/a.py": migration("a", None),
            },
        )
    }
    shas["orphan"] = repo.commit("c on a typo", at(1), files={f"{V}/c.py": migration("c", "zz")})
    repo.commit("b", at(2), files={f"{V}/b.py": migration("b", "a")})
    shas["joined"] = repo.commit("m", at(3), files={f"{V}/m.py": migration("m", ("b", "a2"))})
    repo.commit("a2", at(4), files={f"{V}/a2.py": migration("a2", "a")})
    repo.move("migrations", "pkg/migrations")
    repo.move("alembic.ini", "pkg/alembic.ini")
    shas["move"] = repo.commit("move migrations into the package", at(5))
    shas["after"] = repo.commit(
        "d", at(6), files={"pkg/migrations/versions/d.py": migration("d", "m")}
    )
    return shas


def test_history_follows_a_moved_versions_folder(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    shas = moved_folder(repo, make_migration)
    history = _history(repo)
    assert history.points[0].commit == shas["start"]
    assert {name for p in history.points for name, _heads in p.heads} == {"pkg/migrations"}
    # the problem of the old era opens where it happened and stays open, under its new path
    orphan, healed = [e for e in history.events if e.kind == "missing-parent"]
    assert (orphan.commit, orphan.resolved_by) == (shas["orphan"], None)
    assert orphan.path == "pkg/migrations/versions/c.py"
    assert (healed.commit, healed.revision) == (shas["joined"], "m") and healed.resolved_by
    assert all(e.commit != shas["move"] and e.resolved_by != shas["move"] for e in history.events)
    moved = [c for c in history.changes if c.commit == shas["move"]]
    assert {(c.kind, c.path, c.old_path) for c in moved if c.kind is ChangeKind.ADDED} == {
        (ChangeKind.ADDED, f"pkg/{V}/{n}.py", f"{V}/{n}.py") for n in ("a", "a2", "b", "c", "m")
    }
    assert {c.environment for c in history.changes} == {"pkg/migrations"}
    assert dict(history.points[-1].heads)["pkg/migrations"] == ("c", "d")
