"""GitSource over real repositories: windows, merges, zones, partial repositories, tags."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from forensics.errors import Diagnostics, InputError
from forensics.gitbuild import RepoBuilder
from forensics.model.commits import ChangeStatus
from forensics.sources.cache import MiningCache
from forensics.sources.git import GitSource

Make = Callable[..., RepoBuilder]
T0 = datetime(2025, 11, 13, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def drop_object(repo: RepoBuilder, sha: str) -> None:
    (repo.path / ".git" / "objects" / sha[:2] / sha[2:]).unlink()


def branchy(make: Make) -> tuple[RepoBuilder, dict[str, str]]:
    """main: c1 - c2 ------- m (merge of feature) - c5; feature: f1 (migration) - f2 (code)."""
    repo = make()
    shas = {"c1": repo.commit("c1", at(0), files={"app.py": "1\n", "db/versions/a.py": "a\n"})}
    shas["c2"] = repo.commit("c2", at(1), files={"app.py": "2\n"})
    repo.checkout("feature", create=True)
    shas["f1"] = repo.commit("f1", at(2), files={"db/versions/a.py": "a2\n"})
    shas["f2"] = repo.commit("f2", at(3), files={"lib.py": "x\n"})
    repo.checkout("main")
    shas["c3"] = repo.commit("c3", at(4), files={"app.py": "3\n"})
    shas["m"] = repo.merge("feature", "merge feature", at(5))
    shas["c5"] = repo.commit("c5", at(6), files={"app.py": "5\n"})
    return repo, shas


def test_first_parent_by_default_and_every_commit_on_request(git_repo: Make) -> None:
    repo, shas = branchy(git_repo)
    source = GitSource(repo.path)
    chain = source.log("HEAD")
    assert [c.sha for c in chain] == [shas[k] for k in ("c5", "m", "c3", "c2", "c1")]
    assert all(c.first_parent for c in chain)
    merge = chain[1]
    assert merge.is_merge and merge.parents[0] == shas["c3"]
    # a merge lists what it brings to its first parent
    assert sorted(merge.paths) == ["db/versions/a.py", "lib.py"]

    every = {c.sha: c for c in source.log("HEAD", first_parent=False)}
    assert set(every) == set(shas.values())
    assert not every[shas["f1"]].first_parent and every[shas["c3"]].first_parent
    assert every[shas["f1"]].files[0].status is ChangeStatus.MODIFIED
    assert every[shas["f1"]].files[0].old_blob and every[shas["f1"]].files[0].new_blob


def test_window_and_path_limit(git_repo: Make) -> None:
    repo, shas = branchy(git_repo)
    source = GitSource(repo.path)
    window = source.log("HEAD", since=at(1), until=at(4))
    assert [c.sha for c in window] == [shas["c3"], shas["c2"]]
    touching = source.log("HEAD", paths=["db/versions"], first_parent=False, no_merges=True)
    assert [c.sha for c in touching] == [shas["f1"], shas["c1"]]


def test_dates_are_utc_whatever_zone_the_commit_was_written_in(git_repo: Make) -> None:
    repo = git_repo()
    repo.commit("east", "2025-11-13T15:00:00+05:30", files={"a": "1"})
    repo.commit("west", "2025-11-13T01:40:00-08:00", files={"a": "2"})
    west, east = GitSource(repo.path).log("HEAD")
    assert east.authored_at == datetime(2025, 11, 13, 9, 30, tzinfo=UTC)
    assert west.committed_at == datetime(2025, 11, 13, 9, 40, tzinfo=UTC)
    assert east.authored_at.utcoffset() == timedelta(0)
    assert west.authored_at - east.authored_at == timedelta(minutes=10)


def test_trailers_and_people(git_repo: Make) -> None:
    repo = git_repo()
    message = (
        "fix: finalize guard helpers\n\nlonger body\n\n"
        "Co-Authored-By: Claude <noreply@anthropic.com>\nSigned-off-by: Dudley <d@example.com>\n"
    )
    repo.commit(message, at(0), author="Dudley", email="d@example.com", files={"a": "1"})
    (commit,) = GitSource(repo.path).log("HEAD")
    assert commit.subject == "fix: finalize guard helpers"
    assert commit.author.name == "Dudley" and commit.committer.email == "d@example.com"
    assert commit.trailers == (
        ("Co-Authored-By", "Claude <noreply@anthropic.com>"),
        ("Signed-off-by", "Dudley <d@example.com>"),
    )


def test_control_characters_in_messages_do_not_break_parsing(git_repo: Make) -> None:
    repo = git_repo()
    repo.commit("first", at(0), files={"a": "1"})
    repo.commit("evil \x1e\x1f subject\n\nbody \x1e%H\x1f", at(1), files={"b": "1"})
    latest, first = GitSource(repo.path).log("HEAD")
    assert latest.subject == "evil \x1e\x1f subject" and latest.paths == ("b",)
    assert first.subject == "first"


def test_non_utf8_text_is_decoded_with_replacement(git_repo: Make) -> None:
    repo = git_repo()
    repo.commit("base", at(0), files={"a": "1"})
    repo.git("config", "i18n.commitEncoding", "ISO-8859-1")
    repo.write("a", "2")
    repo.git("add", "-A")
    env = {
        "GIT_AUTHOR_NAME": "Jos\udce9",  # the raw byte 0xe9 (latin-1 é) via surrogateescape
        "GIT_AUTHOR_EMAIL": "jose@example.com",
        "GIT_COMMITTER_NAME": "Jos\udce9",
        "GIT_COMMITTER_EMAIL": "jose@example.com",
        "GIT_AUTHOR_DATE": at(1).isoformat(),
        "GIT_COMMITTER_DATE": at(1).isoformat(),
    }
    repo.git("commit", "-q", "-F", "-", env=env, input="caf\xe9 latin-1".encode("latin-1"))
    # a commit object with invalid UTF-8 and no encoding header
    tree = repo.git("rev-parse", "HEAD^{tree}")
    parent = repo.head()
    raw = (
        f"tree {tree}\nparent {parent}\n"
        "author Bad \xff <b@example.com> 1763024400 +0000\n"
        "committer Bad \xff <b@example.com> 1763024400 +0000\n\n"
    ).encode("latin-1") + b"broken \xff\xfe message\n"
    sha = repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=raw)
    repo.git("update-ref", "refs/heads/main", sha)

    broken, latin, _base = GitSource(repo.path).log("HEAD")
    assert latin.subject == "café latin-1"
    assert latin.author.name == "José"
    assert broken.subject == "broken \ufffd\ufffd message"
    assert broken.author.name == "Bad \ufffd"


def test_shallow_clone_gives_a_warning_and_partial_history(git_repo: Make, tmp_path: Path) -> None:
    repo = git_repo()
    for i in range(5):
        repo.commit(f"c{i}", at(i), files={"db/versions/a.py": f"{i}\n", f"f{i}": "x"})
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone)],
        check=True,
        capture_output=True,
    )
    diag = Diagnostics()
    source = GitSource(clone, diag)
    assert source.is_shallow
    commits = source.log("HEAD")
    assert [c.subject for c in commits] == ["c4", "c3"]
    # the cut-off commit's diff against nothing is not a change it made
    assert commits[1].files == ()
    assert any("shallow clone" in w for w in diag.warnings)


def test_missing_blob_gives_a_warning_not_a_traceback(git_repo: Make) -> None:
    repo = git_repo()
    repo.commit("c1", at(0), files={"db/versions/a.py": "print('gone')\n"})
    (entry,) = GitSource(repo.path).tree("HEAD")
    drop_object(repo, entry.blob)
    diag = Diagnostics()
    source = GitSource(repo.path, diag)
    assert source.read_blob(entry.blob) is None
    assert source.read_path("HEAD", "db/versions/a.py") is None
    assert any(entry.blob[:12] in w and "missing" in w for w in diag.warnings)
    # the long-lived cat-file process is still in step after the miss
    assert source.read_path("HEAD", "nope") is None
    assert [c.subject for c in source.log("HEAD")] == ["c1"]


def test_missing_commit_in_history_gives_partial_log(git_repo: Make) -> None:
    repo = git_repo()
    shas = [repo.commit(f"c{i}", at(i), files={"a": f"{i}\n"}) for i in range(4)]
    drop_object(repo, shas[1])
    diag = Diagnostics()
    source = GitSource(repo.path, diag)
    commits = source.log("HEAD")
    assert commits and commits[0].sha == shas[3]
    assert {c.sha for c in commits} <= {shas[3], shas[2]}
    assert any("partial" in w and "git fsck" in w for w in diag.warnings)
    assert source.log("HEAD", first_parent=False) is not None  # no traceback either


def test_missing_tree_in_history_gives_partial_log(git_repo: Make) -> None:
    repo = git_repo()
    shas = [repo.commit(f"c{i}", at(i), files={"a": f"{i}\n"}) for i in range(4)]
    tree = repo.git("rev-parse", f"{shas[1]}^{{tree}}")
    drop_object(repo, tree)
    diag = Diagnostics()
    source = GitSource(repo.path, diag)
    commits = source.log("HEAD")
    assert [c.sha for c in commits][:1] == [shas[3]]
    assert any("partial" in w for w in diag.warnings)
    assert source.tree(shas[1]) == []
    assert any(shas[1][:12] in w for w in diag.warnings)


def test_details_only_for_the_commits_asked(git_repo: Make) -> None:
    repo = git_repo()
    first = repo.commit("c1", at(0), files={"a.py": "1\n2\n3\n"})
    second = repo.commit("c2", at(1), files={"a.py": "1\n3\n4\n5\n", "b.py": "x\n"})
    diag = Diagnostics()
    source = GitSource(repo.path, diag)
    config_before = (repo.path / ".git" / "config").read_text()
    stats = source.details([second, first, "0" * 40])
    assert stats[second].insertions == 3 and stats[second].deletions == 1
    assert stats[second].files == ("a.py", "b.py")
    assert stats[first].insertions == 3
    assert "0" * 40 not in stats and any("0000000000" in w for w in diag.warnings)
    # reading evidence never writes to the analysed repository
    assert (repo.path / ".git" / "config").read_text() == config_before


def test_tags_reachable_matching_with_their_creation_time(git_repo: Make) -> None:
    repo = git_repo()
    c1 = repo.commit("c1", "2025-11-01T10:00:00+02:00", files={"a": "1"})
    repo.tag("v1.0", message="release 1", at="2025-11-02T12:00:00-08:00")
    c2 = repo.commit("c2", at(0), files={"a": "2"})
    repo.tag("v1.1")
    repo.tag("nightly")
    repo.checkout("side", create=True)
    repo.commit("side", at(5), files={"b": "1"})
    repo.tag("v2.0-rc", message="not merged", at=at(6))
    repo.checkout("main")

    tags = GitSource(repo.path).tags("v*", "main")
    assert [(t.name, t.commit) for t in tags] == [("v1.0", c1), ("v1.1", c2)]
    assert tags[0].annotated and tags[0].at == datetime(2025, 11, 2, 20, 0, tzinfo=UTC)
    assert not tags[1].annotated and tags[1].at == at(0)
    with pytest.raises(InputError):
        GitSource(repo.path).tags("v*", "no-such-branch")


def test_merged_changes_name_the_branch_commits_with_their_own_files(git_repo: Make) -> None:
    repo, shas = branchy(git_repo)
    source = GitSource(repo.path)
    merged = source.merged_changes("HEAD", ["db", "lib.py"])
    assert list(merged) == [shas["m"]]
    assert [(r.sha, r.paths) for r in merged[shas["m"]]] == [
        (shas["f2"], ("lib.py",)),
        (shas["f1"], ("db/versions/a.py",)),
    ]
    [change] = merged[shas["m"]][1].files
    assert change.old_blob is not None and change.new_blob is not None
    assert source.merged_changes("HEAD", ["app.py"]) == {}


def test_a_commit_belongs_to_the_first_merge_that_brought_it(git_repo: Make) -> None:
    """feature is merged twice: the second merge brings only what came after the first."""
    repo, shas = branchy(git_repo)
    repo.checkout("feature")
    late = repo.commit("f3", at(7), files={"db/versions/b.py": "b\n"})
    repo.checkout("main")
    second = repo.merge("feature", "merge feature again", at(8))
    merged = GitSource(repo.path).merged_changes("HEAD", ["db"])
    assert {m: [r.sha for r in rs] for m, rs in merged.items()} == {
        shas["m"]: [shas["f1"]],
        second: [late],
    }


def test_log_and_commits_come_from_the_cache_on_the_second_run(
    git_repo: Make, tmp_path: Path
) -> None:
    repo, shas = branchy(git_repo)
    folder = tmp_path / "cache"
    first = GitSource(repo.path, cache=MiningCache(folder))
    fresh = first.log("HEAD", first_parent=False)
    blobs = first.blobs_at([(shas["c1"], "db/versions/a.py"), (shas["c1"], "nope.py")])
    first.close()
    assert list((folder / "log").glob("*.json"))
    assert blobs[shas["c1"], "nope.py"] is None and blobs[shas["c1"], "db/versions/a.py"]

    # objects gone: only the cache can answer now
    for sha in (shas["f1"], shas["c1"]):
        drop_object(repo, sha)
    diag = Diagnostics()
    second = GitSource(repo.path, diag, cache=MiningCache(folder, diag))
    assert second.log("HEAD", first_parent=False) == fresh
    assert second.blobs_at(blobs) == blobs
    assert diag.warnings == []


def test_many_commits_resolved_at_once(git_repo: Make) -> None:
    repo, shas = branchy(git_repo)
    source = GitSource(repo.path)
    found = source.resolve_many([shas["c1"][:10], shas["f2"], "0" * 40, "feature"])
    assert found == {
        shas["c1"][:10]: shas["c1"],
        shas["f2"]: shas["f2"],
        "0" * 40: None,
        "feature": shas["f2"],
    }
    assert source.try_resolve("0" * 40) is None


def test_a_moved_branch_never_hits_the_old_cache_entry(git_repo: Make, tmp_path: Path) -> None:
    repo = git_repo()
    repo.commit("c1", at(0), files={"a": "1"})
    cache = MiningCache(tmp_path / "cache")
    assert len(GitSource(repo.path, cache=cache).log("HEAD")) == 1
    repo.commit("c2", at(1), files={"a": "2"})
    assert len(GitSource(repo.path, cache=cache).log("HEAD")) == 2


def test_a_cache_committed_into_the_repository_is_ignored(git_repo: Make) -> None:
    repo = git_repo()
    repo.commit("c1", at(0), files={".forensics-cache/log/x.json": "{}", "a": "1"})
    diag = Diagnostics()
    cache = MiningCache.for_repo(repo.path, diag=diag)
    GitSource(repo.path, diag, cache=cache).log("HEAD")
    assert not cache.enabled
    assert any("tracked by git" in w for w in diag.warnings)


def test_read_path_reads_a_file_at_a_revision(git_repo: Callable[..., RepoBuilder]) -> None:
    repo = git_repo()
    first = repo.commit("one", "2025-01-01T00:00:00+00:00", files={"a/b.py": "x = 1\n"})
    repo.commit("two", "2025-01-02T00:00:00+00:00", files={"a/b.py": "x = 2\n"})
    source = GitSource(repo.path)
    assert source.read_path(first, "a/b.py") == b"x = 1\n"
    assert source.read_path("HEAD", "a/b.py") == b"x = 2\n"
    assert source.read_path("HEAD", "a") is None
    assert source.read_path("HEAD", "missing.py") is None
    source.close()


def test_files_at_commits_read_from_folder_trees_agree_with_path_lookups(
    git_repo: Make,
) -> None:
    """Blobs at (commit, path) come from the trees of the folders; each answer is the one a
    ``commit:path`` lookup gives: missing files and folders, a folder asked as a file, a
    file asked as a folder, the root, a name that is not ASCII."""
    repo, shas = branchy(git_repo)
    shas["u"] = repo.commit("u", at(7), files={"db/versions/é.py": "u\n", "db/x/y.py": "y\n"})
    paths = [
        "db/versions/a.py",
        "db/versions/é.py",
        "db/versions/none.py",
        "db/versions",
        "db/x/y.py",
        "db/nowhere/a.py",
        "app.py",
        "app.py/a.py",
        "lib.py",
    ]
    pairs = [(sha, path) for sha in shas.values() for path in paths]
    source = GitSource(repo.path)
    lookups = source._batch_check([f"{sha}:{path}" for sha, path in pairs])
    assert source._blobs_in_trees(pairs) == lookups
    assert {kind for _sha, kind in lookups} == {"blob", "tree", "missing"}
