"""The revision graph: heads, bases, branch and merge points, problems, queries.

Each case is a real repository read through the pipeline (git objects, static reader)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.analysis.graph import GraphTracker, ancestors, build_state, topological
from forensics.errors import Diagnostics
from forensics.gitbuild import RepoBuilder
from forensics.model.migrations import Environment, GraphState, MigrationFile, ParseError
from forensics.pipeline import load_graphs
from forensics.sources.git import GitSource

AT = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)
V = "migrations/versions"
Builder = Callable[[dict[str, str]], GraphState]


@pytest.fixture
def graph(git_repo: Callable[..., RepoBuilder]) -> Builder:
    def build(files: dict[str, str]) -> GraphState:
        repo = git_repo()
        repo.commit("setup", AT, files={"migrations/env.py": "", **files})
        _envs, states = load_graphs(GitSource(repo.path), "HEAD", (), Diagnostics())
        assert len(states) == 1
        return states[0]

    return build


def _rules(state: GraphState) -> list[str]:
    return sorted(p.rule for p in state.problems)


def test_linear_chain(graph: Builder, make_migration: Callable[..., str]) -> None:
    state = graph(
        {
            f"{V}/a.py": make_migration("a", None),
            f"{V}/b.py": make_migration("b", "a"),
            f"{V}/c.py": make_migration("c", "b"),
        }
    )
    assert state.heads == ("c",) and state.bases == ("a",)
    assert state.branch_points == () and state.merge_points == ()
    assert state.problems == ()
    assert topological(state) == ["a", "b", "c"]
    assert [m.revision for m in state.migrations] == ["a", "b", "c"]
    assert ancestors(state, ["b"]) == {"a", "b"}
    assert ancestors(state, ["c", "unknown"]) == {"a", "b", "c"}


def test_branch_and_merge_revision(graph: Builder, make_migration: Callable[..., str]) -> None:
    state = graph(
        {
            f"{V}/a.py": make_migration("a", None),
            f"{V}/b.py": make_migration("b", "a"),
            f"{V}/c.py": make_migration("c", "a"),
            f"{V}/m.py": make_migration("m", ("b", "c")),
        }
    )
    assert state.heads == ("m",)
    assert state.branch_points == ("a",) and state.merge_points == ("m",)
    assert state.problems == ()
    assert ancestors(state, ["m"]) == {"a", "b", "c", "m"}


def test_two_unlabelled_heads(graph: Builder, make_migration: Callable[..., str]) -> None:
    state = graph(
        {
            f"{V}/a.py": make_migration("a", None),
            f"{V}/b.py": make_migration("b", "a"),
            f"{V}/c.py": make_migration("c", "a"),
        }
    )
    assert state.heads == ("b", "c")
    [problem] = state.problems
    assert (problem.rule, problem.name, problem.kind) == (
        "FX101",
        "multiple-heads",
        "multiple-heads",
    )
    assert "b, c" in problem.detail


def test_labelled_expand_contract_heads_are_fine(
    graph: Builder, make_migration: Callable[..., str]
) -> None:
    state = graph(
        {
            f"{V}/base.py": make_migration("base", None),
            f"{V}/e1.py": make_migration("e1", "base", branch_labels="('expand',)"),
            f"{V}/e2.py": make_migration("e2", "e1"),
            f"{V}/c1.py": make_migration("c1", "base", branch_labels="('contract',)"),
        }
    )
    assert state.heads == ("c1", "e2")
    assert state.problems == ()


def test_same_label_on_both_heads_is_still_multiple_heads(
    graph: Builder, make_migration: Callable[..., str]
) -> None:
    state = graph(
        {
            f"{V}/e1.py": make_migration("e1", None, branch_labels="('expand',)"),
            f"{V}/e2.py": make_migration("e2", "e1"),
            f"{V}/e3.py": make_migration("e3", "e1"),
        }
    )
    assert _rules(state) == ["FX101"]


def test_duplicate_revision_names_both_files(
    graph: Builder, make_migration: Callable[..., str]
) -> None:
    state = graph(
        {
            f"{V}/a.py": make_migration("a", None),
            f"{V}/b_one.py": make_migration("b", "a"),
            f"{V}/b_two.py": make_migration("b", "a", message="again"),
        }
    )
    [problem] = state.problems
    assert problem.rule == "FX102" and problem.revision == "b"
    assert f"{V}/b_one.py" in problem.detail and f"{V}/b_two.py" in problem.detail


def test_dangling_down_revision_and_depends_on(
    graph: Builder, make_migration: Callable[..., str]
) -> None:
    state = graph(
        {
            f"{V}/a.py": make_migration("a", None),
            f"{V}/b.py": make_migration("b", "gone"),
            f"{V}/c.py": make_migration("c", "a", depends_on="'nowhere'"),
        }
    )
    problems = {p.revision: p for p in state.problems}
    # b is cut off by its missing parent: not a second head on top of FX103
    assert _rules(state) == ["FX103", "FX103"]
    assert "gone" in problems["b"].detail and "nowhere" in problems["c"].detail
    assert problems["b"].path == f"{V}/b.py"


def test_cycle(graph: Builder, make_migration: Callable[..., str]) -> None:
    state = graph(
        {
            f"{V}/a.py": make_migration("a", None),
            f"{V}/b.py": make_migration("b", ("a", "c")),
            f"{V}/c.py": make_migration("c", "b"),
        }
    )
    cycles = [p for p in state.problems if p.rule == "FX104"]
    assert len(cycles) == 1 and cycles[0].kind == "cycle"
    assert "b, c" in cycles[0].detail
    assert set(topological(state)) == {"a", "b", "c"}
    assert ancestors(state, ["c"]) == {"a", "b", "c"}


def test_unparseable_missing_and_unresolved(
    graph: Builder, make_migration: Callable[..., str]
) -> None:
    state = graph(
        {
            f"{V}/a.py": make_migration("a", None),
            f"{V}/broken.py": "revision = 'x'\ndef upgrade(:\n",
            f"{V}/norev.py": make_migration(None, "a"),
            f"{V}/odd.py": make_migration("odd", "a").replace(
                "branch_labels = None", "branch_labels = make()"
            ),
        }
    )
    by_rule = {p.rule: p for p in state.problems}
    assert sorted(by_rule) == ["FX105", "FX106", "FX107"]
    assert by_rule["FX105"].line == 2 and by_rule["FX105"].path == f"{V}/broken.py"
    assert by_rule["FX106"].path == f"{V}/norev.py" and by_rule["FX106"].kind == "missing-revision"
    assert by_rule["FX107"].revision == "odd" and by_rule["FX107"].kind == "unresolved-metadata"


def test_annotated_template(graph: Builder, make_migration: Callable[..., str]) -> None:
    state = graph(
        {
            f"{V}/a.py": make_migration("a", None, annotated=True),
            f"{V}/b.py": make_migration("b", "a", annotated=True),
        }
    )
    assert state.heads == ("b",) and state.bases == ("a",) and state.problems == ()


# -- the tracker the history walk uses gives what build_state gives ---------------------------
_NAMES = ["a", "b", "c", "d", "e"]
_files = st.builds(
    MigrationFile,
    path=st.sampled_from([f"{V}/{n}.py" for n in range(6)]),
    revision=st.sampled_from([*_NAMES, None]),
    down_revisions=st.lists(st.sampled_from([*_NAMES, "zz"]), max_size=2).map(tuple),
    depends_on=st.lists(st.sampled_from([*_NAMES, "lbl"]), max_size=1).map(tuple),
    branch_labels=st.lists(st.sampled_from(["lbl", "x"]), max_size=1).map(tuple),
    unresolved=st.sampled_from([(), ("depends_on",), ("revision",)]),
    doc_revision=st.sampled_from([*_NAMES, None]),
    doc_revises=st.sampled_from([None, ("a",), ("b",)]),
    parse_error=st.sampled_from([None, None, None, ParseError("invalid syntax", 3)]),
)
_steps = st.lists(
    st.tuples(st.sampled_from([f"{V}/{n}.py" for n in range(6)]), st.none() | _files),
    max_size=25,
)


def _normal(m: MigrationFile) -> MigrationFile:
    # read_migration never keeps a revision for a file that does not parse
    return dataclasses.replace(m, revision=None) if m.parse_error else m


@settings(max_examples=300, deadline=None)
@given(steps=_steps)
def test_tracker_matches_a_whole_rebuild_after_every_step(
    steps: list[tuple[str, MigrationFile | None]],
) -> None:
    env = Environment("migrations", "migrations", (V,))
    tracker = GraphTracker(env)
    files: dict[str, MigrationFile] = {}
    for path, file in steps:
        if file is None:
            files.pop(path, None)
            tracker.put(path, None)
        else:
            files[path] = _normal(dataclasses.replace(file, path=path))
            tracker.put(path, files[path])
        state = build_state(env, [files[p] for p in sorted(files)])
        heads, problems = tracker.snapshot()
        assert heads == state.heads
        assert sorted(problems, key=repr) == sorted(state.problems, key=repr)


def test_tracker_on_a_long_chain_and_a_cycle() -> None:
    env = Environment("m", "m", (V,))
    tracker = GraphTracker(env)
    down: tuple[str, ...] = ()
    for n in range(2000):
        tracker.put(f"{V}/{n}.py", MigrationFile(f"{V}/{n}.py", f"r{n}", down))
        down = (f"r{n}",)
    assert tracker.snapshot() == (("r1999",), ())
    tracker.put(f"{V}/0.py", MigrationFile(f"{V}/0.py", "r0", ("r1999",)))
    heads, problems = tracker.snapshot()
    assert heads == () and [p.rule for p in problems] == ["FX104"]
    tracker.put(f"{V}/0.py", MigrationFile(f"{V}/0.py", "r0", ()))
    assert tracker.snapshot() == (("r1999",), ())
