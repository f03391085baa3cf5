"""The database probe against real SQLite files and a real PostgreSQL server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

from forensics.errors import InputError
from forensics.sources.database import probe


def seed(
    url: str, revisions: tuple[str, ...], tables: tuple[str, ...] = ("users", "orders")
) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        for rev in revisions:
            conn.execute(sa.text("INSERT INTO alembic_version VALUES (:r)"), {"r": rev})
        for table in tables:
            conn.execute(sa.text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)"))
    engine.dispose()


def fingerprint(url: str) -> list[tuple[str, ...]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT version_num FROM alembic_version ORDER BY 1")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_sqlite_one_row(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'prod.db'}"
    seed(url, ("91614ff3fbf6",))
    state = probe(url)
    assert state.revisions == ("91614ff3fbf6",)
    assert state.tables == ("alembic_version", "orders", "users")
    assert state.url_redacted == url


def test_sqlite_several_heads_and_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "prod.db"
    url = f"sqlite:///{path}"
    seed(url, ("bbb", "aaa"))
    before = (path.read_bytes(), fingerprint(url))
    assert probe(url).revisions == ("aaa", "bbb")
    assert (path.read_bytes(), fingerprint(url)) == before
    assert not (tmp_path / "prod.db-journal").exists()


def test_sqlite_missing_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(InputError, match="does not exist"):
        probe(f"sqlite:///{path}")
    assert not path.exists()


def test_sqlite_without_alembic_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE users (id INTEGER)"))
    engine.dispose()
    with pytest.raises(InputError, match="has no alembic_version table") as err:
        probe(url)
    assert "\n" not in err.value.message


def test_not_a_url() -> None:
    with pytest.raises(InputError, match="not a database URL"):
        probe("definitely not a url")


def test_unreachable_postgres_names_no_credentials() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://admin:hunter2-PASSWORD@127.0.0.1:{port}/prod"
    with pytest.raises(InputError) as err:
        probe(url)
    message = err.value.message
    assert "cannot read the database" in message and "\n" not in message
    assert "hunter2-PASSWORD" not in message and "admin:" not in message


@pytest.mark.postgres
def test_postgres_reads_versions_and_tables_read_only(postgres_url: str) -> None:
    seed(postgres_url, ("774225e563ca", "91614ff3fbf6"), ("deals", "users"))
    state = probe(postgres_url)
    assert state.revisions == ("774225e563ca", "91614ff3fbf6")
    assert state.tables == ("alembic_version", "deals", "users")
    assert fingerprint(postgres_url) == [("774225e563ca",), ("91614ff3fbf6",)]


@pytest.mark.postgres
def test_postgres_plain_scheme_and_password_redacted(postgres_url: str) -> None:
    seed(postgres_url, ("abc",))
    plain = postgres_url.replace(
        "postgresql+psycopg://postgres@", "postgresql://postgres:s3cr3t-pw@"
    )
    state = probe(plain)
    assert state.revisions == ("abc",)
    assert "s3cr3t-pw" not in state.url_redacted


@pytest.mark.postgres
def test_postgres_without_alembic_version(postgres_url: str) -> None:
    with pytest.raises(InputError, match="has no alembic_version table"):
        probe(postgres_url)


@pytest.mark.postgres
def test_postgres_unknown_database(postgres_url: str) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(InputError, match="cannot read the database") as err:
        probe(missing)
    assert "\n" not in err.value.message
