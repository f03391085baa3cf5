"""chain_nodes: the annotated chain around the affected revisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.analysis import chain
from forensics.analysis.chain import chain_nodes
from forensics.analysis.graph import build_state
from forensics.demo import DemoScenario, build_demo_repo
from forensics.model.migrations import Environment, MigrationFile
from tests.analysis.demo_states import state_at


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoScenario:
    return build_demo_repo(tmp_path_factory.mktemp("demo"))


def test_small_graph_whole_parents_first_and_annotated(demo: DemoScenario) -> None:
    state = state_at(demo.repo, "HEAD")
    applied = {
        "b354d12d1e7d",
        "65e4b4ef883d",
        "774225e563ca",
        "d47310025be2",
        "0a1b2c3d4e5f",
        "5f4e3d2c1b0a",
        "7c8d9e0f1a2b",
        "91614ff3fbf6",
    }
    nodes = chain_nodes(state, applied, {"774225e563ca"}, {"91614ff3fbf6"}, set(), {"774225e563ca"})
    revisions = [n.revision for n in nodes]
    assert set(revisions) == set(state.by_revision())
    for i, node in enumerate(nodes):
        assert all(revisions.index(p) < i for p in node.parents)
    marks = {n.revision: n.annotations for n in nodes}
    assert marks["774225e563ca"] == ("applied", "modified")
    assert marks["91614ff3fbf6"] == ("production", "applied")
    assert marks["9a90b381abd5"] == ("head",)
    assert marks["b354d12d1e7d"] == ("applied", "base")
    assert nodes[revisions.index("7c8d9e0f1a2b")].parents == ("0a1b2c3d4e5f", "5f4e3d2c1b0a")
    assert nodes[revisions.index("774225e563ca")].message == "Add document AI"


def test_broken_revision_is_marked(demo: DemoScenario) -> None:
    state = state_at(demo.repo, demo.rewire_commit)
    nodes = chain_nodes(state, set(), {"774225e563ca"}, set(), {"65e4b4ef883d"}, set())
    marks = {n.revision: n.annotations for n in nodes}
    assert marks["65e4b4ef883d"] == ("head", "broken")
    assert marks["774225e563ca"] == ("modified",)


def _linear(count: int) -> list[MigrationFile]:
    revs = [f"r{i:03d}" for i in range(count)]
    return [MigrationFile(f"v/{r}.py", r, (revs[i - 1],) if i else ()) for i, r in enumerate(revs)]


def test_large_graph_cut_to_the_radius_around_focus_production_and_heads() -> None:
    env = Environment("e", "e", ("v",))
    state = build_state(env, _linear(chain.SMALL_GRAPH + 30))
    nodes = chain_nodes(state, set(), {"r010"}, {"r020"}, set(), {"r010"}, radius=2)
    revisions = [n.revision for n in nodes]
    last = f"r{chain.SMALL_GRAPH + 29:03d}"
    expected = {f"r{i:03d}" for i in [*range(8, 13), *range(18, 23)]}
    expected |= {f"r{chain.SMALL_GRAPH + 29 - k:03d}" for k in range(3)}
    assert set(revisions) == expected and revisions == sorted(revisions)
    assert nodes[0].parents == ("r007",)  # a parent outside the cut is still named
    assert {n.revision for n in nodes if "head" in n.annotations} == {last}


def test_empty_state_gives_no_chain() -> None:
    state = build_state(Environment("e", "e", ("v",)), [])
    assert chain_nodes(state, set(), set(), set(), set(), set()) == ()


def test_uses_no_file_outside_the_state(tmp_path: Path) -> None:
    state = build_state(Environment("e", "e", ("v",)), _linear(3))
    nodes = chain_nodes(state, set(), set(), set(), set(), {"nope"})
    assert [n.path for n in nodes] == ["v/r000.py", "v/r001.py", "v/r002.py"]
