"""Commits as mined from git: who, when, what message, which files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ChangeStatus(StrEnum):
    """The status letter git gives a changed path (``--name-status``)."""

    ADDED = "A"
    MODIFIED = "M"
    DELETED = "D"
    RENAMED = "R"
    COPIED = "C"
    TYPE_CHANGED = "T"


@dataclass(frozen=True)
class FileChange:
    """One path a commit changed. ``old_path`` is set for renames and copies; the blob ids
    are ``None`` on the side where the file does not exist."""

    path: str
    status: ChangeStatus
    old_path: str | None = None
    old_blob: str | None = None
    new_blob: str | None = None


@dataclass(frozen=True)
class Person:
    """An author or committer as git recorded them (untrusted text)."""

    name: str
    email: str


@dataclass(frozen=True)
class CommitRecord:
    """A commit. Text fields are untrusted: renderers escape them.

    ``files`` lists the paths changed against the first parent (for a merge, the change it
    brings to the first parent). ``trailers`` holds ``(key, value)`` pairs such as
    ``("Co-Authored-By", "bot <bot@example.com>")``.
    """

    sha: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    authored_at: datetime
    committed_at: datetime
    message: str
    trailers: tuple[tuple[str, str], ...] = ()
    files: tuple[FileChange, ...] = ()
    first_parent: bool = True

    @property
    def short(self) -> str:
        return self.sha[:8]

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0].strip()

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.files)


@dataclass(frozen=True)
class DiffStat:
    """Line counts of one commit, read only for commits a report shows in detail."""

    sha: str
    insertions: int
    deletions: int
    files: tuple[str, ...] = field(default_factory=tuple)
