"""The findings store of ``forensics audit``: what each weekly audit found, so that the next
one can say what is new, what is still open and what got fixed.

SQLAlchemy at ``--store URL`` (a plain path means a SQLite file; the default is
``reports/forensics.db``; ``postgresql://`` URLs use psycopg). The store keeps its own schema
in order with Alembic (``forensics/store_migrations``), upgraded on open, in the same locked
transaction as everything else.

Semantics, per repository (``repo_key``):

- One audit per id (``audit-<ISO year>-W<week>``): re-running a week replaces that week's
  audit and its findings; nothing is duplicated.
- The *previous* audit of a run is the audit the store held last for the repository when the
  run started: the latest one of the same or an earlier week. For the first run of a week
  that is last week's audit; for a re-run it is this week's earlier run (same id), which the
  re-run then replaces. So a re-run on an unchanged repository reports nothing new, the same
  findings still open, and names the run it replaces as previous.
- ``new`` are fingerprints not in the previous audit, ``still_open`` those in both,
  ``resolved`` those only in the previous audit (their findings come back as stored).

Concurrency: every read and write runs in one transaction that takes the store's write lock
first (SQLite: ``BEGIN IMMEDIATE`` with a busy timeout; PostgreSQL: a transaction-scoped
advisory lock), so two audits at once are serialised and never interleave.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from forensics.config import to_utc
from forensics.errors import InputError, redact
from forensics.model.findings import ChangeRef, Confidence, Finding, Severity
from forensics.model.incidents import IncidentStatus
from forensics.model.metrics import WeekMetrics, from_figures
from forensics.model.migrations import ChangeKind
from forensics.model.report import AuditDiff
from forensics.model.rules import RuleId
from forensics.render.json import finding_json
from forensics.sources.database import database_url

DEFAULT_STORE = "reports/forensics.db"
MIGRATIONS = Path(__file__).parent / "store_migrations"
VERSION_TABLE = "forensics_store_version"
# The head of store_migrations/versions (a test keeps the two equal). A store already at
# head is used without loading Alembic, which costs a tenth of a second per audit.
SCHEMA_HEAD = "0002_metrics"
_PG_LOCK_KEY = 0x666F72656E73  # any constant: one advisory lock for the whole store
_SQLITE_BUSY_SECONDS = 60.0
_WEEK = re.compile(r"(\d{4})-W(\d{2})")

_metadata = sa.MetaData()
# The schema at head, as the queries see it (versions/ creates it; this never does).
_audits = sa.Table(
    "forensics_audits",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("repo_key", sa.String(512), nullable=False),
    sa.Column("audit_id", sa.String(64), nullable=False),
    sa.Column("week", sa.String(10), nullable=False),
    sa.Column("rev", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("previous", sa.String(64)),
    sa.Column("finding_count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16)),
    sa.Column("report", sa.Text),
)
_findings = sa.Table(
    "forensics_findings",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("audit_pk", sa.Integer, sa.ForeignKey("forensics_audits.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("rule", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("revision", sa.String(255)),
    sa.Column("path", sa.Text),
    sa.Column("payload", sa.Text, nullable=False),
)
_metrics = sa.Table(
    "forensics_metrics",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("audit_pk", sa.Integer, sa.ForeignKey("forensics_audits.id"), nullable=False),
    sa.Column("repo_key", sa.String(512), nullable=False),
    sa.Column("audit_id", sa.String(64), nullable=False),
    sa.Column("week", sa.String(10), nullable=False),
    sa.Column("metric", sa.String(64), nullable=False),
    sa.Column("value", sa.Float),
)


def audit_id_for(moment: datetime) -> str:
    """The audit id of the ISO week holding ``moment`` (UTC): ``audit-2025-W46``."""
    iso = to_utc(moment).isocalendar()
    return f"audit-{iso.year}-W{iso.week:02d}"


@dataclass(frozen=True)
class AuditRecord:
    """One stored audit."""

    audit_id: str
    week: str
    rev: str
    created_at: datetime
    previous: str | None
    finding_count: int
    status: str | None = None
    report: str | None = None


@dataclass(frozen=True)
class StoredAudit:
    """One stored audit as a fleet run reads it back: its record, the comparison with the
    audit before it, the severity labels of its findings and its weekly figures."""

    record: AuditRecord
    new: int
    still_open: int
    resolved: int
    severities: tuple[str, ...]
    metrics: tuple[WeekMetrics, ...]


# -- findings as JSON -----------------------------------------------------------------------
# A stored finding is the JSON report's own form of it (``render.json.finding_json``): one
# serialisation, times in UTC with ``Z``. Payloads written before that (times with
# ``+00:00``, changes and facts as pairs) still read.
def finding_to_json(finding: Finding) -> str:
    return json.dumps(finding_json(finding), sort_keys=True)


def _pair(item: Any, first: str, second: str) -> tuple[Any, Any]:
    if isinstance(item, dict):
        return item[first], item[second]
    one, two = item
    return one, two


def finding_from_json(text: str) -> Finding:
    """The finding a payload holds. Raises ``ValueError`` (or ``KeyError``/``TypeError``)
    on a payload that is not one."""
    data: dict[str, Any] = json.loads(text)

    def when(value: str | None) -> datetime | None:
        return to_utc(datetime.fromisoformat(value)) if value else None

    changes = (_pair(c, "commit", "kind") for c in data.get("changes", ()))
    facts = (_pair(f, "label", "value") for f in data.get("facts", ()))
    return Finding(
        rule=RuleId(str(data["rule"])),
        name=str(data["name"]),
        severity=Severity[str(data["severity"]).upper()],
        confidence=Confidence[str(data["confidence"]).upper()],
        title=str(data["title"]),
        detail=str(data["detail"]),
        revision=data.get("revision"),
        path=data.get("path"),
        line=data.get("line"),
        commits=tuple(data.get("commits", ())),
        changes=tuple(ChangeRef(str(c), ChangeKind(k)) for c, k in changes),
        merges=tuple(data.get("merges", ())),
        deploys=tuple(data.get("deploys", ())),
        start=when(data.get("start")),
        end=when(data.get("end")),
        environment=data.get("environment"),
        facts=tuple((str(k), str(v)) for k, v in facts),
    )


def _stored_finding(row: sa.Row[Any]) -> Finding:
    """A stored finding; a payload that no longer reads (edited by hand) falls back to the
    columns, so that one bad row never stops an audit."""
    try:
        return finding_from_json(row.payload)
    except (ValueError, KeyError, TypeError):
        severity = Severity.__members__.get(str(row.severity).upper(), Severity.INFO)
        return Finding(
            rule=row.rule,
            name="",
            severity=severity,
            confidence=Confidence.LOW,
            title=row.title,
            detail="",
            revision=row.revision,
            path=row.path,
        )


# -- the store ------------------------------------------------------------------------------
def _url(text: str) -> URL:
    """A plain path is a SQLite file; ``postgresql://`` means psycopg (the driver we ship)."""
    raw = text if "://" in text else f"sqlite:///{Path(text).expanduser().resolve()}"
    return database_url(
        raw,
        f"--store {text!r} is not a database URL: use a file path such as "
        "reports/forensics.db, sqlite:///FILE or postgresql://USER@HOST/DATABASE",
    )


