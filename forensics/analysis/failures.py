"""Why a deploy failed, read from its own log: the catalogue of failure signatures, the
classifier, and the re-ranking of a window's suspects by agreement with what the log says.

``SIGNATURES`` is data: what Alembic, SQLAlchemy, the database drivers, Python and the
deploy platforms print, each line pattern with its class and what it means. The patterns
were written from real ``alembic upgrade head`` output (SQLite and PostgreSQL), kept as test
fixtures. A pattern's ``subject`` group captures what the line names (a revision id, a
table); ``subject_before`` is looked for in the lines above when the line itself names none
(a ``SyntaxError`` names its file in the traceback line above it).

A log is classified by its strongest matching line, the earliest among equals: a specific
Alembic or database error outranks the platform's closing "build failed".
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from forensics.errors import redact
from forensics.model.deploys import DeployLog, FailureCause, FailureClass, FailureWindow, Suspect
from forensics.model.migrations import (
    ChangeKind,
    GraphEvent,
    GraphEventKind,
    GraphHistory,
    MigrationChange,
    MigrationFile,
)

F = FailureClass

# How much a line says: a specific error, a usual one, or a generic platform summary.
SPECIFIC, USUAL, GENERIC = 3, 2, 1

EXCERPT_CHARS = 240


@dataclass(frozen=True)
class Signature:
    """One catalogue entry. ``pattern`` is a regular expression searched in each line."""

    id: str
    failure_class: FailureClass
    pattern: str
    meaning: str
    strength: int = USUAL
    subject_before: str | None = None


_OBJECT = r"(?:relation|table|column|type|index|constraint|schema|sequence|function|view)"
_OF = r'(?: (?:of|for|on) (?:relation|table) "[^"]+")?'
_TRACEBACK_FILE = r'^\s*File "(?P<subject>[^"]+\.py)", line \d+'

SIGNATURES: tuple[Signature, ...] = (
    # Alembic
    Signature(
        "alembic-multiple-heads",
        F.MULTIPLE_HEADS,
        r"Multiple head revisions are present",
        "the migration graph has several heads, so `alembic upgrade head` does not know "
        "which one to run; nothing was migrated",
        SPECIFIC,
    ),
    Signature(
        "alembic-cant-locate-revision",
        F.UNKNOWN_REVISION,
        r"Can't locate revision identified by '(?P<subject>[^']+)'",
        "a revision the database or a migration names does not exist in the deployed code "
        "(its file was removed, renamed or its id changed)",
        SPECIFIC,
    ),
    Signature(
        "alembic-missing-down-revision",
        F.UNKNOWN_REVISION,
        r"Revision (?P<subject>\S+) referenced from .+ is not present",
        "a migration's down_revision names a revision that no file defines",
        SPECIFIC,
    ),
    Signature(
        "alembic-no-such-revision",
        F.UNKNOWN_REVISION,
        r"No such revision or branch '(?P<subject>[^']+)'",
        "the target revision or branch does not exist in the deployed code",
        SPECIFIC,
    ),
    Signature(
        "alembic-overlapping-revisions",
        F.OVERLAPPING_REVISIONS,
        r"Requested revision (?P<subject>\S+) overlaps with other requested revisions",
        "the database records two revisions of which one descends from the other; the "
        "alembic_version table and the graph disagree",
        SPECIFIC,
    ),
    Signature(
        "alembic-no-revision-id",
        F.MIGRATION_IMPORT_ERROR,
        r"Could not determine revision id from filename (?P<subject>\S+?)\.? Be sure",
        "a migration file declares no `revision`, so Alembic cannot load the graph",
        SPECIFIC,
    ),
    # Python: a migration (or env.py) that does not import
    Signature(
        "python-syntax-error",
        F.MIGRATION_IMPORT_ERROR,
        r"^\s*(?:SyntaxError|IndentationError|TabError): ",
        "a migration file does not parse, so Alembic cannot load the migration graph",
        SPECIFIC,
        subject_before=_TRACEBACK_FILE,
    ),
    Signature(
        "python-import-error",
        F.MIGRATION_IMPORT_ERROR,
        r"^\s*(?:ModuleNotFoundError|ImportError): ",
        "a migration (or env.py) imports something the deployed code does not have",
        SPECIFIC,
        subject_before=_TRACEBACK_FILE,
    ),
    # The database: objects that are already there, or not there
    Signature(
        "postgres-already-exists",
        F.OBJECT_EXISTS,
        rf'{_OBJECT} "(?P<subject>[^"]+)"{_OF} already exists',
        "the migration creates something the database already has: it was applied by hand, "
        "by another revision, or the migration ran half-way before",
        SPECIFIC,
    ),
    Signature(
        "sqlite-already-exists",
        F.OBJECT_EXISTS,
        r"(?:table|index|view|trigger) [\"'`]?(?P<subject>[\w.]+)[\"'`]? already exists"
        r"|duplicate column name: (?P<column>\w+)",
        "the migration creates something the database already has",
        SPECIFIC,
    ),
    Signature(
        "postgres-does-not-exist",
        F.OBJECT_MISSING,
        rf'{_OBJECT} "(?P<subject>[^"]+)"{_OF} does not exist',
        "the migration alters or drops something the database does not have: the database "
        "is not at the revision the migration expects",
        SPECIFIC,
    ),
    Signature(
        "sqlite-no-such-object",
        F.OBJECT_MISSING,
        r"no such (?:table|column|index|view|trigger): (?P<subject>[\w.]+)",
        "the migration alters or drops something the database does not have",
        SPECIFIC,
    ),
    # Locks and timeouts
    Signature(
        "postgres-lock-timeout",
        F.LOCK_TIMEOUT,
        r"canceling statement due to (?:lock|statement) timeout|LockNotAvailable|QueryCanceled",
        "a migration waited too long for a lock (or ran past the statement timeout): live "
        "traffic held the table",
        SPECIFIC,
    ),
    Signature(
        "database-deadlock",
        F.LOCK_TIMEOUT,
        r"deadlock detected|Lock wait timeout exceeded|database is locked",
        "a migration and live traffic locked each other out",
        SPECIFIC,
    ),
    # Connections
    Signature(
        "database-connection-refused",
        F.CONNECTION_FAILED,
        r"Connection refused|could not connect to server|could not translate host name"
        r"|Name or service not known|connection timed out",
        "the deploy could not reach the database; no migration ran",
    ),
    Signature(
        "database-authentication-failed",
        F.CONNECTION_FAILED,
        r'password authentication failed for user "(?P<subject>[^"]+)"'
        r'|role "(?P<role>[^"]+)" does not exist|database "(?P<db>[^"]+)" does not exist'
        r"|no pg_hba\.conf entry",
        "the deploy reached the database but was not let in (user, password or database "
        "name); no migration ran",
    ),
    # Platforms
    Signature(
        "out-of-memory",
        F.OUT_OF_MEMORY,
        r"(?i)\bout of memory\b|OOMKilled|\bMemoryError\b|Killed process \d+"
        r"|exit(?:ed with)? (?:code|status) 137\b",
        "the process was killed for using too much memory; no migration needs to be at fault",
        SPECIFIC,
    ),
    Signature(
        "health-check-failed",
        F.HEALTH_CHECK_FAILED,
        r"(?i)health ?checks? (?:failed|failing|timed out)|Port scan timeout"
        r"|Readiness probe failed|Liveness probe failed|Error R10",
        "the new version started but never answered its health check, so the platform kept "
        "the previous one",
    ),
    Signature(
        "build-dependency-missing",
        F.BUILD_FAILED,
        r"Could not find a version that satisfies the requirement (?P<subject>\S+)"
        r"|No matching distribution found for (?P<dist>\S+)|npm ERR!|error: failed to solve",
        "the build could not install its dependencies; the code never reached migrations",
    ),
    Signature(
        "missing-environment-variable",
        F.BUILD_FAILED,
        r"(?i)environment variable [\"'`]?(?P<subject>[A-Z][A-Z0-9_]+)[\"'`]? (?:is )?not set"
        r"|missing required environment variable",
        "a required setting is missing from the deploy's environment",
    ),
    Signature(
        "platform-build-failed",
        F.BUILD_FAILED,
        r"(?i)^\W*build failed",
        "the platform reports a failed build and no line says why",
        GENERIC,
    ),
)

_ERRORISH = re.compile(r"(?i)\b(?:error|exception|failed|failure|fatal|panic|killed)\b")
_NOT_A_CAUSE = re.compile(
    r"^\s*(?:Traceback \(most recent call last\)|During handling of|The above)"
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\([AB]")


@cache
def _compiled() -> tuple[tuple[Signature, re.Pattern[str], re.Pattern[str] | None], ...]:
    return tuple(
        (s, re.compile(s.pattern), re.compile(s.subject_before) if s.subject_before else None)
        for s in SIGNATURES
    )


def excerpt(line: str) -> str:
    """A log line as a report may quote it: colour codes and control characters removed,
    credentials redacted, trimmed."""
    text = _ANSI.sub("", line)
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    text = redact(text)
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _subject(match: re.Match[str]) -> str | None:
    found = [value for value in match.groupdict().values() if value]
    return found[0] if found else None


def _subject_above(lines: Sequence[str], index: int, pattern: re.Pattern[str]) -> str | None:
    for line in reversed(lines[max(0, index - 40) : index]):
        found = pattern.search(line)
        if found:
            return _subject(found)
    return None


def classify(log: DeployLog) -> FailureCause:
    """The class of one deploy's log: its strongest signature, the earliest among equals;
    ``unknown`` with the last error-looking line when no signature matches."""
    best: tuple[int, int, Signature, re.Match[str], re.Pattern[str] | None] | None = None
    for index, line in enumerate(log.lines):
        for signature, pattern, before in _compiled():
            if best is not None and signature.strength <= best[0]:
                continue
            match = pattern.search(line)
            if match:
                best = (signature.strength, index, signature, match, before)
    if best is not None:
        _strength, index, signature, match, before = best
        subject = _subject(match)
        if subject is None and before is not None:
            subject = _subject_above(log.lines, index, before)
        return FailureCause(
            deploy=log.deploy,
            failure_class=signature.failure_class,
            signature=signature.id,
            meaning=signature.meaning,
            line=excerpt(log.lines[index]),
            line_number=index + 1,
            subject=excerpt(subject) if subject else None,
        )
    return _unknown(log)


def _unknown(log: DeployLog) -> FailureCause:
    chosen = None
    for index in range(len(log.lines) - 1, -1, -1):
        line = log.lines[index]
        if _ERRORISH.search(line) and not _NOT_A_CAUSE.match(line):
            chosen = index
            break
    if chosen is None:
        chosen = next((i for i in range(len(log.lines) - 1, -1, -1) if log.lines[i].strip()), None)
    return FailureCause(
        deploy=log.deploy,
        failure_class=F.UNKNOWN,
        signature="",
        meaning="no known failure signature in the log; the line quoted is its last error",
        line=excerpt(log.lines[chosen]) if chosen is not None else "",
        line_number=chosen + 1 if chosen is not None else None,
    )


def window_causes(
    windows: Iterable[FailureWindow], logs: Mapping[str, DeployLog]
) -> list[FailureWindow]:
    """Each window with the class of every failed deploy that has a log."""
    return [
        dataclasses.replace(
            window, causes=tuple(classify(logs[d]) for d in window.deploys if d in logs)
        )
        for window in windows
    ]


# Agreement with the log moves a possible cause above every git-only tier (the top one is
# 1.25: a commit that broke the graph and whose lines a later fix changed).
SCORE_LOG_AGREES = 1.5
# A window whose logs all point away from migrations: migration evidence counts for less.
NOT_MIGRATION_FACTOR = 0.5


def _names_file(path: str, logged_path: str) -> bool:
    """Whether the path a log names (absolute on the deploy host, or a bare file name) is
    the repository's ``path``."""
    logged = logged_path.replace("\\", "/")
    return logged.rsplit("/", 1)[-1] == path.rsplit("/", 1)[-1] and (
        "/" not in logged or logged.endswith("/" + path) or logged == path
    )


