"""Small Alembic projects broken in each way a deploy can break, run for real.

``run_case`` writes the project into a folder, prepares the database as the case says and
runs ``alembic upgrade head`` in a child process (the way a deploy's pre-deploy command
does). ``normalise`` turns the output into a fixture: the project folder, the interpreter's
library folder and the server's port are replaced by fixed stand-ins, so that the saved text
names no machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from forensics.model.deploys import FailureClass

APP = "/srv/app"
SITE = "/opt/venv/lib/python3/site-packages"

ENV_PY = """\
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
fileConfig(config.config_file_name)
engine = engine_from_config(
    config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool
)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""

INI = """\
[alembic]
script_location = migrations
sqlalchemy.url = {url}

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console
qualname =

[logger_sqlalchemy]
level = WARN
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""


def migration(revision: str, down: str | None, body: str = "pass", head: str = "") -> str:
    return (
        f'"""step {revision}"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n"
        f"{head}\n"
        f"revision = {revision!r}\ndown_revision = {down!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade():\n    {body}\n\n\ndef downgrade():\n    pass\n"
    )


CREATE_T1 = "op.create_table('t1', sa.Column('id', sa.Integer, primary_key=True))"


@dataclass(frozen=True)
class Case:
    """One broken project. ``files`` maps versions-folder file names to their text; ``setup``
    holds SQL run before the upgrade; ``url_options`` is appended to the database URL."""

    name: str
    engine: str
    expected: FailureClass
    files: dict[str, str]
    setup: tuple[str, ...] = ()
    url_options: str = ""
    hold: str | None = None
    subject: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


BASE = {"a1_base.py": migration("a1", None, CREATE_T1)}
F = FailureClass

