"""What ``forensics guard`` concludes: its mode, the findings that fail a change, the lock
file's entries and what re-locking changes, and the result a renderer prints."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from forensics.model.findings import Finding

# The commit named for a change that is only staged.
STAGED = "staged"
# The lock's form of a ``MigrationFile.ast_fingerprint``: its first characters.
FINGERPRINT_LENGTH = 32


class GuardMode(StrEnum):
    """What guard did: check a range of commits, check the staged index, or write the lock."""

    RANGE = "range"
    STAGED = "staged"
    WRITE_LOCK = "write-lock"


def fingerprint_of(ast_fingerprint: str) -> str:
    """The lock's form of a ``MigrationFile.ast_fingerprint``."""
    return ast_fingerprint[:FINGERPRINT_LENGTH]


@dataclass(frozen=True)
class LockEntry:
    """An applied migration as the lock file pins it."""

    revision: str
    path: str
    fingerprint: str


@dataclass(frozen=True)
class LockUpdate:
    """What re-locking changes. ``changed`` pairs (old, new) of revisions whose fingerprint
    or path changed; ``removed`` are locked revisions no longer present."""

    added: tuple[LockEntry, ...] = ()
    changed: tuple[tuple[LockEntry, LockEntry], ...] = ()
    removed: tuple[LockEntry, ...] = ()
    unchanged: int = 0

    @property
    def needs_force(self) -> bool:
        return bool(self.changed or self.removed)


@dataclass(frozen=True)
class GuardResult:
    """``violations`` are the findings that fail the change (the detectors' rules and
    wording); ``cosmetic`` lists format-only edits of applied migrations, at low severity
    (also in ``violations`` when ``strict``)."""

    mode: GuardMode
    rev: str | None = None
    base: str | None = None
    violations: tuple[Finding, ...] = ()
    cosmetic: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    lock_update: LockUpdate | None = None
    files_checked: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.violations else 0
