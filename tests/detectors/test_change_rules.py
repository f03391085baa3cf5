"""The rules of a guarded change on both sides read from migration texts with the real reader
and graph builder: applied migrations edited, rewired or removed (FX201-FX203), graph faults
the change adds (FX101-FX106), and the lock file's refusals; each with its fix command."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pytest

from forensics.analysis import shell
from forensics.analysis.snapshots import Blame, Reference, Snapshot, references
from forensics.detectors.change_rules import (
    applied_changes,
    lock_refusals,
    new_problems,
    relock_notes,
)
from forensics.model.commits import ChangeStatus, CommitRecord, FileChange
from forensics.model.findings import ChangeRef, Finding, Severity
from forensics.model.guard import STAGED, LockEntry, LockUpdate, fingerprint_of
from forensics.model.migrations import ChangeKind, MigrationFile
from forensics.model.rules import RuleId
from tests.analysis.demo_states import ENV, blob_id, migration_file, state_of
from tests.analysis.test_bursts import record
from tests.conftest import migration

V = ENV.versions_dirs[0]
A, B, C, X = "a1a1a1a1a1a1", "b2b2b2b2b2b2", "c3c3c3c3c3c3", "x9x9x9x9x9x9"
A_PATH, B_PATH = f"{V}/a1_users.py", f"{V}/b2_email.py"
C_PATH, X_PATH = f"{V}/c3_index.py", f"{V}/x9_index.py"
A_TEXT = migration(A, None, message="users", body="    op.create_table('users')")
B_TEXT = migration(B, A, message="email", body="    op.add_column('users', sa.Column('e'))")
B_CODE = B_TEXT.replace("'e'", "'email'")
B_BLACK = B_TEXT.replace("'users'", '"users"').replace(f"'{A}'", f'"{A}"')
B_REWIRED = B_TEXT.replace(f"down_revision = '{A}'", f"down_revision = '{X}'")
B_BROKEN = B_TEXT.replace("def upgrade():", "def upgrade(:")
X_TEXT = migration(X, A, message="index")
BASE = "0123456789ab"
LOCK = "migrations.lock"
FORWARD = "cd backend && alembic revision -m 'carry forward the intended changes to {}' --head {}"
DEPLOYED = {A_PATH: A_TEXT, B_PATH: B_TEXT}

Files = Mapping[str, str]


def snap(files: Files) -> Snapshot:
    return Snapshot.of([state_of(files)])


def restore(path: str) -> str:
    """The command guard gives for a range: the file as the base commit has it."""
    return shell.shown("git", "restore", "--source", shell.commit(BASE), "--", shell.path(path))


def restored(path: str) -> str:
    return f"`git restore --source {BASE} -- {path}`"


def locked(files: Files, *revisions: str) -> dict[str, list[Reference]]:
    """What production applied: ``revisions`` locked as ``files`` have them."""
    side = snap(files)
    entries = []
    for revision in revisions:
        file = side.by_revision[revision][0]
        entries.append(LockEntry(revision, file.path, fingerprint_of(file.ast_fingerprint or "")))
    return references(entries, LOCK, None)


def commit(sha: str, before: Files, after: Files) -> CommitRecord:
    """A commit of the change: each path whose text differs between the two sides."""
    changes = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        status = ChangeStatus.MODIFIED if old and new else ChangeStatus.ADDED
        changes.append(
            FileChange(
                path,
                ChangeStatus.DELETED if new is None else status,
                old_blob=blob_id(old.encode()) if old else None,
                new_blob=blob_id(new.encode()) if new else None,
            )
        )
    return replace(record(sha, len(sha)), files=tuple(changes))


def blame(*sides: Files, shas: tuple[str, ...] = ()) -> Blame:
    """The blame of a range whose commits go from each side to the next (``shas`` names
    them), or of the staged index when there are no ``shas``."""
    if not shas:
        return Blame(None, lambda _path, _blob: None)
    files: dict[str, MigrationFile] = {
        blob_id(t.encode()): migration_file(p, t) for side in sides for p, t in side.items()
    }
    commits = [
        commit(sha, old, new) for sha, old, new in zip(shas, sides[:-1], sides[1:], strict=True)
    ]
    return Blame(commits[::-1], lambda _path, blob: files.get(blob or ""))


def check(
    before: Files,
    after: Files,
    refs: dict[str, list[Reference]],
    *between: Files,
    shas: tuple[str, ...] = (),
) -> tuple[list[Finding], list[Finding], int]:
    return applied_changes(
        snap(before), snap(after), refs, blame(before, *between, after, shas=shas), restore
    )


# -- FX201 applied-migration-modified -------------------------------------------------------
@pytest.mark.rule("FX201", fires=True)
def test_code_edit_of_an_applied_migration_fails_with_the_commit_and_the_fix() -> None:
    after = {**DEPLOYED, B_PATH: B_CODE}
    failing, cosmetic, checked = check(DEPLOYED, after, locked(DEPLOYED, A, B), shas=("c" * 40,))
    (found,) = failing
    assert (cosmetic, checked) == ([], 1)
    assert (found.rule, found.name, found.severity) == (
        RuleId.FX201,
        "applied-migration-modified",
        Severity.HIGH,
    )
    assert (found.revision, found.path, found.commits) == (B, B_PATH, ("c" * 40,))
    assert found.changes == (ChangeRef("c" * 40, ChangeKind.CODE),)
    assert found.line == migration_file(B_PATH, B_CODE).revision_line
    assert f"is applied (locked in {LOCK}) and commit cccccccc changed its code" in found.detail
    assert FORWARD.format(B, B) in found.detail
    assert found.detail.endswith(f"then put the file back ({restored(B_PATH)})")


@pytest.mark.rule("FX201", fires=True)
def test_staged_parse_error_of_an_applied_migration_fails_once() -> None:
    before, after = snap(DEPLOYED), snap({**DEPLOYED, B_PATH: B_BROKEN})
    staged = blame()
    failing, cosmetic, _checked = applied_changes(
        before, after, locked(DEPLOYED, A, B), staged, restore
    )
    (found,) = failing
    assert (found.rule, found.revision, found.path, found.commits) == (
        RuleId.FX201,
        B,
        B_PATH,
        (STAGED,),
    )
    assert found.changes == (ChangeRef(STAGED, ChangeKind.PARSE_ERROR),)
    assert "the staged change left it unparseable" in found.detail
    assert FORWARD.format(B, B) in found.detail and restored(B_PATH) in found.detail
    assert cosmetic == []
    # The syntax error is a graph fault too (FX105), but the file already has its finding.
    assert new_problems(before, after, staged, {f.path for f in failing}) == []
    (fault,) = new_problems(before, after, staged, set())
    assert (fault.rule, fault.path) == (RuleId.FX105, B_PATH)


@pytest.mark.rule("FX201", fires=False)
@pytest.mark.rule("FX202", fires=False)
@pytest.mark.parametrize("text", [B_CODE, B_REWIRED, B_BROKEN], ids=["code", "rewire", "broken"])
def test_edit_of_an_unapplied_migration_passes(text: str) -> None:
    failing, cosmetic, checked = check(DEPLOYED, {**DEPLOYED, B_PATH: text}, locked(DEPLOYED, A))
    assert (failing, cosmetic, checked) == ([], [], 0)


@pytest.mark.rule("FX201", fires=False)
def test_cosmetic_edit_is_listed_apart_at_low_severity() -> None:
    after = {**DEPLOYED, B_PATH: B_BLACK}
    failing, cosmetic, checked = check(DEPLOYED, after, locked(DEPLOYED, A, B), shas=("d" * 40,))
    (found,) = cosmetic
    assert (failing, checked) == ([], 1)
    assert (found.rule, found.severity, found.revision, found.path, found.commits) == (
        RuleId.FX201,
        Severity.LOW,
        B,
        B_PATH,
        ("d" * 40,),
    )
    assert found.changes == (ChangeRef("d" * 40, ChangeKind.COSMETIC),)
    assert "commit dddddddd reformatted applied migration" in found.detail
    # an annotation (--strict under CI) points at the line that declares the revision
    assert found.line is not None and B_BLACK.splitlines()[found.line - 1].startswith("revision")


@pytest.mark.rule("FX201", fires=False)
def test_restoring_the_applied_content_passes_and_is_not_called_a_reformat() -> None:
    edited = {**DEPLOYED, B_PATH: B_CODE}
    failing, cosmetic, checked = check(edited, DEPLOYED, locked(DEPLOYED, A, B), shas=("e" * 40,))
    assert (failing, cosmetic, checked) == ([], [], 1)


@pytest.mark.rule("FX201", fires=False)
def test_reformat_of_a_file_that_already_differed_from_production_passes() -> None:
    """Only the change is judged: the edit before the base is not this change's doing."""
    edited = {**DEPLOYED, B_PATH: B_CODE}
    black = {**DEPLOYED, B_PATH: B_CODE.replace("'users'", '"users"')}
    failing, cosmetic, _checked = check(edited, black, locked(DEPLOYED, A, B), shas=("f" * 40,))
    assert (failing, cosmetic) == ([], [])


