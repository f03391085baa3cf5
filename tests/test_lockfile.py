"""The lock file: semantic fingerprints that a reformat keeps and an edit changes, a
checksum, conflict markers, and re-locking that never blesses an edit silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.errors import InputError
from forensics.lockfile import (
    HEADER,
    LockEntry,
    LockFile,
    compare,
    fingerprint_of,
    format_lock,
    parse_lock,
    read_lock,
    write_lock,
)
from forensics.sources.alembic_files import read_migration
from tests.conftest import migration

A1 = migration("a1b2c3d4e5f6", None, message="create users", body="    op.create_table('users')")
B2 = migration(
    "0b2c3d4e5f60",
    "a1b2c3d4e5f6",
    message="add email",
    body="    op.add_column('users', sa.Column('email', sa.String()))",
)
# What black, isort and a comment would do to A1: same code, other text.
A1_REFORMATTED = (
    A1.replace("op.create_table('users')", 'op.create_table("users")  # the users table')
    .replace(
        "from alembic import op\nimport sqlalchemy as sa\n",
        "import sqlalchemy as sa\nfrom alembic import op\n",
    )
    .replace("revision = 'a1b2c3d4e5f6'", 'revision = "a1b2c3d4e5f6"')
)
A1_EDITED = A1.replace("op.create_table('users')", "op.create_table('accounts')")


def entry(path: str, text: str) -> LockEntry:
    migration_file = read_migration(path, text.encode())
    assert migration_file.revision and migration_file.ast_fingerprint
    return LockEntry(migration_file.revision, path, fingerprint_of(migration_file.ast_fingerprint))


def entries() -> list[LockEntry]:
    return [entry("db/versions/a1_users.py", A1), entry("db/versions/b2 email.py", B2)]


def test_round_trip_keeps_every_entry() -> None:
    text = format_lock(entries())
    assert text.startswith(HEADER + "\n")
    parsed = parse_lock(text)
    assert parsed == LockFile(tuple(sorted(entries(), key=lambda e: e.path)))
    # a path with a space survives
    assert "db/versions/b2 email.py" in {e.path for e in parsed.entries}


def test_paths_with_line_separators_survive_the_round_trip(tmp_path: Path) -> None:
    """Only newline ends a line: a path holding U+2028, NEL or a form feed is read back as
    written, so locking twice needs no --force. A CRLF checkout of the file still reads."""
    odd = [
        entry("db/versions/a1\u2028users.py", A1),
        entry("db/versions/b2\x85\x0c\x1cemail.py", B2),
    ]
    lock = tmp_path / "forensics.lock"
    write_lock(lock, odd)
    assert set(read_lock(lock).entries) == set(odd)
    again = write_lock(lock, odd)
    assert not again.needs_force and again.unchanged == 2
    crlf = lock.read_text(encoding="utf-8").replace("\n", "\r\n")
    assert set(parse_lock(crlf).entries) == set(odd)


def test_reformat_does_not_disturb_the_fingerprint() -> None:
    assert A1_REFORMATTED != A1
    assert entry("p.py", A1_REFORMATTED) == entry("p.py", A1)


def test_edit_is_detected() -> None:
    old = parse_lock(format_lock(entries()))
    edited = [entry("db/versions/a1_users.py", A1_EDITED), entry("db/versions/b2 email.py", B2)]
    update = compare(old, edited)
    assert [(o.revision, n.revision) for o, n in update.changed] == [
        ("a1b2c3d4e5f6", "a1b2c3d4e5f6")
    ]
    assert update.needs_force and update.unchanged == 1 and not update.removed


def test_relocking_an_edit_needs_force_and_is_reported(tmp_path: Path) -> None:
    lock = tmp_path / "forensics.lock"
    first = write_lock(lock, entries())
    assert len(first.added) == 2 and not first.needs_force
    written = lock.read_text()

    edited = [entry("db/versions/a1_users.py", A1_EDITED)]  # a1 edited, b2 gone
    refused = write_lock(lock, edited)
    assert refused.needs_force
    assert [o.revision for o, _n in refused.changed] == ["a1b2c3d4e5f6"]
    assert [e.revision for e in refused.removed] == ["0b2c3d4e5f60"]
    assert lock.read_text() == written  # nothing blessed

    forced = write_lock(lock, edited, force=True)
    assert forced.changed == refused.changed and forced.removed == refused.removed
    assert read_lock(lock).entries == tuple(edited)


def test_relocking_a_reformat_needs_no_force(tmp_path: Path) -> None:
    lock = tmp_path / "forensics.lock"
    write_lock(lock, entries())
    again = write_lock(
        lock,
        [entry("db/versions/a1_users.py", A1_REFORMATTED), entry("db/versions/b2 email.py", B2)],
    )
    assert not again.needs_force and again.unchanged == 2


def conflicted(ours: str, theirs: str) -> str:
    """The lock file as git leaves it after both branches added a migration."""
    lines_ours, lines_theirs = ours.splitlines(), theirs.splitlines()
    common = [line for line in lines_ours if line in lines_theirs and not line.startswith("sum:")]
    only_ours = [line for line in lines_ours if line not in common]
    only_theirs = [line for line in lines_theirs if line not in common]
    return "\n".join(
        [*common, "<<<<<<< HEAD", *only_ours, "=======", *only_theirs, ">>>>>>> feature", ""]
    )


def test_merge_conflict_markers_are_detected(tmp_path: Path) -> None:
    c3 = migration("c3c3c3c3c3c3", "0b2c3d4e5f60", message="ours")
    d4 = migration("d4d4d4d4d4d4", "0b2c3d4e5f60", message="theirs")
    ours = format_lock([*entries(), entry("db/versions/c3.py", c3)])
    theirs = format_lock([*entries(), entry("db/versions/d4.py", d4)])
    lock = tmp_path / "forensics.lock"
    lock.write_text(conflicted(ours, theirs))
    with pytest.raises(InputError) as caught:
        read_lock(lock)
    message = caught.value.message
    assert "merge-conflict markers" in message and "--write-lock" in message
    assert "\n" not in message
    # Rewriting on the merged tree: both sides' entries count, so nothing needs --force.
    merged = [*entries(), entry("db/versions/c3.py", c3), entry("db/versions/d4.py", d4)]
    update = write_lock(lock, merged)
    assert not update.needs_force and update.unchanged == 4
    assert len(read_lock(lock).entries) == 4


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda t: t.replace("a1b2c3d4e5f6  db", "a1b2c3d4e5f7  db"), "sum: line does not match"),
        (lambda t: t + "garbage\n", "line 7 is not"),
        (lambda t: t.replace(HEADER, "# something else"), "not a forensics lock file"),
        (lambda t: "\n".join(x for x in t.splitlines() if not x.startswith("sum:")), "sum:"),
        (lambda t: "", "not a forensics lock file"),
    ],
)
def test_corruption_is_a_clear_error(tmp_path: Path, damage: object, expected: str) -> None:
    lock = tmp_path / "forensics.lock"
    assert callable(damage)
    lock.write_text(damage(format_lock(entries())))
    with pytest.raises(InputError) as caught:
        read_lock(lock)
    assert expected in caught.value.message
    # --write-lock refuses to compare with it unless forced, then replaces it
    with pytest.raises(InputError):
        write_lock(lock, entries())
    write_lock(lock, entries(), force=True)
    assert len(read_lock(lock).entries) == 2


def test_missing_lock_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--write-lock"):
        read_lock(tmp_path / "none.lock")


def test_a_lock_of_the_first_format_asks_to_be_rewritten_and_force_replaces_it(
    tmp_path: Path,
) -> None:
    lock = tmp_path / "forensics.lock"
    write_lock(lock, entries())
    lock.write_text(lock.read_text().replace("forensics.lock/2", "forensics.lock/1", 1))
    with pytest.raises(InputError, match=r"written by an earlier forensics.*--write-lock --force"):
        read_lock(lock)
    with pytest.raises(InputError, match="earlier forensics"):
        write_lock(lock, entries())
    write_lock(lock, entries(), force=True)
    assert read_lock(lock).entries == tuple(entries())