_EDITS = (ChangeKind.ADDED, ChangeKind.CODE, ChangeKind.METADATA)
_UNLOADABLE = ("parse-error", "missing-revision", "duplicate-revision")


def _points_at(migration: MigrationFile | None, revision: str) -> bool:
    return migration is not None and revision in (
        *migration.down_revisions,
        *migration.depends_on,
    )


def _agreement(
    cause: FailureCause, changes: Sequence[MigrationChange], opened: Sequence[GraphEvent]
) -> str | None:
    """Why this commit fits what the log says, or ``None``. ``changes`` are the commit's
    migration changes; ``opened`` the graph problems it opened."""
    subject = cause.subject
    klass = cause.failure_class
    if klass is F.MULTIPLE_HEADS:
        if any(e.kind == GraphEventKind.MULTIPLE_HEADS for e in opened):
            return "it left the graph with several heads, as the deploy log reports"
        return None
    if klass is F.MIGRATION_IMPORT_ERROR and subject:
        for event in opened:
            if event.kind in _UNLOADABLE and event.path and _names_file(event.path, subject):
                return (
                    f"it left {event.path} unloadable ({event.kind}), the file the deploy log "
                    "says Alembic could not load"
                )
        if cause.signature == "python-import-error":
            for change in changes:
                if change.kind in _EDITS and _names_file(change.path, subject):
                    return f"it changed {change.path}, the file the deploy log says does not import"
        return None
    for change in changes:
        before, after = change.before, change.after
        if klass is F.UNKNOWN_REVISION and subject:
            if change.kind is ChangeKind.DELETED and change.revision == subject:
                return f"it removed revision {subject}, which the deploy log cannot locate"
            if (
                before is not None
                and before.revision == subject
                and (after is None or after.revision != subject)
            ):
                return (
                    f"it changed the id of revision {subject}, which the deploy log cannot locate"
                )
            if _points_at(after, subject) and not _points_at(before, subject):
                return (
                    f"it pointed {change.path} at revision {subject}, which the log cannot locate"
                )
        elif klass in (F.OBJECT_EXISTS, F.OBJECT_MISSING) and subject and after is not None:
            tables = after.tables
            names = {*tables.create, *tables.drop, *(n for pair in tables.rename for n in pair)}
            if subject in names:
                return (
                    f"it changed {change.path}, whose upgrade touches {subject}, the object "
                    "the deploy log names"
                )
    return None