def test_a_range_blames_only_the_commit_that_changed_code() -> None:
    black, code = {**DEPLOYED, B_PATH: B_BLACK}, {**DEPLOYED, B_PATH: B_CODE}
    shas = ("1" * 40, "2" * 40, "3" * 40)
    failing, _cosmetic, _checked = check(
        DEPLOYED,
        DEPLOYED | {B_PATH: B_CODE + "# done\n"},
        locked(DEPLOYED, A, B),
        black,
        code,
        shas=shas,
    )
    (found,) = failing
    assert found.commits == ("2" * 40,)
    assert "commit 22222222 changed its code" in found.detail


# -- FX202 applied-migration-rewired --------------------------------------------------------
@pytest.mark.rule("FX202", fires=True)
def test_rewire_of_an_applied_migration_fails_and_names_the_field() -> None:
    after = {**DEPLOYED, X_PATH: X_TEXT, B_PATH: B_REWIRED}
    failing, _cosmetic, _checked = check(DEPLOYED, after, locked(DEPLOYED, A, B), shas=("a" * 40,))
    (found,) = failing
    assert (found.rule, found.name, found.severity) == (
        RuleId.FX202,
        "applied-migration-rewired",
        Severity.HIGH,
    )
    assert (found.revision, found.path, found.commits) == (B, B_PATH, ("a" * 40,))
    assert found.changes == (ChangeRef("a" * 40, ChangeKind.METADATA),)
    assert f"rewired it (down_revision {A} -> {X})" in found.detail
    assert FORWARD.format(B, B) in found.detail and restored(B_PATH) in found.detail


