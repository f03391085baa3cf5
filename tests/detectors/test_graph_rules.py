"""FX101-FX107 findings from the graph at the analysed revision, with the introducing commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from forensics.detectors import all_rules, graph_rules
from forensics.detectors.base import Context
from forensics.errors import Diagnostics
from forensics.gitbuild import RepoBuilder
from forensics.model.findings import Confidence, Severity
from forensics.pipeline import load_graphs, load_history
from forensics.sources.git import GitSource

T0 = datetime(2025, 11, 13, 9, 0, tzinfo=UTC)
V = "migrations/versions"


def _context(repo: RepoBuilder) -> Context:
    git = GitSource(repo.path)
    diag = Diagnostics()
    sha = git.resolve("HEAD")
    envs, states = load_graphs(git, sha, (), diag)
    history = load_history(git, sha, envs, diag)
    return Context(
        rev=sha,
        until=T0 + timedelta(days=1),
        states=tuple(states),
        history=history,
    )


def test_catalogue_is_registered() -> None:
    ids = [r.id for r in graph_rules.RULES]
    assert ids == ["FX101", "FX102", "FX103", "FX104", "FX105", "FX106", "FX107"]
    assert {r.id for r in all_rules()} >= set(ids)
    assert all(r.title and r.explanation for r in graph_rules.RULES)


@pytest.mark.rule("FX101", fires=True)
@pytest.mark.rule("FX103", fires=True)
@pytest.mark.rule("FX105", fires=True)
def test_every_problem_fires_with_its_introducing_commit(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    repo.commit("base", T0, files={"migrations/env.py": "", f"{V}/a.py": make_migration("a", None)})
    heads = repo.commit(
        "second head",
        T0 + timedelta(minutes=5),
        files={f"{V}/b.py": make_migration("b", "a"), f"{V}/c.py": make_migration("c", "a")},
    )
    broken = repo.commit(
        "broken", T0 + timedelta(minutes=9), files={f"{V}/x.py": "def upgrade(:\n"}
    )
    dangling = repo.commit(
        "dangling", T0 + timedelta(minutes=12), files={f"{V}/d.py": make_migration("d", "zzz")}
    )
    findings = {f.rule: f for f in graph_rules.detect(_context(repo))}
    assert sorted(findings) == ["FX101", "FX103", "FX105"]
    assert findings["FX101"].commits == (heads,) and findings["FX101"].start == T0 + timedelta(
        minutes=5
    )
    assert findings["FX105"].commits == (broken,) and findings["FX105"].path == f"{V}/x.py"
    assert findings["FX105"].line == 1 and findings["FX105"].severity is Severity.CRITICAL
    assert findings["FX103"].commits == (dangling,) and findings["FX103"].revision == "d"
    assert all(f.confidence is Confidence.HIGH for f in findings.values())


@pytest.mark.rule("FX101", fires=False)
@pytest.mark.rule("FX102", fires=False)
@pytest.mark.rule("FX103", fires=False)
@pytest.mark.rule("FX104", fires=False)
@pytest.mark.rule("FX105", fires=False)
@pytest.mark.rule("FX106", fires=False)
@pytest.mark.rule("FX107", fires=False)
def test_healthy_and_labelled_graph_fires_nothing(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    repo.commit(
        "expand/contract",
        T0,
        files={
            "migrations/env.py": "",
            f"{V}/a.py": make_migration("a", None),
            f"{V}/e.py": make_migration("e", "a", branch_labels="('expand',)"),
            f"{V}/c.py": make_migration("c", "a", branch_labels="('contract',)"),
        },
    )
    assert list(graph_rules.detect(_context(repo))) == []


@pytest.mark.rule("FX102", fires=True)
@pytest.mark.rule("FX102", fires=False)
def test_resolved_problem_does_not_fire(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    repo.commit("base", T0, files={"migrations/env.py": "", f"{V}/a.py": make_migration("a", None)})
    repo.commit("dup", T0 + timedelta(minutes=1), files={f"{V}/a2.py": make_migration("a", None)})
    dup = _context(repo)
    [finding] = graph_rules.detect(dup)
    assert finding.rule == "FX102" and f"{V}/a2.py" in finding.detail
    repo.delete(f"{V}/a2.py")
    repo.commit("undup", T0 + timedelta(minutes=2))
    ctx = _context(repo)
    assert list(graph_rules.detect(ctx)) == []
    [event] = ctx.history.events
    assert event.resolved_by == repo.head()


@pytest.mark.rule("FX104", fires=True)
@pytest.mark.rule("FX106", fires=True)
@pytest.mark.rule("FX107", fires=True)
def test_cycle_missing_revision_and_unresolved_metadata(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    repo.commit("base", T0, files={"migrations/env.py": "", f"{V}/a.py": make_migration("a", None)})
    late = repo.commit(
        "bad files",
        T0 + timedelta(minutes=3),
        files={
            f"{V}/b.py": make_migration("b", ("a", "c")),
            f"{V}/c.py": make_migration("c", "b"),
            f"{V}/n.py": make_migration(None, "a"),
            f"{V}/u.py": make_migration("u", "a", depends_on="helpers.PARENT"),
        },
    )
    findings = {f.rule: f for f in graph_rules.detect(_context(repo))}
    assert {"FX104", "FX106", "FX107"} <= set(findings)
    assert "b, c" in findings["FX104"].detail and findings["FX104"].commits == (late,)
    assert findings["FX106"].path == f"{V}/n.py"
    assert findings["FX107"].revision == "u" and findings["FX107"].confidence is Confidence.MEDIUM
    assert findings["FX107"].severity is Severity.MEDIUM