def rerank(window: FailureWindow, history: GraphHistory) -> tuple[Suspect, ...]:
    """The window's suspects re-ranked by agreement with its deploys' logs."""
    if not window.causes or not window.suspects:
        return window.suspects
    if all(c.failure_class.elsewhere for c in window.causes):
        classes = ", ".join(sorted({c.failure_class.value for c in window.causes}))
        return tuple(
            dataclasses.replace(
                s,
                score=s.score * NOT_MIGRATION_FACTOR,
                reasons=(*s.reasons, f"the deploy logs point away from migrations ({classes})"),
            )
            for s in window.suspects
        )
    by_commit: dict[str, list[MigrationChange]] = {}
    for change in history.changes:
        for sha in dict.fromkeys((change.commit, *change.authors)):
            by_commit.setdefault(sha, []).append(change)
    opened: dict[str, list[GraphEvent]] = {}
    for event in history.events:
        opened.setdefault(event.commit, []).append(event)
    causes = [c for c in window.causes if c.failure_class.migration_related]
    ranked = []
    for suspect in window.suspects:
        reasons = [
            reason
            for cause in causes
            if (
                reason := _agreement(
                    cause, by_commit.get(suspect.commit, ()), opened.get(suspect.commit, ())
                )
            )
            is not None
        ]
        # A later commit that agrees with the log kept the deploys failing; it still
        # cannot have caused them, so it keeps its place after the possible causes.
        if reasons and suspect.can_cause:
            unique = tuple(dict.fromkeys(reasons))
            ranked.append(
                dataclasses.replace(
                    suspect,
                    score=SCORE_LOG_AGREES,
                    reasons=(*unique, *suspect.reasons),
                )
            )
        elif reasons:
            unique = tuple(dict.fromkeys(reasons))
            ranked.append(dataclasses.replace(suspect, reasons=(*unique, *suspect.reasons)))
        else:
            ranked.append(suspect)
    return tuple(sorted(ranked, key=lambda s: s.order))