@pytest.mark.rule("FX202", fires=True)
def test_renumbered_applied_file_fails_at_its_path() -> None:
    after = {**DEPLOYED, B_PATH: B_TEXT.replace(f"revision = '{B}'", f"revision = '{C}'")}
    failing, _cosmetic, _checked = check(DEPLOYED, after, locked(DEPLOYED, A, B))
    (found,) = failing
    assert (found.rule, found.revision, found.path, found.commits) == (
        RuleId.FX202,
        B,
        B_PATH,
        (STAGED,),
    )
    assert f"revision {B} -> {C}" in found.detail
    assert FORWARD.format(B, C) in found.detail  # the head is the renumbered file now


def test_edit_measured_against_the_deployed_file_when_the_change_adds_it_back() -> None:
    """The file was gone before the change; the change brings back an edited version."""
    deploy = snap(DEPLOYED)
    file = deploy.by_revision[B][0]
    refs = {B: [Reference(fingerprint_of(file.ast_fingerprint or ""), "deployed by d1", file)]}
    gone = {A_PATH: A_TEXT}
    failing, _cosmetic, _checked = check(gone, {**gone, B_PATH: B_REWIRED}, refs)
    (found,) = failing
    assert (found.rule, found.revision, found.changes) == (
        RuleId.FX202,
        B,
        (ChangeRef(STAGED, ChangeKind.METADATA),),
    )
    assert f"down_revision {A} -> {X}" in found.detail and "(deployed by d1)" in found.detail
    # Brought back as it was deployed: nothing to say.
    assert check(gone, DEPLOYED, refs) == ([], [], 1)


