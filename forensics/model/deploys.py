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


class FailureClass(StrEnum):
    """Why a deploy failed, as its own log says (see ``analysis.failures`` for the catalogue)."""

    MULTIPLE_HEADS = "multiple-heads"
    UNKNOWN_REVISION = "unknown-revision"
    OVERLAPPING_REVISIONS = "overlapping-revisions"
    MIGRATION_IMPORT_ERROR = "migration-import-error"
    OBJECT_EXISTS = "object-exists"
    OBJECT_MISSING = "object-missing"
    LOCK_TIMEOUT = "lock-timeout"
    CONNECTION_FAILED = "connection-failed"
    OUT_OF_MEMORY = "out-of-memory"
    HEALTH_CHECK_FAILED = "health-check-failed"
    BUILD_FAILED = "build-failed"
    UNKNOWN = "unknown"

    @property
    def migration_related(self) -> bool:
        """A failure of the migrations themselves."""
        return self in _MIGRATION_CLASSES

    @property
    def elsewhere(self) -> bool:
        """A failure no migration causes (memory, health checks, builds, the connection)."""
        return self in _ELSEWHERE_CLASSES


_MIGRATION_CLASSES = frozenset(
    {
        FailureClass.MULTIPLE_HEADS,
        FailureClass.UNKNOWN_REVISION,
        FailureClass.OVERLAPPING_REVISIONS,
        FailureClass.MIGRATION_IMPORT_ERROR,
        FailureClass.OBJECT_EXISTS,
        FailureClass.OBJECT_MISSING,
        FailureClass.LOCK_TIMEOUT,
    }
)
_ELSEWHERE_CLASSES = frozenset(
    {
        FailureClass.OUT_OF_MEMORY,
        FailureClass.HEALTH_CHECK_FAILED,
        FailureClass.BUILD_FAILED,
        FailureClass.CONNECTION_FAILED,
    }
)


@dataclass(frozen=True)
class DeployLog:
    """The log of one deploy, as a log source read it: lines without their line endings,
    undecodable bytes replaced. ``truncated`` says that part of a huge log was left out."""

    deploy: str
    lines: tuple[str, ...]
    source: str
    truncated: bool = False


@dataclass(frozen=True)
class FailureCause:
    """One failed deploy's class, with the log line that shows it.

    ``line`` is that line as the report may quote it (trimmed, credentials redacted, not
    yet escaped: each renderer escapes for its own format); ``line_number`` counts from 1 in
    the log as read. ``signature`` names the catalogue entry; ``subject`` is what the line
    names (a revision id, a file, a table), when it names one.
    """

    deploy: str
    failure_class: FailureClass
    signature: str
    meaning: str
    line: str
    line_number: int | None = None
    subject: str | None = None


class SuspectRole(StrEnum):
    """Where a suspect sits against the window's deploys.

    ``cause``: between the last good deploy's commit and the first failed deploy's commit
    (by ancestry), so it can have caused the failures; ``later``: after the first failed
    deploy's commit, so it can only have kept the deploys failing or tried to fix them;
    ``unbounded``: no good deploy is known, so the cause cannot be bounded.
    """

    CAUSE = "cause"
    LATER = "later"
    UNBOUNDED = "unbounded"


@dataclass(frozen=True)
class Suspect:
    """A commit of a failure window, with its score, its role and the reasons for it.
    ``failed_fix`` marks a later commit that broke the migration graph in a new way."""

    commit: str
    score: float
    reasons: tuple[str, ...]
    role: SuspectRole = SuspectRole.CAUSE
    failed_fix: bool = False

    @property
    def can_cause(self) -> bool:
        return self.role is not SuspectRole.LATER

    @property
    def order(self) -> tuple[int, float]:
        """Sort key: possible causes by score, then the later commits (whose own order,
        by time, a stable sort keeps)."""
        return (0, -self.score) if self.can_cause else (1, 0.0)


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
    causes: tuple[FailureCause, ...] = ()

    @property
    def open(self) -> bool:
        return self.recovered_by is None

    @property
    def class_counts(self) -> tuple[tuple[FailureClass, int], ...]:
        """How many of the classified deploys fell in each class, the commonest first."""
        counts: dict[FailureClass, int] = {}
        for cause in self.causes:
            counts[cause.failure_class] = counts.get(cause.failure_class, 0) + 1
        return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0].value)))


class AppliedEvidence(StrEnum):
    """What shows when production applied a migration."""

    DEPLOY = "deploy"
    TAG = "tag"
    NONE = "none"


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
    evidence: AppliedEvidence = AppliedEvidence.NONE
    since_deploy: str | None = None
    since_commit: str | None = None
    since_at: datetime | None = None
    content_blob: str | None = None
    since_commit_at: datetime | None = None
    earlier_paths: tuple[str, ...] = ()
    removed: bool = False
