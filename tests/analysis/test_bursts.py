"""Bursts, automation scores and churn, from real repositories and from built changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from forensics.analysis.bursts import (
    automation_score,
    churn,
    find_bursts,
    migration_edits,
    percentile,
)
from forensics.gitbuild import RepoBuilder
from forensics.model.commits import CommitRecord, Person
from forensics.model.migrations import ChangeKind, MigrationChange
from forensics.sources.git import GitSource
from tests.activity import MIGRATION, T0, VERSIONS, mine, seed_burst

Make = Callable[..., RepoBuilder]


def record(
    sha: str,
    minutes: float,
    subject: str = "work",
    author: str = "Ann",
    parents: tuple[str, ...] = ("p",),
    trailers: tuple[tuple[str, str], ...] = (),
) -> CommitRecord:
    when = T0 + timedelta(minutes=minutes)
    return CommitRecord(
        sha=sha,
        parents=parents,
        author=Person(author, f"{author.lower()}@example.com"),
        committer=Person(author, f"{author.lower()}@example.com"),
        authored_at=when,
        committed_at=when,
        message=subject,
        trailers=trailers,
    )


def change(
    commit: CommitRecord,
    path: str = "v/a.py",
    kind: ChangeKind = ChangeKind.CODE,
    authors: tuple[str, ...] = (),
    merge: str | None = None,
) -> MigrationChange:
    return MigrationChange(
        commit=commit.sha,
        at=commit.committed_at,
        path=path,
        kind=kind,
        revision="a",
        authors=authors or (commit.sha,),
        merge=merge,
    )


def test_the_seed_burst_lists_exactly_the_commits_that_changed_the_file(
    git_repo: Make, make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    burst_shas = seed_burst(repo, make_migration)
    changes, commits = mine(GitSource(repo.path))
    (burst,) = find_bursts(changes, commits)
    # the chore commit that names the migration in its message is not among them
    assert burst.commits == tuple(burst_shas)
    assert burst.paths == (MIGRATION,)
    assert burst.authors == ("Dudley <dudley@example.com>",)
    # three time zones, one UTC timeline: 1170 seconds from first to last
    assert burst.start == T0 and burst.end == T0 + timedelta(seconds=1170)
    assert burst.longest_gap_seconds == 180 and burst.median_gap_seconds == 140
    assert burst.merges == ()
    assert burst.automation_score >= 0.75
    joined = " | ".join(burst.signals)
    assert "under 3 minutes" in joined and "774225e563ca" in joined
    assert "Co-Authored-By Claude" in joined and "one author" in joined


def test_a_burst_on_a_branch_names_the_branch_commits_and_the_merge(
    git_repo: Make, make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    path = VERSIONS + "aaa_first.py"
    repo.commit("add", T0 - timedelta(days=1), files={path: make_migration("aaa", None)})
    repo.checkout("feature", create=True)
    branch = [
        repo.commit(
            f"step {i}",
            T0 + timedelta(minutes=3 * i),
            files={path: make_migration("aaa", None, body=f"    x = {i}")},
        )
        for i in range(5)
    ]
    repo.commit("docs", T0 + timedelta(minutes=16), files={"README": "x"})
    repo.checkout("main")
    repo.commit("main work", T0 + timedelta(minutes=5), files={"app.py": "1"})
    merge = repo.merge("feature", "Merge feature", T0 + timedelta(hours=2))
    changes, commits = mine(GitSource(repo.path))
    assert [c.commit for c in changes if c.merge] == [merge]
    (burst,) = find_bursts(changes, commits)
    assert burst.commits == tuple(branch)
    assert burst.merges == (merge,)
    assert merge not in burst.commits


@pytest.mark.parametrize(
    ("last_gap", "expected"), [(timedelta(minutes=15), 1), (timedelta(minutes=15, seconds=1), 0)]
)
def test_bursts_split_exactly_at_the_gap_threshold(last_gap: timedelta, expected: int) -> None:
    minutes = [0.0, 5.0, 10.0, 10.0 + last_gap.total_seconds() / 60]
    records = [record(f"{i:040x}", m) for i, m in enumerate(minutes)]
    commits = {r.sha: r for r in records}
    bursts = find_bursts([change(r) for r in records], commits)
    assert len(bursts) == expected
    if bursts:
        assert bursts[0].longest_gap_seconds == last_gap.total_seconds()


def test_thresholds_are_tunable_and_sessions_are_separate() -> None:
    records = [record(f"{i:040x}", m) for i, m in enumerate([0, 1, 2, 60, 61, 62])]
    commits = {r.sha: r for r in records}
    changes = [change(r) for r in records]
    assert find_bursts(changes, commits) == []
    two = find_bursts(changes, commits, min_commits=3)
    assert [b.commits for b in two] == [
        tuple(r.sha for r in records[:3]),
        tuple(r.sha for r in records[3:]),
    ]
    assert len(find_bursts(changes, commits, min_commits=3, max_gap=timedelta(hours=1))) == 1


def test_commits_on_the_same_set_of_files_form_one_burst_and_others_stay_out() -> None:
    records = [record(f"{i:040x}", i) for i in range(6)]
    commits = {r.sha: r for r in records}
    changes = [change(records[0], "v/a.py"), change(records[0], "v/b.py")]
    changes += [change(records[1], "v/a.py"), change(records[2], "v/b.py")]
    changes += [change(records[3], "v/a.py"), change(records[4], "v/c.py")]
    (burst,) = find_bursts(changes, commits)
    assert burst.paths == ("v/a.py", "v/b.py")
    assert burst.commits == tuple(r.sha for r in records[:4])


def test_merge_commits_never_count_as_authors() -> None:
    work = [record(f"{i:040x}", i) for i in range(3)]
    merge = record("f" * 40, 4, parents=("a", "b"))
    commits = {r.sha: r for r in [*work, merge]}
    # a merge listed as its own author (an evil merge) is not a commit that changed the file
    changes = [change(r) for r in work] + [change(merge)]
    assert find_bursts(changes, commits) == []


def test_human_paced_commits_score_low() -> None:
    subjects = [
        "Add invoices table",
        "Fix typo in column name",
        "review: index on customer_id",
        "Rename the constraint",
        "Drop unused default",
    ]
    minutes = [0, 4, 18, 25, 40]
    records = [
        record(f"{i:040x}", m, s, author=("Ann", "Bob")[i % 2])
        for i, (m, s) in enumerate(zip(minutes, subjects, strict=True))
    ]
    commits = {r.sha: r for r in records}
    (burst,) = find_bursts([change(r) for r in records], commits)
    score, signals = automation_score(burst, commits)
    assert score < 0.5 and burst.automation_score == score
    assert not any("3 minutes" in s or "tool marker" in s for s in signals)


def test_tool_markers_and_templates_are_explained() -> None:
    records = [
        record(
            f"{i:040x}",
            i * 6,
            f"chore: bump {name} for 0123456789ab",
            author="renovate[bot]",
            trailers=(("Co-Authored-By", "GitHub Copilot <copilot@github.com>"),),
        )
        for i, name in enumerate(["a", "b", "c", "d"])
    ]
    commits = {r.sha: r for r in records}
    (burst,) = find_bursts([change(r) for r in records], commits)
    score, signals = automation_score(burst, commits)
    text = " | ".join(signals)
    assert "Co-Authored-By GitHub Copilot" in text and "author renovate[bot]" in text
    assert "start with 'chore:'" in text and "0123456789ab" in text
    assert "regular pace" in text
    assert score >= 0.5


def test_churn_counts_edits_after_creation_against_the_percentile() -> None:
    changes = []
    for p in range(20):
        created = record(f"{p:040x}", p)
        changes.append(change(created, f"v/{p}.py", ChangeKind.ADDED))
        for e in range(p % 2):
            changes.append(change(record(f"{p:038x}{e:02x}", p + 100), f"v/{p}.py"))
    hot = [record(f"{e:039x}f", 200 + e) for e in range(7)]
    changes += [change(r, "v/3.py") for r in hot]
    edits = migration_edits(changes)
    assert edits["v/3.py"] == 8 and edits["v/0.py"] == 0 and len(edits) == 20
    assert [row[:2] for row in churn(changes)] == [("v/3.py", 8)]
    assert churn(changes, min_edits=8) == []
    # when every migration is edited as often, none stands out
    everywhere = [change(r, f"v/{p}.py") for p in range(20) for r in hot]
    assert churn(everywhere) == []


def test_percentile_matches_linear_interpolation() -> None:
    assert percentile([0, 0, 8], 95) == pytest.approx(7.2)
    assert percentile([], 95) == 0.0
    assert percentile([3], 50) == 3


def test_times_are_utc(git_repo: Make, make_migration: Callable[..., str]) -> None:
    repo = git_repo()
    seed_burst(repo, make_migration)
    _changes, commits = mine(GitSource(repo.path))
    assert all(c.authored_at.tzinfo is UTC for c in commits.values())
    assert min(c.authored_at for c in commits.values()) < datetime(2025, 11, 13, tzinfo=UTC)


def test_interleaved_sessions_on_two_files_are_one_burst_and_bursts_never_overlap() -> None:
    """Two files edited in turn by one session are one burst (one FX301, one automation
    verdict), however the commits split between the files; a later session stays apart."""
    a = [record(f"a{i}", i * 2) for i in range(5)]  # minutes 0, 2, 4, 6, 8 on v/a.py
    b = [record(f"b{i}", i * 2 + 1) for i in range(5)]  # minutes 1, 3, 5, 7, 9 on v/b.py
    later = [record(f"c{i}", 120 + i) for i in range(4)]  # two hours later, on v/a.py
    changes = [change(r, "v/a.py") for r in a + later] + [change(r, "v/b.py") for r in b]
    commits = {r.sha: r for r in a + b + later}
    first, second = find_bursts(changes, commits, min_commits=4)
    assert first.commits == tuple(
        sorted((r.sha for r in a + b), key=lambda s: commits[s].authored_at)
    )
    assert first.paths == ("v/a.py", "v/b.py")
    assert second.commits == tuple(r.sha for r in later)
    assert first.end < second.start


def test_migration_edits_on_a_real_repository_count_each_edit_after_creation(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    seed_burst(repo, make_migration)
    changes, commits = mine(GitSource(repo.path))
    assert migration_edits(changes, commits) == {MIGRATION: 10}
    assert {c.kind for c in changes} == {ChangeKind.ADDED, ChangeKind.CODE}
