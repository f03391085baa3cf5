"""The production database probe (``--db-url``): which revisions ``alembic_version`` holds
and which tables exist. Read-only: a read-only transaction on PostgreSQL, a read-only
connection on SQLite, no statement that writes, and a rollback at the end.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from forensics.errors import InputError, redact, register_secret
from forensics.model.text import clean

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
CONNECT_TIMEOUT = 10


@dataclass(frozen=True)
class DatabaseState:
    """What the production database says: its Alembic revisions and its tables."""

    revisions: tuple[str, ...]
    tables: tuple[str, ...]
    url_redacted: str


def database_url(text: str, not_a_url: str) -> URL:
    """``text`` as a SQLAlchemy URL, its password registered as a secret, PostgreSQL through
    psycopg. ``not_a_url`` is the one-line error when it is no URL at all."""
    try:
        parts = urllib.parse.urlsplit(text)
        url = make_url(text)
        if "@" in parts.netloc.rpartition("@")[0]:
            # SQLAlchemy ends the password at its first "@", urllib the user part at the
            # last one, which is right: "p@ss@host" is the password "p@ss" at "host".
            url = url.set(
                username=urllib.parse.unquote(parts.username or ""),
                password=urllib.parse.unquote(parts.password or ""),
                host=parts.hostname,
                port=parts.port,
            )
    except ArgumentError:
        raise InputError(not_a_url) from None
    except ValueError:  # a port that is not a number
        raise InputError(f"{not_a_url} (the port must be a number up to 65535)") from None
    register_secret(url.password if isinstance(url.password, str) else None)
    if url.drivername in ("postgresql", "postgres"):
        # psycopg (version 3) is the driver we ship; SQLAlchemy's default is psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return url


def _url(db_url: str) -> URL:
    url = database_url(
        db_url,
        f"--db-url {redact(db_url)!r} is not a database URL: write it as "
        "postgresql://USER@HOST/DB or sqlite:///PATH",
    )
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = url.database or ""
        if not path.startswith("file:"):
            if not Path(path).is_file():
                raise InputError(f"the SQLite database {path} does not exist: check --db-url")
            path = f"file:{urllib.parse.quote(path)}"
        url = url.set(database=path, query={**url.query, "mode": "ro", "uri": "true"})
    return url


def _connect_args(url: URL) -> dict[str, object]:
    if url.get_backend_name() == "postgresql":
        return {"connect_timeout": CONNECT_TIMEOUT}
    if url.get_backend_name() == "sqlite":
        return {"timeout": CONNECT_TIMEOUT}
    return {}


def _read_only(conn: Connection) -> None:
    backend = conn.dialect.name
    if backend == "postgresql":
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
    elif backend == "sqlite":
        conn.execute(sa.text("PRAGMA query_only = ON"))
    elif backend in ("mysql", "mariadb"):
        conn.execute(sa.text("SET SESSION TRANSACTION READ ONLY"))


def _reason(exc: BaseException) -> str:
    origin = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(origin).splitlines() if line.strip()]
    return redact(lines[0][:200]) if lines else type(origin).__name__


def probe(db_url: str, version_table: str = "alembic_version") -> DatabaseState:
    """The revisions in ``version_table`` (one row, or several for several heads) and the
    tables of the default schema."""
    if not _IDENTIFIER.match(version_table):
        raise InputError(f"{version_table!r} is not a table name: use alembic_version")
    schema, _, table = version_table.rpartition(".")
    url = _url(db_url)
    shown = redact(db_url)
    try:
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=_connect_args(url))
    except (NoSuchModuleError, ImportError, ArgumentError) as exc:
        raise InputError(
            f"cannot use the database URL {shown} ({_reason(exc)}): use a postgresql:// or "
            "sqlite:/// URL"
        ) from None
    try:
        with engine.connect() as conn:
            _read_only(conn)
            inspector = sa.inspect(conn)
            tables = tuple(sorted(clean(t) for t in inspector.get_table_names()))
            present = tables if not schema else tuple(inspector.get_table_names(schema=schema))
            if table not in present:
                raise InputError(
                    f"the database at {shown} has no {version_table} table: is it the "
                    "production database, managed by Alembic? Use --prod-revision otherwise"
                )
            target = sa.table(table, sa.column("version_num"), schema=schema or None)
            rows = conn.execute(sa.select(target.c.version_num)).scalars().all()
            conn.rollback()
    except SQLAlchemyError as exc:
        raise InputError(
            f"cannot read the database at {shown} ({_reason(exc)}): check that it is "
            "reachable and that --db-url is right"
        ) from None
    finally:
        engine.dispose()
    found = (clean(str(r)).strip() for r in rows if r is not None)
    revisions = tuple(sorted({r for r in found if r}))
    return DatabaseState(revisions=revisions, tables=tables, url_redacted=shown)
