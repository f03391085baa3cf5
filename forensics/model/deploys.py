"""Deploys from any provider, failure windows and the suspects behind them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DeployCategory(StrEnum):
    LIVE = "live"
    FAILED = "failed"
    SUPERSEDED = "superseded"
    CANCELED = "canceled"
    IN_PROGRESS = "in_progress"
    UNKNOWN = "unknown"

    @property
    def succeeded(self) -> bool:
        """Live, or live until a later deploy replaced it."""
        return self in (DeployCategory.LIVE, DeployCategory.SUPERSEDED)


@dataclass(frozen=True)
class Deploy:
    """One deploy. ``commit`` is the full SHA when the repository knows the commit;
    ``commit_ref`` is what the provider gave. ``commit_known`` is False when the commit is
    not in the repository (history rewritten); such deploys are kept and flagged."""

    id: str
    status: str
    category: DeployCategory
    created_at: datetime
    source: str
    commit: str | None = None
    commit_ref: str | None = None
    commit_known: bool = True
    finished_at: datetime | None = None
    service: str | None = None
    message: str | None = None
    trigger: str | None = None


@dataclass(frozen=True)
class Suspect:
    """A commit of a failure window, with its score and the reasons for it."""

    commit: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class FailureWindow:
    """A run of failed deploys between one successful deploy and the next.

    Deploy fields hold deploy ids. ``end`` is the recovering deploy's time, or the last
    failure's when the window is still open (``recovered_by`` is then ``None``).
    """

    start: datetime
    end: datetime
    count: int
    first_failed: str
    last_failed: str
    last_live_before: str | None
    recovered_by: str | None
    deploys: tuple[str, ...] = ()
    suspects: tuple[Suspect, ...] = ()

    @property
    def open(self) -> bool:
        return self.recovered_by is None


@dataclass(frozen=True)
class AppliedMigration:
    """A revision production has applied, and the evidence of when it was applied.

    ``evidence`` is ``deploy`` or ``tag`` when the first successful deploy (or release tag)
    whose tree contains the file is known, else ``none``; ``content_blob`` is the file's
    blob at that point, which is what production ran. ``since_at`` is the time of that
    deploy (or tag); ``since_commit_at`` the commit time of ``since_commit``, which is what
    orders later edits on the first-parent chain against the application point.
    ``earlier_paths`` are the other paths the file had (renames are followed); ``removed``
    is set when no file of its environment declares the revision any more, and ``path`` is
    then the last path it had.
    """

    revision: str
    path: str
    environment: str
    evidence: str = "none"
    since_deploy: str | None = None
    since_commit: str | None = None
    since_at: datetime | None = None
    content_blob: str | None = None
    since_commit_at: datetime | None = None
    earlier_paths: tuple[str, ...] = ()
    removed: bool = False
