"""Evidence the report shows beside the findings: what an edit to an applied migration
changed against the applied content, and where each finding points in the tree."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EditPart(StrEnum):
    """The parts of a migration file an edit can change."""

    UPGRADE = "upgrade()"
    DOWNGRADE = "downgrade()"
    METADATA = "metadata"
    OTHER_FUNCTION = "another function"
    MODULE = "module code"


@dataclass(frozen=True)
class DiffDetail:
    """One file's change between two commits, as PyDriller's ``ModifiedFile`` reads it:
    the unified diff, its added and deleted lines (``diff_parsed``), the functions it
    changed (``changed_methods``) and the line spans of the functions before and after."""

    path: str
    diff: str
    added: tuple[tuple[int, str], ...]
    deleted: tuple[tuple[int, str], ...]
    changed_methods: tuple[str, ...]
    spans_before: tuple[tuple[int, int], ...]
    spans_after: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class EditEvidence:
    """One edit to an applied migration, against the content production applied.

    ``against`` is the commit whose content production applied (``None``: the diff is
    against the edit's parent, as no application point is known). ``diff`` is a unified
    diff, cut to a few dozen lines (``truncated`` then says so); ``added`` and
    ``deleted`` count the lines of the whole diff; an empty ``diff`` means the file is
    back to the applied content."""

    commit: str
    path: str
    revision: str | None
    against: str | None
    parts: tuple[EditPart, ...]
    diff: str
    added: int
    deleted: int
    truncated: bool = False
    # Same code and metadata as the applied content once formatting is ignored.
    cosmetic: bool = False


@dataclass(frozen=True)
class FindingLocation:
    """The file (never a folder) and line a finding points at, for code scanning: the
    line that declares the revision where the file is a migration."""

    fingerprint: str
    path: str
    line: int