# -- FX203 applied-migration-removed --------------------------------------------------------
@pytest.mark.rule("FX203", fires=True)
def test_removed_applied_migration_fails_with_the_restore_command() -> None:
    after = {A_PATH: A_TEXT}
    failing, _cosmetic, checked = check(DEPLOYED, after, locked(DEPLOYED, A, B), shas=("b" * 40,))
    (found,) = failing
    assert checked == 1
    assert (found.rule, found.name, found.severity) == (
        RuleId.FX203,
        "applied-migration-removed",
        Severity.HIGH,
    )
    assert (found.revision, found.path, found.commits) == (B, B_PATH, ("b" * 40,))
    assert found.changes == (ChangeRef("b" * 40, ChangeKind.DELETED),)
    assert found.line == migration_file(B_PATH, B_TEXT).revision_line
    assert f"Put it back ({restored(B_PATH)})" in found.detail


@pytest.mark.rule("FX203", fires=False)
def test_moved_unchanged_or_already_gone_applied_migration_passes() -> None:
    moved = {A_PATH: A_TEXT, f"{V}/archive/b2_email.py": B_TEXT}
    assert check(DEPLOYED, moved, locked(DEPLOYED, A, B)) == ([], [], 0)
    gone = {A_PATH: A_TEXT}
    assert check(gone, gone, locked(DEPLOYED, A, B)) == ([], [], 0)


# -- graph faults the change adds -----------------------------------------------------------
@pytest.mark.rule("FX101", fires=True)
def test_second_head_fails_with_the_merge_command() -> None:
    before, after = snap(DEPLOYED), snap({**DEPLOYED, C_PATH: migration(C, A)})
    (found,) = new_problems(before, after, blame(), set())
    assert (found.rule, found.name, found.severity) == (
        RuleId.FX101,
        "multiple-heads",
        Severity.HIGH,
    )
    assert (found.revision, found.path, found.commits) == (C, C_PATH, (STAGED,))
    assert "(added by the staged change)" in found.detail
    assert "base the new migration on the current head instead" in found.detail
    assert f"`cd backend && alembic merge -m 'merge heads' {B} {C}`" in found.detail


@pytest.mark.rule("FX101", fires=False)
@pytest.mark.rule("FX102", fires=False)
@pytest.mark.rule("FX103", fires=False)
def test_new_migration_on_the_head_passes() -> None:
    before, after = snap(DEPLOYED), snap({**DEPLOYED, C_PATH: migration(C, B)})
    assert new_problems(before, after, blame(), set()) == []


FAULTS = [
    pytest.param(
        {C_PATH: migration(B, A, message="copy")},
        RuleId.FX102,
        B,
        C_PATH,
        "give the new file its own revision id",
        id="FX102",
    ),
    pytest.param(
        {C_PATH: migration(C, "zzzzzzzzzzzz")},
        RuleId.FX103,
        C,
        C_PATH,
        "point down_revision at an existing revision",
        id="FX103",
    ),
    pytest.param(
        {C_PATH: migration(C, X), X_PATH: migration(X, C)},
        RuleId.FX104,
        C,
        C_PATH,
        "break the cycle",
        id="FX104",
    ),
    pytest.param(
        {C_PATH: migration(C, B, body="    op.create_table(")},
        RuleId.FX105,
        None,
        C_PATH,
        "fix the syntax error",
        id="FX105",
    ),
    pytest.param(
        {C_PATH: migration(None, B)},
        RuleId.FX106,
        None,
        C_PATH,
        'give the file a literal `revision = "..."`',
        id="FX106",
    ),
]


