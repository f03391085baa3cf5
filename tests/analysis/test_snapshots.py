"""The two sides of a guarded change: snapshots of migration texts read with the real reader,
the commits ``Blame`` names for a path, and what production applied (``deployed``,
``references``). No repository: commits and deploys are records, files are texts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from forensics.analysis.graph import build_state
from forensics.analysis.snapshots import Blame, Reference, Snapshot, deployed, references
from forensics.model.commits import ChangeStatus, CommitRecord, FileChange
from forensics.model.deploys import Deploy, DeployCategory
from forensics.model.guard import STAGED, LockEntry, fingerprint_of
from forensics.model.migrations import Environment, MigrationFile
from forensics.model.rules import RuleId
from tests.analysis.demo_states import ENV, blob_id, migration_file, state_of
from tests.analysis.test_bursts import record
from tests.conftest import migration

V = ENV.versions_dirs[0]
A, B, C = "a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3"
A_PATH, B_PATH, C_PATH = f"{V}/a1_users.py", f"{V}/b2_email.py", f"{V}/c3_index.py"
A_TEXT = migration(A, None, message="users", body="    op.create_table('users')")
B_TEXT = migration(B, A, message="email", body="    op.add_column('users', sa.Column('e'))")
B_CODE = B_TEXT.replace("'e'", "'email'")
B_BLACK = B_TEXT.replace("'users'", '"users"')
C_TEXT = migration(C, B, message="index")
T0 = datetime(2025, 11, 10, 9, 0, tzinfo=UTC)


def _files(*texts: tuple[str, str]) -> dict[str, MigrationFile]:
    """Each version of a file by its blob id, for the loader."""
    return {blob_id(t.encode()): migration_file(p, t) for p, t in texts}


def _commit(sha: str, minutes: int, *changes: FileChange) -> CommitRecord:
    return replace(record(sha, minutes), files=changes)


def _edit(path: str, old: str | None, new: str | None, was: str | None = None) -> FileChange:
    status = ChangeStatus.MODIFIED if old and new else ChangeStatus.ADDED
    if new is None:
        status = ChangeStatus.DELETED
    elif was is not None:
        status = ChangeStatus.RENAMED
    return FileChange(
        path,
        status,
        old_path=was,
        old_blob=blob_id(old.encode()) if old else None,
        new_blob=blob_id(new.encode()) if new else None,
    )


# -- Snapshot -------------------------------------------------------------------------------
def test_snapshot_indexes_each_parsing_revision_with_its_file_and_graph() -> None:
    broken = f"{V}/zz_broken.py"
    state = state_of({A_PATH: A_TEXT, B_PATH: B_TEXT, broken: "revision = 'zz'\ndef up(:\n"})
    other = build_state(
        Environment("other", "other", ("other/versions",)),
        [migration_file("other/versions/a1.py", A_TEXT)],
    )
    snap = Snapshot.of([state, other])
    assert sorted(snap.by_revision) == [A, B]  # the broken file declares no revision it parses
    file, graph = snap.by_revision[A]
    assert file.path == A_PATH and graph is state  # the first environment that has it wins
    assert snap.migration_paths == {A_PATH, B_PATH, broken, "other/versions/a1.py"}
    assert snap.versions_dirs == {V, "other/versions"}
    assert [p.rule for p in snap.problems] == [RuleId.FX105]
    found = snap.file_at(broken)
    assert found is not None and found[0].parse_error is not None and found[1] is state
    assert snap.file_at(C_PATH) is None


def test_empty_snapshot_has_nothing() -> None:
    snap = Snapshot.of([])
    assert (snap.by_revision, snap.problems, snap.migration_paths, snap.versions_dirs) == (
        {},
        [],
        set(),
        set(),
    )


# -- Blame ----------------------------------------------------------------------------------
def test_staged_blame_names_the_staged_change() -> None:
    blame = Blame(None, lambda _path, _blob: None)
    assert blame(B_PATH) == (STAGED,)
    assert blame(semantic=False) == (STAGED,)


def test_blame_prefers_the_commits_whose_change_was_more_than_cosmetic() -> None:
    files = _files((B_PATH, B_TEXT), (B_PATH, B_BLACK), (B_PATH, B_CODE), (C_PATH, C_TEXT))
    black = _commit("1" * 40, 1, _edit(B_PATH, B_TEXT, B_BLACK))
    code = _commit("2" * 40, 2, _edit(B_PATH, B_BLACK, B_CODE))
    other = _commit("3" * 40, 3, _edit(C_PATH, None, C_TEXT))
    # ``git log`` order: newest first
    blame = Blame([other, code, black], lambda _path, blob: files.get(blob or ""))
    assert blame(B_PATH) == (code.sha,)
    assert blame(B_PATH, semantic=False) == (black.sha, code.sha)  # oldest first
    assert blame(C_PATH) == (other.sha,)
    assert blame(B_PATH, C_PATH) == (code.sha, other.sha)
    assert blame(A_PATH) == () and blame(None) == ()


def test_blame_of_only_cosmetic_commits_names_them_all() -> None:
    files = _files((B_PATH, B_TEXT), (B_PATH, B_BLACK))
    black = _commit("1" * 40, 1, _edit(B_PATH, B_TEXT, B_BLACK))
    back = _commit("2" * 40, 2, _edit(B_PATH, B_BLACK, B_TEXT))
    blame = Blame([back, black], lambda _path, blob: files.get(blob or ""))
    assert blame(B_PATH) == (black.sha, back.sha)


def test_blame_follows_a_rename_by_its_old_path() -> None:
    moved = f"{V}/moved/b2_email.py"
    files = _files((B_PATH, B_TEXT), (moved, B_TEXT))
    rename = _commit("4" * 40, 1, _edit(moved, B_TEXT, B_TEXT, was=B_PATH))
    blame = Blame([rename], lambda _path, blob: files.get(blob or ""))
    assert blame(B_PATH, semantic=False) == (rename.sha,)
    assert blame(moved, semantic=False) == (rename.sha,)
    # A rename keeps the content: it is cosmetic, so it is named only for want of another.
    assert blame(B_PATH) == (rename.sha,)


def test_blame_counts_a_deletion_as_meaningful() -> None:
    files = _files((B_PATH, B_TEXT), (B_PATH, B_BLACK))
    black = _commit("1" * 40, 1, _edit(B_PATH, B_TEXT, B_BLACK))
    gone = _commit("5" * 40, 2, _edit(B_PATH, B_BLACK, None))
    blame = Blame([gone, black], lambda _path, blob: files.get(blob or ""))
    assert blame(B_PATH) == (gone.sha,)


# -- what production applied ----------------------------------------------------------------
LIVE, LATER = "d" * 40, "e" * 40


def _deploy(ident: str, category: DeployCategory, minutes: int, commit: str, source: str) -> Deploy:
    return Deploy(
        id=ident,
        status=category.value,
        category=category,
        created_at=T0 + timedelta(minutes=minutes),
        source=source,
        commit=commit,
    )


def _at() -> dict[str, Snapshot]:
    return {
        LIVE: Snapshot.of([state_of({A_PATH: A_TEXT, B_PATH: B_TEXT})]),
        LATER: Snapshot.of([state_of({A_PATH: A_TEXT, B_PATH: B_CODE, C_PATH: C_TEXT})]),
    }


def test_deployed_is_the_graph_at_the_latest_successful_deploy() -> None:
    at = _at()
    deploys = [
        _deploy("dep-live", DeployCategory.LIVE, 0, LIVE, "render"),
        _deploy("dep-failed", DeployCategory.FAILED, 10, LATER, "render"),
    ]
    found = deployed(deploys, at.__getitem__)
    assert found is not None
    assert found.snapshot is at[LIVE]
    assert found.applied == {A, B}  # the head it ran and what that descends from
    assert found.evidence == f"deployed by dep-live at commit {LIVE[:8]}"


def test_deployed_from_a_release_tag_says_released() -> None:
    tag = _deploy("tag:v1", DeployCategory.LIVE, 0, LIVE, "tags:v*")
    found = deployed([tag], _at().__getitem__)
    assert found is not None and found.evidence == f"released in v1 at commit {LIVE[:8]}"


def test_no_successful_deploy_is_no_evidence() -> None:
    failed = _deploy("dep-failed", DeployCategory.FAILED, 0, LATER, "render")
    assert deployed([failed], _at().__getitem__) is None
    assert deployed([], _at().__getitem__) is None


def test_references_join_the_lock_and_the_deploy() -> None:
    at = _at()
    found = deployed([_deploy("dep-live", DeployCategory.LIVE, 0, LIVE, "render")], at.__getitem__)
    a_file, b_file = at[LIVE].by_revision[A][0], at[LIVE].by_revision[B][0]
    assert b_file.ast_fingerprint is not None and a_file.ast_fingerprint is not None
    locked = [LockEntry(B, B_PATH, "f" * 32), LockEntry(C, C_PATH, "c" * 32)]
    refs = references(locked, "guard.lock", found)
    evidence = f"deployed by dep-live at commit {LIVE[:8]}"
    assert refs == {
        A: [Reference(fingerprint_of(a_file.ast_fingerprint), evidence, a_file)],
        B: [
            Reference("f" * 32, "locked in guard.lock"),
            Reference(fingerprint_of(b_file.ast_fingerprint), evidence, b_file),
        ],
        C: [Reference("c" * 32, "locked in guard.lock")],
    }
    assert references([], "guard.lock", None) == {}
