"""The mining cache: JSON round trips of the model, corrupt files, safety, pruning."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.errors import Diagnostics
from forensics.gitbuild import RepoBuilder
from forensics.model.commits import ChangeStatus, CommitRecord, FileChange, Person
from forensics.model.findings import Severity
from forensics.model.migrations import (
    ChangeKind,
    GraphEvent,
    GraphEventKind,
    GraphHistory,
    GraphProblem,
    HistoryPoint,
    MigrationChange,
    MigrationFile,
    ParseError,
    TableOps,
)
from forensics.sources.cache import (
    FORMAT,
    CacheFormatError,
    MiningCache,
    cache_key,
    encode,
    from_json,
    to_json,
)
from forensics.sources.git import GitSource

WHEN = datetime(2025, 11, 13, 9, 30, 15, 123000, tzinfo=UTC)
COMMIT = CommitRecord(
    sha="a" * 40,
    parents=("b" * 40, "c" * 40),
    author=Person("Jos\ufffd", "j@example.com"),
    committer=Person("C", "c@example.com"),
    authored_at=WHEN,
    committed_at=WHEN,
    message="fix: x\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
    trailers=(("Co-Authored-By", "Claude <noreply@anthropic.com>"),),
    files=(FileChange("v/new.py", ChangeStatus.RENAMED, "v/old.py", "d" * 40, "e" * 40),),
    first_parent=False,
)
MIGRATION = MigrationFile(
    path="v/a.py",
    revision="774225e563ca",
    down_revisions=("65e4b4ef883d",),
    tables=TableOps(create=("t",), rename=(("a", "b"),)),
    parse_error=ParseError("invalid syntax", 3),
    doc_revises=None,
    blob="f" * 40,
)


def test_model_values_round_trip() -> None:
    problem = GraphProblem("FX101", "multiple-heads", "multiple-heads", Severity.HIGH, "two")
    history = GraphHistory(
        points=(HistoryPoint("a" * 40, WHEN, (("alembic", ("x", "y")),), (problem,)),),
        events=(GraphEvent("multiple-heads", "FX101", "a" * 40, WHEN, "two"),),
        changes=(MigrationChange("a" * 40, WHEN, "v/a.py", ChangeKind.CODE, "x", after=MIGRATION),),
    )
    for tp, value in [
        (CommitRecord, COMMIT),
        (MigrationFile, MIGRATION),
        (GraphHistory, history),
        (tuple[str, ...], ("a", "b")),
        (list[CommitRecord], [COMMIT, COMMIT]),
    ]:
        data = json.loads(json.dumps(to_json(value)))
        assert from_json(tp, data) == value
    again = from_json(GraphHistory, to_json(history))
    assert again.points[0].problems[0].severity is Severity.HIGH
    assert again.events[0].at.tzinfo is not None
    assert again.events[0].kind is GraphEventKind.MULTIPLE_HEADS


def test_times_are_kept_in_utc_with_z_and_older_entries_still_read() -> None:
    assert to_json(WHEN) == "2025-11-13T09:30:15.123000Z"
    assert encode(CommitRecord, COMMIT)[4] == "2025-11-13T09:30:15.123000Z"
    assert from_json(datetime, "2025-11-13T09:30:15.123000+00:00") == WHEN
    assert from_json(datetime, to_json(WHEN)) == WHEN


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=12) | st.dictionaries(st.text(), inner),
        max_leaves=30,
    )
)
def test_arbitrary_json_is_rejected_cleanly(data: Any) -> None:
    for tp in (CommitRecord, MigrationFile, GraphHistory):
        with contextlib.suppress(CacheFormatError):
            from_json(tp, data)


def _put_parsed(cache: MiningCache) -> None:
    cache.put("migrations", cache_key("f" * 40, MIGRATION.path), MIGRATION, MigrationFile)


def _parsed(cache: MiningCache, path: str) -> MigrationFile | None:
    return cache.get("migrations", cache_key("f" * 40, path), MigrationFile)


def test_tables_persist_after_flush_and_the_folder_ignores_itself(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    cache = MiningCache(folder)
    _put_parsed(cache)
    assert _parsed(MiningCache(folder), "v/a.py") is None  # not flushed yet
    cache.flush()
    assert _parsed(MiningCache(folder), "v/a.py") == MIGRATION
    assert _parsed(MiningCache(folder), "v/b.py") is None
    assert (folder / ".gitignore").read_text() == "*\n"
    calls: list[int] = []

    def compute() -> MigrationFile:
        calls.append(1)
        return MIGRATION

    again = MiningCache(folder)
    assert again.memo("parsed", "k", MigrationFile, compute) == MIGRATION
    assert again.memo("parsed", "k", MigrationFile, compute) == MIGRATION
    assert calls == [1]


def test_a_corrupt_table_gives_a_warning_and_is_rebuilt(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "migrations.json").write_text('{"format": 1, "table": {"x": ')
    diag = Diagnostics()
    cache = MiningCache(folder, diag)
    assert _parsed(cache, "v/a.py") is None
    assert any("corrupt" in w and "migrations.json" in w for w in diag.warnings)
    _put_parsed(cache)
    cache.flush()
    assert _parsed(MiningCache(folder), "v/a.py") == MIGRATION


def test_a_wrongly_shaped_entry_gives_a_warning_and_a_miss(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    cache = MiningCache(folder)
    _put_parsed(cache)
    cache.flush()
    doc = json.loads((folder / "migrations.json").read_text())
    for entry in doc["table"].values():
        entry["data"][1] = ["not", "a", "string"]
    (folder / "migrations.json").write_text(json.dumps(doc))
    diag = Diagnostics()
    assert _parsed(MiningCache(folder, diag), "v/a.py") is None
    assert any("corrupt" in w for w in diag.warnings)


def test_an_entry_of_another_schema_is_a_silent_miss(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    cache = MiningCache(folder)
    cache.put("things", "k", ("a",), tuple[str, ...])
    cache.flush()
    diag = Diagnostics()
    assert MiningCache(folder, diag).get("things", "k", tuple[int, ...]) is None
    assert MiningCache(folder, diag).get("things", "k", tuple[str, ...]) == ("a",)
    assert diag.warnings == []


def test_a_corrupt_log_file_is_rebuilt_from_git(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path
) -> None:
    repo = git_repo()
    repo.commit("one", WHEN, files={"a": "1"})
    folder = tmp_path / "c"
    fresh = GitSource(repo.path, cache=MiningCache(folder)).log("HEAD")
    (entry,) = (folder / "log").glob("*.json")
    entry.write_bytes(b"\x80garbage")
    diag = Diagnostics()
    assert GitSource(repo.path, diag, cache=MiningCache(folder, diag)).log("HEAD") == fresh
    assert any("corrupt" in w for w in diag.warnings)
    assert json.loads(entry.read_text())["format"] == FORMAT  # rewritten as JSON


def test_old_log_files_are_pruned(tmp_path: Path) -> None:
    cache = MiningCache(tmp_path / "c")
    for i in range(12):
        cache.put("log", cache_key(i), [COMMIT], list[CommitRecord])
    assert len(list((tmp_path / "c" / "log").glob("*.json"))) == 8


def test_a_symlinked_cache_folder_is_not_used(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    diag = Diagnostics()
    cache = MiningCache(tmp_path / "link", diag)
    cache.put("log", "k", [COMMIT], list[CommitRecord])
    cache.flush()
    assert not cache.enabled and list(target.iterdir()) == []
    assert any("symbolic link" in w for w in diag.warnings)


def test_to_json_refuses_what_it_cannot_rebuild() -> None:
    with pytest.raises(TypeError):
        to_json(object())