@pytest.mark.rule("FX102", fires=True)
@pytest.mark.rule("FX103", fires=True)
@pytest.mark.rule("FX104", fires=True)
@pytest.mark.rule("FX105", fires=True)
@pytest.mark.rule("FX106", fires=True)
@pytest.mark.parametrize(("added", "rule", "revision", "path", "hint"), FAULTS)
def test_graph_fault_the_change_adds_fails_with_its_fix(
    added: Files, rule: RuleId, revision: str | None, path: str | None, hint: str
) -> None:
    after = {**DEPLOYED, **added}
    shas = ("9" * 40,)
    found = new_problems(snap(DEPLOYED), snap(after), blame(DEPLOYED, after, shas=shas), set())
    (fault,) = [f for f in found if f.rule == rule]
    assert (fault.name, fault.severity) == (rule.rule.name, rule.rule.severity)
    assert (fault.revision, fault.path, fault.commits) == (revision, path, shas)
    assert f"(added by commit 99999999): {hint}" in fault.detail


@pytest.mark.rule("FX101", fires=False)
@pytest.mark.rule("FX102", fires=False)
@pytest.mark.rule("FX103", fires=False)
@pytest.mark.rule("FX104", fires=False)
@pytest.mark.rule("FX105", fires=False)
@pytest.mark.rule("FX106", fires=False)
@pytest.mark.parametrize(
    "added",
    [
        pytest.param({C_PATH: migration(C, A)}, id="FX101"),
        *(pytest.param(p.values[0], id=p.id) for p in FAULTS),
    ],
)
def test_graph_fault_already_present_before_the_change_is_not_reported_again(
    added: Files,
) -> None:
    faulty = {**DEPLOYED, **added}
    before = snap(faulty)
    assert before.problems, "the case must start from a faulty graph"
    # The change edits an unrelated file: the fault stays, and is not its doing.
    after = snap({**faulty, A_PATH: A_TEXT + "# note\n"})
    assert new_problems(before, after, blame(), set()) == []


# -- the lock file --------------------------------------------------------------------------
OLD_B = LockEntry(B, B_PATH, "1" * 32)
MOVED_B = LockEntry(B, f"{V}/moved.py", "1" * 32)
EDITED_B = LockEntry(B, B_PATH, "2" * 32)
GONE_A = LockEntry(A, A_PATH, "3" * 32)


@pytest.mark.rule("FX201", fires=True)
@pytest.mark.rule("FX203", fires=True)
def test_relock_that_would_bless_an_edit_is_refused() -> None:
    update = LockUpdate(changed=((OLD_B, EDITED_B), (OLD_B, MOVED_B)), removed=(GONE_A,))
    refused, notes = lock_refusals(update, "HEAD", force=False)
    assert notes == []
    assert [(f.rule, f.severity, f.revision, f.path, f.commits, f.changes) for f in refused] == [
        (RuleId.FX201, Severity.HIGH, B, B_PATH, (), ()),
        (RuleId.FX201, Severity.HIGH, B, MOVED_B.path, (), ()),
        (RuleId.FX203, Severity.HIGH, A, A_PATH, (), ()),
    ]
    assert refused[0].title == f"Locked migration {B} changed its fingerprint"
    assert refused[1].title == f"Locked migration {B} moved to {MOVED_B.path}"
    assert all("--force" in f.detail for f in refused)
    assert f"{A_PATH}: locked migration {A} is gone at HEAD" in refused[2].detail