class FindingsStore:
    """An open findings store. Use ``FindingsStore.open(url)``; close it (or use ``with``)."""

    def __init__(self, engine: Engine, shown: str) -> None:
        self.engine = engine
        self.shown = shown  # the URL with its password hidden, for messages

    @classmethod
    def open(cls, url: str = DEFAULT_STORE) -> FindingsStore:
        """Open (create, upgrade) the store. Raises ``InputError`` with a one-line message
        when it cannot be reached or was written by a newer schema."""
        parsed = _url(url)
        shown = redact(parsed.render_as_string(hide_password=True))
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                try:
                    Path(database).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise InputError(
                        f"cannot create the folder of the findings store {shown} "
                        f"({exc.strerror}): pass --store with a writable location"
                    ) from None
        try:
            engine = sa.create_engine(parsed, **_engine_options(backend))
        except (NoSuchModuleError, ArgumentError, ImportError) as exc:
            raise InputError(
                f"cannot use {shown} as the findings store ({_first_line(exc)}): use a "
                "sqlite:/// or postgresql:// URL"
            ) from None
        if backend == "sqlite":
            _serialise_sqlite(engine)
        store = cls(engine, shown)
        try:
            store._upgrade()
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> FindingsStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One transaction holding the store's write lock from its first statement."""
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
                yield conn
        except SQLAlchemyError as exc:
            raise InputError(
                f"cannot use the findings store {self.shown} ({_first_line(exc)}): check that "
                "the database is reachable and writable, or pass another --store"
            ) from None

    def _upgrade(self) -> None:
        with self._transaction() as conn:
            current: set[str] = set()
            if sa.inspect(conn).has_table(VERSION_TABLE):
                rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
                current = {str(r[0]) for r in rows}
            if current == {SCHEMA_HEAD}:
                return
            from alembic import command
            from alembic.config import Config
            from alembic.script import ScriptDirectory

            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            script = ScriptDirectory.from_config(config)
            unknown = sorted(current - {rev.revision for rev in script.walk_revisions()})
            if unknown:
                raise InputError(
                    f"the findings store {self.shown} was written by a newer forensics (schema "
                    f"{', '.join(unknown)}): upgrade forensics, or pass --store with another "
                    "store"
                )
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    # -- audits -----------------------------------------------------------------------------
    def record_audit(
        self,
        repo_key: str,
        audit_id: str,
        rev: str,
        created_at: datetime,
        findings: Sequence[Finding],
        publish: Callable[[AuditDiff], object] | None = None,
        *,
        metrics: Sequence[WeekMetrics] = (),
        status: IncidentStatus | None = None,
        report: str | None = None,
    ) -> AuditDiff:
        """Store this audit's findings (replacing an earlier run with the same id) and
        compare them with the previous audit of the repository, in one transaction.

        ``publish(diff)`` writes the reports; it runs inside the transaction, before the
        commit, so an audit is stored only once its reports exist: when it raises (an
        unwritable folder, Ctrl-C), nothing is stored and the next run reports the same
        findings as new again."""
        created_at = to_utc(created_at)
        week = _week(audit_id, created_at)
        with self._transaction() as conn:
            previous, before = self._previous(conn, repo_key, week)
            previous_id = previous.audit_id if previous else None
            self._delete(conn, repo_key, audit_id)
            audit_pk = _insert(
                conn,
                sa.insert(_audits).values(
                    repo_key=repo_key,
                    audit_id=audit_id,
                    week=week,
                    rev=rev,
                    created_at=created_at,
                    previous=previous_id,
                    finding_count=len(findings),
                    status=status.value if status is not None else None,
                    report=report,
                ),
            )
            if metrics:
                conn.execute(
                    sa.insert(_metrics), _metric_rows(audit_pk, repo_key, audit_id, metrics)
                )
            if findings:
                conn.execute(sa.insert(_findings), _finding_rows(audit_pk, findings))
            diff = compare(audit_id, previous_id, before, findings)
            if publish is not None:
                publish(diff)
        return diff

    @staticmethod
    def _previous(conn: Connection, repo_key: str, week: str) -> tuple[Any, dict[str, Finding]]:
        """The audit a new audit of ``week`` compares with, and its findings by fingerprint."""
        previous = conn.execute(
            sa.select(_audits.c.id, _audits.c.audit_id)
            .where(_audits.c.repo_key == repo_key, _audits.c.week <= week)
            .order_by(_audits.c.week.desc(), _audits.c.created_at.desc(), _audits.c.id.desc())
            .limit(1)
        ).first()
        before: dict[str, Finding] = {}
        if previous is not None:
            rows = conn.execute(
                sa.select(_findings)
                .where(_findings.c.audit_pk == previous.id)
                .order_by(_findings.c.position)
            )
            for row in rows:
                before.setdefault(row.fingerprint, _stored_finding(row))
        return previous, before

    def previous_audit(
        self, repo_key: str, audit_id: str, created_at: datetime
    ) -> tuple[str | None, dict[str, Finding]]:
        """What ``record_audit`` would compare an audit ``audit_id`` with: the previous
        audit's id and its findings by fingerprint. A fleet run reads it here, before its
        tasks run, so that a task can write its reports without writing to the store."""
        with self._transaction() as conn:
            previous, before = self._previous(conn, repo_key, _week(audit_id, to_utc(created_at)))
        return (previous.audit_id if previous else None), before

    @staticmethod
    def _delete(conn: Connection, repo_key: str, audit_id: str) -> None:
        ids = sa.select(_audits.c.id).where(
            _audits.c.repo_key == repo_key, _audits.c.audit_id == audit_id
        )
        conn.execute(sa.delete(_findings).where(_findings.c.audit_pk.in_(ids)))
        conn.execute(sa.delete(_metrics).where(_metrics.c.audit_pk.in_(ids)))
        conn.execute(
            sa.delete(_audits).where(_audits.c.repo_key == repo_key, _audits.c.audit_id == audit_id)
        )

    def audits(self, repo_key: str) -> list[AuditRecord]:
        """The stored audits of a repository, oldest week first."""
        with self._transaction() as conn:
            rows = conn.execute(
                sa.select(_audits)
                .where(_audits.c.repo_key == repo_key)
                .order_by(_audits.c.week, _audits.c.created_at, _audits.c.id)
            ).all()
        return [_record(r) for r in rows]

    def stored_audit(self, repo_key: str, audit_id: str) -> StoredAudit | None:
        """The audit ``audit_id`` of a repository as stored, compared with the audit it
        named as previous; ``None`` when there is none."""
        with self._transaction() as conn:
            row = conn.execute(
                sa.select(_audits).where(
                    _audits.c.repo_key == repo_key, _audits.c.audit_id == audit_id
                )
            ).first()
            if row is None:
                return None

            def prints(audit: str | None) -> list[tuple[str, str]]:
                if audit is None:
                    return []
                found = conn.execute(
                    sa.select(_findings.c.fingerprint, _findings.c.severity)
                    .join(_audits, _audits.c.id == _findings.c.audit_pk)
                    .where(_audits.c.repo_key == repo_key, _audits.c.audit_id == audit)
                    .order_by(_findings.c.position)
                ).all()
                return [(str(f[0]), str(f[1])) for f in found]

            current = prints(audit_id)
            before = {fp for fp, _severity in prints(row.previous)}
            now = {fp for fp, _severity in current}
            figures: dict[str, dict[str, float | None]] = {}
            for metric in conn.execute(
                sa.select(_metrics.c.week, _metrics.c.metric, _metrics.c.value)
                .where(_metrics.c.audit_pk == row.id)
                .order_by(_metrics.c.week, _metrics.c.id)
            ):
                figures.setdefault(metric.week, {})[metric.metric] = metric.value
        record = _record(row)
        return StoredAudit(
            record=record,
            new=len(now - before),
            still_open=len(now & before),
            resolved=len(before - now),
            severities=tuple(severity for _fp, severity in current),
            metrics=tuple(from_figures(week, values) for week, values in figures.items()),
        )

    def findings(self, repo_key: str, audit_id: str) -> list[Finding]:
        """The findings stored for one audit, in the order they were recorded."""
        with self._transaction() as conn:
            rows = conn.execute(
                sa.select(_findings)
                .join(_audits, _audits.c.id == _findings.c.audit_pk)
                .where(_audits.c.repo_key == repo_key, _audits.c.audit_id == audit_id)
                .order_by(_findings.c.position)
            ).all()
        return [_stored_finding(r) for r in rows]


