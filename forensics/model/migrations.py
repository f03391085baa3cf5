"""Alembic migrations as read statically, their environments, graph problems and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from forensics.model.rules import RuleId
from forensics.model.severity import Severity


class ChangeKind(StrEnum):
    """What one commit did to one migration file."""

    ADDED = "added"
    COSMETIC = "cosmetic"
    CODE = "code"
    METADATA = "metadata"
    DELETED = "deleted"
    PARSE_ERROR = "parse-error"


class GraphEventKind(StrEnum):
    """The kind of a graph problem or event (DESIGN.md's vocabulary of ``history``)."""

    MULTIPLE_HEADS = "multiple-heads"
    DUPLICATE_REVISION = "duplicate-revision"
    MISSING_PARENT = "missing-parent"
    CYCLE = "cycle"
    PARSE_ERROR = "parse-error"
    MISSING_REVISION = "missing-revision"
    UNRESOLVED_METADATA = "unresolved-metadata"


class SourceDialect(StrEnum):
    """The Python a migration file was written for, as far as reading it tells."""

    PYTHON3 = "python3"
    # Does not parse under Python 3 but does under a Python 2 grammar: it ran under Python 2.
    PYTHON2 = "python2"


@dataclass(frozen=True)
class ParseError:
    """Why a migration file does not parse, and where."""

    message: str
    line: int | None = None


@dataclass(frozen=True)
class TableOps:
    """Tables ``upgrade()`` touches through ``op.*`` calls. ``rename`` holds (old, new)."""

    create: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    rename: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class MigrationFile:
    """One version of one migration file, read with ``ast`` only.

    ``unresolved`` names the fields whose value was not a literal and could not be resolved
    statically (``"down_revision"``, ``"branch_labels"``, ``"depends_on"``; ``"revision"``
    when it is present but not literal). ``revision`` is ``None`` when the file has no
    literal revision or does not parse. ``ast_fingerprint`` hashes the AST without what
    formatters change (docstrings, import order, string prefixes:
    ``sources.migration_code.fingerprints`` lists it); ``body_fingerprint`` the same
    without the metadata assignments, so that a change of code can be told from a change
    of metadata.
    ``dialect`` is ``PYTHON2`` for Python 2 source, which is read (metadata and fingerprints)
    from its translation to Python 3 syntax.
    """

    path: str
    revision: str | None
    down_revisions: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    message: str | None = None
    doc_revision: str | None = None
    doc_revises: tuple[str, ...] | None = None
    tables: TableOps = field(default_factory=TableOps)
    parse_error: ParseError | None = None
    revision_line: int | None = None
    text_fingerprint: str = ""
    ast_fingerprint: str | None = None
    blob: str | None = None
    warnings: tuple[str, ...] = ()
    body_fingerprint: str | None = None
    dialect: SourceDialect = SourceDialect.PYTHON3

    @property
    def parses(self) -> bool:
        return self.parse_error is None

    @property
    def docstring_mismatches(self) -> tuple[str, ...]:
        """Where the docstring header (``Revision ID:``, ``Revises:``) disagrees with the
        code. Alembic reads only the code; the header is what people read."""
        found = []
        if self.revision and self.doc_revision and self.doc_revision != self.revision:
            found.append(
                f"docstring says Revision ID {self.doc_revision} but revision is {self.revision}"
            )
        if (
            self.revision
            and self.doc_revises is not None
            and "down_revision" not in self.unresolved
            and set(self.doc_revises) != set(self.down_revisions)
        ):
            said = ", ".join(self.doc_revises) or "nothing"
            found.append(
                f"docstring says Revises {said} but down_revision is "
                f"{', '.join(self.down_revisions) or 'None'}"
            )
        return tuple(found)


@dataclass(frozen=True)
class Environment:
    """An Alembic environment: where its scripts live and which folders hold versions.

    ``config`` is the ini file that configures it (``None`` when only ``env.py`` was found)
    and ``section`` its section there. ``flask`` marks a Flask-Migrate layout: the ini sits
    in the migrations folder with an empty ``[alembic]`` section, the extension sets
    ``script_location`` at run time, and commands run as ``flask db`` from the folder that
    holds the migrations folder.
    """

    name: str
    script_location: str
    versions_dirs: tuple[str, ...]
    config: str | None = None
    section: str = "alembic"
    flask: bool = False

    def owns(self, path: str) -> bool:
        """Whether ``path`` is a migration file of this environment: a ``.py`` file (not
        ``__init__.py``) anywhere below one of its versions folders."""
        if not path.endswith(".py") or path.rsplit("/", 1)[-1] == "__init__.py":
            return False
        return any(
            d in ("", ".") or path.startswith(d.rstrip("/") + "/") for d in self.versions_dirs
        )


@dataclass(frozen=True)
class GraphProblem:
    """A fault in the graph at one moment. ``kind`` is the graph-event kind of DESIGN.md."""

    rule: RuleId
    name: str
    kind: GraphEventKind
    severity: Severity
    detail: str
    revision: str | None = None
    path: str | None = None
    line: int | None = None
    environment: str | None = None

    @property
    def key(self) -> tuple[str | None, ...]:
        """Identity across commits: the same fault seen again is the same open event."""
        return (self.environment, self.kind, self.revision, self.path)


@dataclass(frozen=True)
class GraphState:
    """The graph of one environment at one revision."""

    environment: Environment
    migrations: tuple[MigrationFile, ...]
    heads: tuple[str, ...]
    bases: tuple[str, ...]
    branch_points: tuple[str, ...] = ()
    merge_points: tuple[str, ...] = ()
    problems: tuple[GraphProblem, ...] = ()
    # Every declared revision, parents before children (the members of a cycle together).
    order: tuple[str, ...] = ()

    def by_revision(self) -> dict[str, MigrationFile]:
        return {m.revision: m for m in self.migrations if m.revision}


@dataclass(frozen=True)
class GraphEvent:
    """A problem that appeared at ``commit`` and went away at ``resolved_by`` (or is open)."""

    kind: GraphEventKind
    rule: RuleId
    commit: str
    at: datetime
    detail: str
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    revision: str | None = None
    path: str | None = None
    environment: str | None = None


@dataclass(frozen=True)
class MigrationChange:
    """What one first-parent commit did to one migration file.

    ``authors`` are the non-merge commits that really changed the file (``git log
    --no-merges``); for a plain commit that is the commit itself. ``merge`` is the
    first-parent merge commit that brought them in, if any.
    """

    commit: str
    at: datetime
    path: str
    kind: ChangeKind
    revision: str | None
    old_blob: str | None = None
    new_blob: str | None = None
    old_path: str | None = None
    authors: tuple[str, ...] = ()
    merge: str | None = None
    environment: str | None = None
    before: MigrationFile | None = None
    after: MigrationFile | None = None


@dataclass(frozen=True)
class HistoryPoint:
    """The graph right after one first-parent commit that touched a versions folder."""

    commit: str
    at: datetime
    heads: tuple[tuple[str, tuple[str, ...]], ...]
    problems: tuple[GraphProblem, ...]

    @property
    def broken(self) -> bool:
        return any(p.severity >= Severity.HIGH for p in self.problems)


@dataclass(frozen=True)
class GraphHistory:
    """The graph over the first-parent history of the analysed revision."""

    points: tuple[HistoryPoint, ...] = ()
    events: tuple[GraphEvent, ...] = ()
    changes: tuple[MigrationChange, ...] = ()

    def point_at(self, commit: str) -> HistoryPoint | None:
        for point in self.points:
            if point.commit == commit:
                return point
        return None