@pytest.mark.rule("FX201", fires=False)
@pytest.mark.rule("FX203", fires=False)
def test_forced_relock_is_noted_not_refused() -> None:
    update = LockUpdate(changed=((OLD_B, EDITED_B),), removed=(GONE_A,), unchanged=3)
    refused, notes = lock_refusals(update, "HEAD", force=True)
    assert refused == []
    assert notes == [
        f"re-locked {B} ({B_PATH}), which changed its fingerprint (--force)",
        f"unlocked {A} ({A_PATH}), which is gone (--force)",
    ]
    assert lock_refusals(LockUpdate(added=(OLD_B,), unchanged=1), "HEAD", force=False) == ([], [])


def test_relock_notes_say_what_a_tracked_lock_changed() -> None:
    update = LockUpdate(changed=((OLD_B, EDITED_B),), removed=(GONE_A,))
    notes = relock_notes(LOCK, update)
    assert len(notes) == 2
    assert notes[0].startswith(f"{LOCK}: this change re-locks {B} ({B_PATH}), whose fingerprint")
    assert notes[1] == f"{LOCK}: this change unlocks {A} ({A_PATH}); make sure that was intended"
    assert relock_notes(LOCK, LockUpdate(added=(OLD_B,))) == []


# -- untrusted values -----------------------------------------------------------------------
@pytest.mark.parametrize("hostile", ["$(touch x)", "b2`touch x`", "b2\nrm -rf ~"])
def test_hostile_revision_id_never_yields_a_pasteable_command(hostile: str) -> None:
    evil = migration(hostile, A, body="    op.add_column('users', sa.Column('e'))")
    before = {A_PATH: A_TEXT, B_PATH: evil}
    after = {A_PATH: A_TEXT, B_PATH: evil.replace("'e'", "'email'")}
    failing, _cosmetic, _checked = check(before, after, locked(before, A, hostile))
    (found,) = failing
    assert (found.rule, found.revision) == (RuleId.FX201, hostile)
    assert "Carry the intended change forward in a new migration (no command:" in found.detail
    assert "alembic revision" not in found.detail
    assert found.detail.endswith(f"then put the file back ({restored(B_PATH)})")  # a sane path
    # A second head next to the hostile one: no merge command either.
    forked = snap({**before, C_PATH: migration(C, A)})
    (head,) = new_problems(snap(before), forked, blame(), set())
    assert head.rule == RuleId.FX101
    assert "merge the 2 heads (no command:" in head.detail and "alembic merge" not in head.detail


def _path_findings(hostile: str) -> tuple[Finding, Finding]:
    """The edit and the removal of applied migration b2 whose file is at ``hostile``."""
    before = {A_PATH: A_TEXT, hostile: B_TEXT}
    refs = locked(before, A, B)
    (changed,), _cosmetic, _checked = check(before, {**before, hostile: B_CODE}, refs)
    (removed,), _cosmetic, _checked = check(before, {A_PATH: A_TEXT}, refs)
    assert (changed.rule, changed.path) == (RuleId.FX201, hostile)
    assert (removed.rule, removed.path) == (RuleId.FX203, hostile)
    return changed, removed


@pytest.mark.parametrize("name", ["b2\n$(touch x).py", "b2\r.py", "b2\x1b[2J.py"])
def test_path_with_control_characters_never_yields_a_pasteable_command(name: str) -> None:
    changed, removed = _path_findings(f"{V}/{name}")
    assert "then put the file back ((no command:" in changed.detail
    assert "Put it back ((no command:" in removed.detail
    assert "git restore" not in changed.detail + removed.detail


@pytest.mark.parametrize("name", ["b2;touch x.py", "$(touch x).py", "b2 `id`.py"])
def test_path_with_shell_metacharacters_is_quoted_as_one_word(name: str) -> None:
    hostile = f"{V}/{name}"
    changed, removed = _path_findings(hostile)
    command = f"`git restore --source {BASE} -- '{hostile}'`"
    assert changed.detail.endswith(f"then put the file back ({command})")
    assert f"Put it back ({command})" in removed.detail