def _insert(conn: Connection, statement: sa.Insert) -> int:
    """Run a one-row insert; the primary key of the new row."""
    inserted = conn.execute(statement).inserted_primary_key
    assert inserted is not None
    return int(inserted[0])


def _metric_rows(
    audit_pk: int, repo_key: str, audit_id: str, metrics: Sequence[WeekMetrics]
) -> list[dict[str, Any]]:
    """The ``metrics`` rows of one audit: one per week and figure."""
    return [
        {
            "audit_pk": audit_pk,
            "repo_key": repo_key,
            "audit_id": audit_id,
            "week": row.week,
            "metric": name,
            "value": value,
        }
        for row in metrics
        for name, value in row.figures().items()
    ]


def _finding_rows(audit_pk: int, findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The ``findings`` rows of one audit, in the order they were found."""
    return [
        {
            "audit_pk": audit_pk,
            "position": i,
            "fingerprint": f.fingerprint,
            "rule": f.rule,
            "severity": f.severity.label,
            "title": f.title,
            "revision": f.revision,
            "path": f.path,
            "payload": finding_to_json(f),
        }
        for i, f in enumerate(findings)
    ]


def compare(
    audit_id: str, previous: str | None, before: dict[str, Finding], findings: Sequence[Finding]
) -> AuditDiff:
    """An audit's findings against the previous audit's (``before``, by fingerprint)."""
    current = list(dict.fromkeys(f.fingerprint for f in findings))
    now = set(current)
    resolved = tuple(fp for fp in before if fp not in now)
    return AuditDiff(
        audit_id=audit_id,
        previous=previous,
        new=tuple(fp for fp in current if fp not in before),
        still_open=tuple(fp for fp in current if fp in before),
        resolved=resolved,
        resolved_findings=tuple(before[fp] for fp in resolved),
    )


def _week(audit_id: str, created_at: datetime) -> str:
    """``2025-W46`` from the audit id, else from ``created_at``; orders audits by week."""
    match = _WEEK.search(audit_id)
    if match:
        return f"{match.group(1)}-W{match.group(2)}"
    iso = created_at.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _engine_options(backend: str) -> dict[str, Any]:
    if backend == "sqlite":
        return {"connect_args": {"timeout": _SQLITE_BUSY_SECONDS}}
    if backend == "postgresql":
        return {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}
    return {}


def _serialise_sqlite(engine: Engine) -> None:
    """Take SQLite's write lock when a transaction begins (``BEGIN IMMEDIATE``), not at its
    first write: two audits that both read first would otherwise deadlock on the upgrade
    from a shared to a write lock. pysqlite's own implicit BEGIN is switched off for this."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _first_line(exc: BaseException) -> str:
    """The driver's own message, on one line and without credentials."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip() or type(inner).__name__
    return redact(text.splitlines()[0])


def _record(row: Any) -> AuditRecord:
    """An ``audits`` row as the model's record."""
    return AuditRecord(
        audit_id=row.audit_id,
        week=row.week,
        rev=row.rev,
        created_at=to_utc(row.created_at),
        previous=row.previous,
        finding_count=row.finding_count,
        status=row.status,
        report=row.report,
    )