CASES: tuple[Case, ...] = (
    Case(
        "multiple-heads",
        "sqlite",
        F.MULTIPLE_HEADS,
        {
            **BASE,
            "b1_left.py": migration("b1", "a1"),
            "b2_right.py": migration("b2", "a1"),
        },
    ),
    Case(
        "missing-parent",
        "sqlite",
        F.UNKNOWN_REVISION,
        {**BASE, "b1_orphan.py": migration("b1", "774225e563ca")},
        subject="774225e563ca",
    ),
    Case(
        "database-at-removed-revision",
        "sqlite",
        F.UNKNOWN_REVISION,
        dict(BASE),
        setup=(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
            "INSERT INTO alembic_version VALUES ('91614ff3fbf6')",
        ),
        subject="91614ff3fbf6",
    ),
    Case(
        "overlapping-revisions",
        "sqlite",
        F.OVERLAPPING_REVISIONS,
        {**BASE, "b1_next.py": migration("b1", "a1")},
        setup=(
            "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
            "INSERT INTO alembic_version VALUES ('a1')",
            "INSERT INTO alembic_version VALUES ('b1')",
        ),
    ),
    Case(
        "syntax-error",
        "sqlite",
        F.MIGRATION_IMPORT_ERROR,
        {**BASE, "b1_broken.py": migration("b1", "a1", "op.add_column('t1', sa.Column('x',)")},
        subject="b1_broken.py",
    ),
    Case(
        "no-revision-variable",
        "sqlite",
        F.MIGRATION_IMPORT_ERROR,
        {**BASE, "b1_norev.py": migration("b1", "a1").replace("revision = 'b1'\n", "")},
        subject="b1_norev.py",
    ),
    Case(
        "import-error",
        "sqlite",
        F.MIGRATION_IMPORT_ERROR,
        {**BASE, "b1_import.py": migration("b1", "a1", head="from app.models import Deal")},
        subject="b1_import.py",
    ),
    Case(
        "table-exists-sqlite",
        "sqlite",
        F.OBJECT_EXISTS,
        dict(BASE),
        setup=("CREATE TABLE t1 (id INTEGER)",),
        subject="t1",
    ),
    Case(
        "table-missing-sqlite",
        "sqlite",
        F.OBJECT_MISSING,
        {**BASE, "b1_drop.py": migration("b1", "a1", "op.drop_table('documents')")},
        subject="documents",
    ),
    Case(
        "table-exists-postgres",
        "postgres",
        F.OBJECT_EXISTS,
        dict(BASE),
        setup=("CREATE TABLE t1 (id integer)",),
        subject="t1",
    ),
    Case(
        "column-exists-postgres",
        "postgres",
        F.OBJECT_EXISTS,
        {
            **BASE,
            "b1_col.py": migration("b1", "a1", "op.add_column('t1', sa.Column('id', sa.Integer))"),
        },
        subject="id",
    ),
    Case(
        "type-exists-postgres",
        "postgres",
        F.OBJECT_EXISTS,
        {
            **BASE,
            "b1_type.py": migration("b1", "a1", "op.execute(\"CREATE TYPE mood AS ENUM ('ok')\")"),
        },
        setup=("CREATE TYPE mood AS ENUM ('ok')",),
        subject="mood",
    ),
    Case(
        "index-exists-postgres",
        "postgres",
        F.OBJECT_EXISTS,
        {**BASE, "b1_index.py": migration("b1", "a1", "op.create_index('ix_t1_id', 't1', ['id'])")},
        setup=("CREATE TABLE other (id integer)", "CREATE INDEX ix_t1_id ON other (id)"),
        subject="ix_t1_id",
    ),
    Case(
        "table-missing-postgres",
        "postgres",
        F.OBJECT_MISSING,
        {**BASE, "b1_drop.py": migration("b1", "a1", "op.drop_table('documents')")},
        subject="documents",
    ),
    Case(
        "column-missing-postgres",
        "postgres",
        F.OBJECT_MISSING,
        {**BASE, "b1_col.py": migration("b1", "a1", "op.drop_column('t1', 'legacy')")},
        subject="legacy",
    ),
    Case(
        "constraint-missing-postgres",
        "postgres",
        F.OBJECT_MISSING,
        {
            **BASE,
            "b1_fk.py": migration("b1", "a1", "op.drop_constraint('fk_t1_owner', 't1')"),
        },
        subject="fk_t1_owner",
    ),
    Case(
        "lock-timeout-postgres",
        "postgres",
        F.LOCK_TIMEOUT,
        {
            **BASE,
            "b1_col.py": migration("b1", "a1", "op.add_column('t1', sa.Column('x', sa.Integer))"),
        },
        setup=(
            "CREATE TABLE t1 (id integer)",
            "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)",
            "INSERT INTO alembic_version VALUES ('a1')",
        ),
        url_options="?options=-c%20lock_timeout%3D300",
        hold="LOCK TABLE t1 IN ACCESS EXCLUSIVE MODE",
    ),
    Case(
        "statement-timeout-postgres",
        "postgres",
        F.LOCK_TIMEOUT,
        {**BASE, "b1_slow.py": migration("b1", "a1", "op.execute('SELECT pg_sleep(5)')")},
        url_options="?options=-c%20statement_timeout%3D200",
    ),
    Case(
        "connection-refused-postgres",
        "refused",
        F.CONNECTION_FAILED,
        dict(BASE),
    ),
    Case(
        "unknown-role-postgres",
        "postgres-role",
        F.CONNECTION_FAILED,
        dict(BASE),
    ),
)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def database_url(case: Case, folder: Path, postgres_url: Callable[[], str]) -> str:
    if case.engine == "sqlite":
        return f"sqlite:///{folder / 'app.db'}"
    if case.engine == "refused":
        return f"postgresql+psycopg://app@127.0.0.1:{_free_port()}/app"
    url = postgres_url()
    if case.engine == "postgres-role":
        return url.replace("://postgres@", "://deployer@")
    return url + case.url_options


def _execute(url: str, statements: tuple[str, ...]) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.split("?", 1)[0])
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def run_case(case: Case, folder: Path, postgres_url: Callable[[], str]) -> str:
    """The combined output of ``alembic upgrade head`` on the broken project."""
    versions = folder / "migrations" / "versions"
    versions.mkdir(parents=True)
    (folder / "migrations" / "env.py").write_text(ENV_PY)
    (folder / "migrations" / "script.py.mako").write_text("")
    for name, text in case.files.items():
        (versions / name).write_text(text)
    url = database_url(case, folder, postgres_url)
    (folder / "alembic.ini").write_text(INI.format(url=url.replace("%", "%%")))
    if case.setup:
        _execute(url, case.setup)
    holder = None
    if case.hold:
        from sqlalchemy import create_engine, text

        holder = create_engine(url.split("?", 1)[0]).connect()
        holder.begin()
        holder.execute(text(case.hold))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "100"},
        )
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()
    return normalise(done.stdout, folder)


def normalise(output: str, folder: Path) -> str:
    """The output with machine-specific paths and ports replaced."""
    for prefix in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        output = output.replace(prefix, SITE)
    output = output.replace(str(folder.resolve()), APP).replace(str(folder), APP)
    output = output.replace(sys.prefix, "/opt/venv").replace(sys.base_prefix, "/usr")
    output = re.sub(r"127\.0\.0\.1\", port \d+", '127.0.0.1", port 5432', output)
    output = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:5432", output)
    output = re.sub(r"/tmp/[^\s\"']+", "/tmp/x", output)
    return output
