"""The lock file of ``forensics guard --lock FILE``: the applied migrations and their
semantic fingerprints, for teams without a deploy log.

Like Atlas's ``atlas.sum``, but a fingerprint is the AST fingerprint of the file
(``MigrationFile.ast_fingerprint``: docstrings, comments, formatting, quote style and import
order do not count), so a reformat does not disturb it while any edit of code or metadata
does. Format::

    # forensics.lock/2
    # <comment lines>
    <revision>  <path>  <fingerprint>
    ...
    sum: <sha256 of the entry lines>

The checksum catches hand edits and broken merges; git's conflict markers get their own
message. Re-locking never blesses an edit silently: a changed, moved or removed revision
needs ``force`` and is reported (``LockUpdate``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from forensics.errors import InputError
from forensics.model.guard import FINGERPRINT_LENGTH, LockEntry, LockUpdate, fingerprint_of
from forensics.output import write_atomic

# The entry and update types live in the model (guard's result carries them); they are
# part of this module's interface all the same.
__all__ = [
    "HEADER",
    "LockEntry",
    "LockFile",
    "LockUpdate",
    "compare",
    "fingerprint_of",
    "format_lock",
    "parse_lock",
    "read_lock",
    "write_lock",
]

HEADER = "# forensics.lock/2"
# Version 1 fingerprinted with an older normal form of the AST (quote prefixes, imports and
# annotations counted): its fingerprints cannot be compared with today's.
_OLD_HEADERS = ("# forensics.lock/1",)
_COMMENT = (
    "# Applied migrations and their semantic fingerprints (formatting does not count).",
    "# Written by `forensics guard --write-lock`; do not edit by hand.",
)
_MARKERS = ("<<<<<<<", "|||||||", "=======", ">>>>>>>")


@dataclass(frozen=True)
class LockFile:
    """The entries of a lock file, sorted by path. ``conflicted`` is set when they were
    gathered from both sides of unresolved merge-conflict markers."""

    entries: tuple[LockEntry, ...] = ()
    conflicted: bool = False

    def by_revision(self) -> dict[str, list[LockEntry]]:
        found: dict[str, list[LockEntry]] = {}
        for entry in self.entries:
            found.setdefault(entry.revision, []).append(entry)
        return found


def _line(entry: LockEntry) -> str:
    return f"{entry.revision}  {entry.path}  {entry.fingerprint}"


def _checksum(lines: Iterable[str]) -> str:
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


def format_lock(entries: Iterable[LockEntry]) -> str:
    """The text of a lock file holding ``entries``."""
    ordered = sorted(set(entries), key=lambda e: (e.path, e.revision))
    for entry in ordered:
        if any(c in "\r\n" for c in entry.path) or not entry.revision.strip():
            raise InputError(f"cannot lock {entry.path!r}: its path or revision is not one line")
    lines = [_line(e) for e in ordered]
    return "\n".join([HEADER, *_COMMENT, *lines, f"sum: {_checksum(lines)}"]) + "\n"


def _parse_entry(line: str) -> LockEntry | None:
    revision, _, rest = line.partition(" ")
    path, _, fingerprint = rest.strip().rpartition(" ")
    path = path.strip()
    if not revision or not path or len(fingerprint) != FINGERPRINT_LENGTH:
        return None
    if any(c not in "0123456789abcdef" for c in fingerprint):
        return None
    return LockEntry(revision, path, fingerprint)


def parse_lock(text: str, name: str = "the lock file", *, conflicts_ok: bool = False) -> LockFile:
    """The entries of a lock file's text. Raises ``InputError`` on conflict markers (unless
    ``conflicts_ok``: then both sides' entries are kept and the checksum is not checked),
    on a missing header, a line that is not an entry, or a checksum that does not match."""
    # Split on newlines only: a path may hold U+2028 or a form feed, which splitlines() breaks.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    markers = [i + 1 for i, line in enumerate(lines) if line.startswith(_MARKERS)]
    if markers and not conflicts_ok:
        raise InputError(
            f"{name} has unresolved merge-conflict markers (line {markers[0]}): run "
            f"`forensics guard --write-lock --lock {name}` on the merged tree to rewrite it, "
            "then commit it"
        )
    body = [line for line in lines if line.strip() and not line.startswith(_MARKERS)]
    if body and body[0].strip() in _OLD_HEADERS:
        raise InputError(
            f"{name} was written by an earlier forensics whose fingerprints differ: rewrite it "
            f"with `forensics guard --write-lock --force --lock {name}`"
        )
    if not body or body[0].strip() != HEADER:
        raise InputError(
            f"{name} is not a forensics lock file (its first line is not {HEADER!r}): rewrite "
            f"it with `forensics guard --write-lock --lock {name}`"
        )
    entries: list[LockEntry] = []
    sums: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith(("#", *_MARKERS)):
            continue
        if line.startswith("sum:"):
            sums.append(line[4:].strip())
            continue
        entry = _parse_entry(line)
        if entry is None:
            raise InputError(
                f"{name} is corrupted: line {number} is not `revision  path  fingerprint`; "
                "restore it from git, or rewrite it with `forensics guard --write-lock --force`"
            )
        entries.append(entry)
    if markers:
        return LockFile(tuple(sorted(set(entries), key=lambda e: (e.path, e.revision))), True)
    if len(sums) != 1 or sums[0] != _checksum(_line(e) for e in entries):
        raise InputError(
            f"{name} is corrupted: its sum: line does not match its entries (edited by hand?); "
            "restore it from git, or rewrite it with `forensics guard --write-lock --force`"
        )
    return LockFile(tuple(entries))


def read_lock(path: Path, *, conflicts_ok: bool = False) -> LockFile:
    """Parse the lock file at ``path`` (see ``parse_lock``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"lock file {path} does not exist: create it with "
            f"`forensics guard --write-lock --lock {path}`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read lock file {path} ({exc}): check the path") from None
    return parse_lock(text, str(path), conflicts_ok=conflicts_ok)


def compare(old: LockFile, new: Iterable[LockEntry]) -> LockUpdate:
    """What replacing ``old`` with ``new`` changes, by revision. With a conflicted ``old``
    a revision is unchanged when it matches either side."""
    before = old.by_revision()
    after = {e.revision: e for e in new}
    added: list[LockEntry] = []
    changed: list[tuple[LockEntry, LockEntry]] = []
    unchanged = 0
    for revision, entry in sorted(after.items(), key=lambda kv: kv[1].path):
        previous = before.get(revision)
        if not previous:
            added.append(entry)
        elif entry in previous:
            unchanged += 1
        else:
            changed.append((previous[0], entry))
    removed = [e for rev, es in sorted(before.items()) if rev not in after for e in es[:1]]
    return LockUpdate(tuple(added), tuple(changed), tuple(removed), unchanged)


def write_lock(path: Path, entries: Iterable[LockEntry], *, force: bool = False) -> LockUpdate:
    """Write the lock file, comparing with the one already there (whose merge-conflict
    sides are both taken into account). When a locked revision changed, moved or went
    away, nothing is written unless ``force``; the update says what changed either way.
    A corrupted lock file is an error, or with ``force`` replaced."""
    entries = list(entries)
    old = LockFile()
    if path.exists():
        try:
            old = read_lock(path, conflicts_ok=True)
        except InputError:
            if not force:
                raise
            # --force over a corrupted lock: nothing in it can be trusted to compare with
    update = compare(old, entries)
    if update.needs_force and not force:
        return update
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, format_lock(entries))
    except OSError as exc:
        raise InputError(
            f"cannot write lock file {path} ({exc.strerror}): check the path"
        ) from None
    return update
